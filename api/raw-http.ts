/**
 * Keep-alive connections whose requests are all `POST /get-online-features` are answered
 * without node:http: the serving hot path's request and response objects, stream events and
 * header handling cost more CPU than the request itself takes to parse (docs/benchmarks.md,
 * "Server CPU per request: connections without node:http"). A connection starts here; each
 * request on it of the one plain shape below is answered by the fast path (`FastPath.raw`:
 * the same parser, read, JSON writer, errors, metrics and `Server-Timing` as its node:http
 * form) with the header lines node:http would write; one whose body is still arriving is
 * waited for (up to 64 KB in all). At the first request that is anything else — another
 * method, URL or HTTP version; a header this reader does not accept (Transfer-Encoding,
 * Expect, a Connection other than keep-alive, a repeated one, a control character or tab, no
 * Host); a larger request not yet whole; a request the fast path leaves to fastify — the
 * connection and its unread bytes go to node:http (and so to fastify), for the rest of its
 * life, as if it had read them itself. So this reader only ever answers requests node:http
 * would parse the same way, and never rejects one.
 *
 * Like node:http: an idle connection closes after the server's keep-alive timeout; the
 * server's `close` (and `closeIdleConnections` / `closeAllConnections`) closes idle ones and
 * the rest after their answer.
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastPath, RawRequest } from './routes/online-features-fast-path.ts';

const REQUEST_LINE = 'POST /get-online-features HTTP/1.1';
const CRLF2 = Buffer.from('\r\n\r\n');
/** A head longer than this goes to node:http (its limit, 16 KB, applies there). */
const MAX_HEAD = 4096;
/** A request (head and body) longer than this is waited for by node:http, not here. */
const MAX_WAIT = 64 * 1024;
const JSON_TYPE = 'application/json';
/** Payloads shorter than this (characters) go out in one string with their head. */
const ONE_WRITE = 16 * 1024;
const JSON_UTF8 = 'application/json; charset=utf-8';
/**
 * A header line taken here: a token name, a colon, the value between optional spaces, no
 * control character (a bare CR or LF, a tab, obsolete line folding: node:http's to judge).
 */
// eslint-disable-next-line no-control-regex
const HEADER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+): *([^\x00-\x1f\x7f]*?) *$/;

/** node:http's Date header value, computed once a second. */
let dateSecond = -1;
let dateValue = '';
const utcDate = (): string => {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(second * 1000).toUTCString();
  }
  return dateValue;
};

/**
 * One parsed request; null: node:http's; `more`: of the shape taken here, its body not all
 * read yet.
 */
function parseRequest(
  buf: Buffer,
  headEnd: number,
): (RawRequest & { end: number }) | null | 'more' {
  if (headEnd > MAX_HEAD) return null;
  const lines = buf.toString('latin1', 0, headEnd).split('\r\n');
  if (lines[0] !== REQUEST_LINE) return null;
  let contentType: string | undefined;
  let length: string | undefined;
  let host = false;
  let authorization: string | undefined;
  let apiKey: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const m = HEADER.exec(lines[i]!);
    if (m === null) return null;
    const name = m[1]!;
    const value = m[2]!;
    switch (name.toLowerCase()) {
      case 'content-type':
        if (contentType !== undefined) return null;
        contentType = value;
        break;
      case 'content-length':
        if (length !== undefined || !/^\d{1,9}$/.test(value)) return null;
        length = value;
        break;
      case 'host':
        if (host) return null;
        host = true;
        break;
      case 'authorization':
        if (authorization !== undefined) return null;
        authorization = value;
        break;
      case 'x-api-key':
        if (apiKey !== undefined) return null;
        apiKey = value;
        break;
      case 'connection':
        // keep-alive is HTTP/1.1's default; anything else (close, upgrade) is node:http's
        if (value.toLowerCase() !== 'keep-alive') return null;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
      case 'proxy-connection':
      case 'keep-alive':
        return null;
      default:
    }
  }
  if (!host || length === undefined) return null;
  if (contentType !== JSON_TYPE && contentType !== JSON_UTF8) return null;
  const n = Number(length);
  const end = headEnd + 4 + n;
  if (end > buf.length) return end <= MAX_WAIT ? 'more' : null;
  return {
    contentType,
    authorization,
    apiKey,
    length: n,
    body: buf.toString('utf8', headEnd + 4, end),
    end,
  };
}

/**
 * Takes the `connection` events of `server` (a node:http server): connections start here and
 * go to node:http's own listener at their first request the fast path does not answer.
 * `fastPath` is read per request (null: every connection goes to node:http).
 */
export function answerRawConnections(server: Server, fastPath: () => FastPath | null): void {
  const httpListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  /** Connections held here, and whether each is answering a request now. */
  const held = new Map<Socket, { busy: boolean }>();
  let closing = false;

  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    closing = true;
    closeIdle();
    for (const [socket, state] of held) if (!state.busy) socket.destroy();
  };
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closing = true;
    closeAll();
    for (const socket of held.keys()) socket.destroy();
  };

  server.on('connection', (socket: Socket) => {
    const state = { busy: false };
    held.set(socket, state);
    /** Bytes read and not yet answered (a request split between reads, or pipelined). */
    let pending: Buffer | null = null;
    const keepAlive = `Keep-Alive: timeout=${Math.floor(server.keepAliveTimeout / 1000)}\r\n`;

    const toHttp = (): void => {
      held.delete(socket);
      socket.removeListener('data', onData);
      socket.removeListener('timeout', onTimeout);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      socket.setTimeout(0);
      socket.pause();
      if (pending !== null && pending.length > 0) socket.unshift(pending);
      pending = null;
      // node:http reads the socket through its 'data' events (not from the handle directly,
      // which would take bytes arriving now ahead of those unshifted above).
      const handle = (socket as unknown as { _handle?: { _consumed?: boolean } })._handle;
      if (handle) handle._consumed = true;
      for (const l of httpListeners) l.call(server, socket);
      socket.resume();
    };

    const next = (): void => {
      if (state.busy) return;
      if (pending === null || pending.length === 0) {
        pending = null;
        return;
      }
      const buf = pending;
      const headEnd = buf.indexOf(CRLF2);
      if (headEnd < 0) {
        if (buf.length > MAX_HEAD) toHttp();
        return; // the rest of the head is still to come
      }
      const fast = fastPath();
      const request = fast && !closing ? parseRequest(buf, headEnd) : null;
      if (request === 'more') return; // the rest of the body is still to come
      if (request === null) return toHttp();
      // What follows this request (a pipelined one), read after its answer.
      pending = request.end === buf.length ? null : buf.subarray(request.end);
      state.busy = true;
      const taken = fast!.raw(request, (status, lines, payload, close) => {
        if (socket.destroyed || status === 0) {
          state.busy = false;
          socket.destroy();
          return;
        }
        const last = close || closing;
        const head =
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines}Date: ${utcDate()}\r\n` +
          (close ? '' : last ? 'Connection: close\r\n' : `Connection: keep-alive\r\n${keepAlive}`) +
          '\r\n';
        let flushed: boolean;
        if (typeof payload === 'string' && payload.length < ONE_WRITE)
          flushed = socket.write(head + payload);
        else {
          // A large payload is not copied into one string with its head: both in one writev.
          socket.cork();
          socket.write(head);
          flushed = socket.write(payload);
          socket.uncork();
        }
        if (last) {
          held.delete(socket);
          socket.end();
        } else if (flushed) {
          state.busy = false;
          next();
        } else
          socket.once('drain', () => {
            state.busy = false;
            next();
          });
      });
      if (!taken) {
        state.busy = false;
        pending = buf;
        toHttp();
      }
    };

    const onData = (chunk: Buffer): void => {
      pending = pending === null ? chunk : Buffer.concat([pending, chunk]);
      if (!state.busy) next();
    };
    const onTimeout = (): void => {
      if (!state.busy) socket.destroy();
    };
    const onError = (): void => {
      socket.destroy();
    };
    const onClose = (): void => {
      held.delete(socket);
    };
    socket.setNoDelay(true);
    socket.setTimeout(server.keepAliveTimeout);
    socket.on('data', onData);
    socket.on('timeout', onTimeout);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}
