/**
 * The load generator of the HTTP benchmarks (`bench/serve.ts`, `bench/peers/run.ts`): CONCURRENCY
 * keep-alive connections on loopback (raw sockets, see `drive`), each sending its next POST as
 * soon as the previous answer ends, for a fixed duration. Reports client latency quantiles, the server's own time when it sends
 * `Server-Timing: …;dur=MS`, throughput and the number of non-200 answers; with `tagOf`, server-time
 * quantiles per tag too (`bench/serve.ts`: the hottest decile of products and the rest). Run it in
 * its own process (`bench/load-process.ts`) so it does not share the server's cores.
 */
import net from 'node:net';

export interface Stats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Server-Timing quantiles; NaN when the server sends none. */
  sp50: number;
  sp99: number;
  rps: number;
  errors: number;
  requests: number;
}

/** {@link Stats} with Server-Timing quantiles per tag (`LoadOptions.tagOf`). */
export interface TaggedStats extends Stats {
  byTag: Record<string, { sp50: number; sp99: number; requests: number }>;
}

export interface LoadOptions {
  port: number;
  path: string;
  concurrency: number;
  seconds: number;
  /** Body of the i-th request (i counts across all connections). */
  bodyOf: (i: number) => string;
  /** Tag of the i-th request, to report server time per tag. */
  tagOf?: (i: number) => string;
  host?: string;
}

const q = (a: Float64Array, p: number): number =>
  a.length === 0 ? Number.NaN : a[Math.min(a.length - 1, Math.floor(p * a.length))]!;

export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One parsed response: status, Server-Timing duration (NaN when none), whether it closes. */
interface Head {
  status: number;
  serverMs: number;
  close: boolean;
  /** Body bytes after the head: Content-Length, or -1 for a chunked body. */
  length: number;
}

const CRLF2 = Buffer.from('\r\n\r\n');
/** Bytes per socket read (net's `onread` buffer, one per connection). */
const READ_BUFFER = 64 * 1024;

function parseHead(head: string): Head {
  const status = Number(head.slice(9, 12));
  let serverMs = Number.NaN;
  let close = false;
  let length = 0;
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') length = Number(value);
    else if (name === 'transfer-encoding' && /chunked/i.test(value)) length = -1;
    else if (name === 'connection' && /close/i.test(value)) close = true;
    else if (name === 'server-timing') {
      const m = /dur=([\d.]+)/.exec(value);
      if (m) serverMs = Number(m[1]);
    }
  }
  return { status, serverMs, close, length };
}

/** Bytes a chunked body ends at within `buf` from `from`, or -1 while incomplete. */
function chunkedEnd(buf: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return -1;
    const size = parseInt(buf.toString('latin1', at, eol), 16);
    if (Number.isNaN(size)) throw new Error('malformed chunked body');
    if (size === 0) {
      const end = buf.indexOf(CRLF2, eol);
      return end < 0 ? -1 : end + 4;
    }
    at = eol + 2 + size + 2;
    if (at > buf.length) return -1;
  }
}

/**
 * Drives the server: each connection a raw keep-alive socket sending its next request (head and
 * body preformatted, one write) as soon as the previous answer is complete (no pipelining), and
 * reading only the answer's status line and the headers it needs, through net's `onread` (each
 * read lands in one buffer per connection: no readable stream, 'data' event or Buffer per read).
 * Cheaper per request than node:http's client (no request and response objects), so more of a
 * shared machine is left to the server.
 */
export async function drive(o: LoadOptions): Promise<TaggedStats> {
  const host = o.host ?? '127.0.0.1';
  const client: number[] = [];
  const server: number[] = [];
  const tagged = new Map<string, number[]>();
  let errors = 0;
  let i = 0;
  const end = performance.now() + o.seconds * 1000;
  // Request bytes by body text (the benchmarks cycle through a few thousand bodies).
  const encoded = new Map<string, Buffer>();
  const requestOf = (body: string): Buffer => {
    let b = encoded.get(body);
    if (b === undefined) {
      b = Buffer.from(
        `POST ${o.path} HTTP/1.1\r\nHost: ${host}:${o.port}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
      );
      encoded.set(body, b);
    }
    return b;
  };
  const connection = (): Promise<void> =>
    new Promise((done) => {
      let socket: net.Socket;
      // Bytes arrive in `buffer` (net's `onread`: no stream, no Buffer per read), valid only
      // during the callback. Kept across reads: a head split between reads (copied), a
      // chunked body (copied, to find its end); a Content-Length body is only counted.
      const buffer = Buffer.allocUnsafe(READ_BUFFER);
      let pending: Buffer | null = null;
      let head: Head | null = null;
      let remaining = 0;
      let t = 0;
      let tag: string | undefined;
      let finished = false;
      const finish = (): void => {
        finished = true;
        socket.destroy();
        done();
      };
      const next = (): void => {
        if (performance.now() >= end) return finish();
        const n = i++;
        tag = o.tagOf?.(n);
        t = performance.now();
        socket.write(requestOf(o.bodyOf(n)));
      };
      const open = (): void => {
        pending = null;
        head = null;
        t = 0;
        socket = net.connect({
          host,
          port: o.port,
          noDelay: true,
          onread: { buffer, callback: onRead },
        });
        socket.once('connect', next);
        socket.on('error', () => errors++);
        // Closed by the server (Connection: close, a keep-alive timeout) or failed: reconnect.
        socket.on('close', (hadError) => {
          if (finished) return;
          if (performance.now() >= end) {
            finished = true;
            done();
          } else setTimeout(open, hadError ? 10 : 0);
        });
      };
      /** The answer is complete (one request in flight per connection: nothing follows it). */
      const complete = (answered: Head): void => {
        pending = null;
        head = null;
        client.push(performance.now() - t);
        t = 0;
        if (!Number.isNaN(answered.serverMs)) {
          server.push(answered.serverMs);
          if (tag !== undefined) {
            let list = tagged.get(tag);
            if (!list) tagged.set(tag, (list = []));
            list.push(answered.serverMs);
          }
        }
        if (answered.status !== 200) errors++;
        if (answered.close)
          socket.destroy(); // reconnects on 'close'
        else next();
      };
      const onRead = (n: number, buf: Buffer): boolean => {
        if (head === null) {
          const all =
            pending === null ? buf.subarray(0, n) : Buffer.concat([pending, buf.subarray(0, n)]);
          const h = all.indexOf(CRLF2);
          if (h < 0) {
            pending = Buffer.from(all); // a copy: `buffer` is reused by the next read
            return true;
          }
          head = parseHead(all.toString('latin1', 0, h));
          if (head.length >= 0) {
            remaining = head.length - (all.length - (h + 4));
            pending = null;
          } else pending = Buffer.from(all.subarray(h + 4));
        } else if (head.length >= 0) remaining -= n;
        else pending = Buffer.concat([pending!, buf.subarray(0, n)]);
        if (head.length >= 0 ? remaining > 0 : chunkedEnd(pending!, 0) < 0) return true;
        complete(head);
        return true;
      };
      open();
    });
  const start = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, connection));
  const secs = (performance.now() - start) / 1000;
  const c = Float64Array.from(client).sort();
  const s = Float64Array.from(server).sort();
  const byTag: TaggedStats['byTag'] = {};
  for (const [tag, list] of tagged) {
    const t = Float64Array.from(list).sort();
    byTag[tag] = { sp50: q(t, 0.5), sp99: q(t, 0.99), requests: t.length };
  }
  return {
    p50: q(c, 0.5),
    p90: q(c, 0.9),
    p99: q(c, 0.99),
    max: c.length ? c[c.length - 1]! : Number.NaN,
    sp50: q(s, 0.5),
    sp99: q(s, 0.99),
    rps: client.length / secs,
    errors,
    requests: client.length,
    byTag,
  };
}
