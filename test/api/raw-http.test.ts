/**
 * Connections of fast-path requests answered without node:http (api/raw-http.ts): the same
 * bytes node:http writes for the same request, in order over pipelined requests, and every
 * request of any other shape — a split body, another route, `Connection: close`, a header
 * node:http refuses — handed with its connection to node:http, which answers it as always.
 * (test/api/fast-path.test.ts compares these answers with fastify's.)
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columns, EVENTS } from './ecommerce-data.ts';
import { serveRepo, type Served } from './serve-fixture.ts';

let s: Served;
let port = 0;
let closed = false;

beforeAll(async () => {
  s = await serveRepo(resolve(import.meta.dirname, '../../examples/ecommerce/features'));
  const r = await s.app.inject({
    method: 'POST',
    url: '/push',
    payload: { push_source_name: 'user_events', df: columns(EVENTS), to: 'online' },
  });
  expect(r.statusCode, r.body).toBe(200);
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  port = (s.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  if (!closed) await s?.close();
});

const BODY = JSON.stringify({
  feature_service: 'recommendation_v1',
  entities: { user_id: ['u1'], product_id: ['p1'] },
});
const post = (body = BODY, headers = ''): string =>
  `POST /get-online-features HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const READY = 'GET /ready HTTP/1.1\r\nHost: x\r\n\r\n';

interface Answer {
  status: number;
  /** Header lines as sent, Date and Server-Timing values blanked (they differ per answer). */
  head: string[];
  body: string;
}

/** Splits the bytes of consecutive answers (Content-Length bodies). */
function answers(bytes: Buffer): Answer[] {
  const out: Answer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = bytes.toString('latin1', at, end).split('\r\n');
    const length = Number(
      lines.find((l) => /^content-length:/i.test(l))?.replace(/^[^:]+:\s*/, '') ?? 0,
    );
    out.push({
      status: Number(lines[0]!.slice(9, 12)),
      head: lines.map((l) =>
        l.replace(/^(Date: ).*/, '$1-').replace(/^(server-timing: app;dur=).*/, '$1-'),
      ),
      body: bytes.toString('utf8', end + 4, end + 4 + length),
    });
    at = end + 4 + length;
  }
  return out;
}

/**
 * Writes `parts` over one connection (a pause between parts), then reads until `expected`
 * answers arrived or the server closed the connection.
 */
const exchange = (
  parts: string[],
  expected: number,
): Promise<{ answers: Answer[]; closedByServer: boolean }> =>
  new Promise((done, fail) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let finished = false;
    const finish = (closedByServer: boolean): void => {
      if (finished) return;
      finished = true;
      socket.destroy();
      done({ answers: answers(Buffer.concat(chunks)), closedByServer });
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (answers(Buffer.concat(chunks)).length >= expected) setTimeout(() => finish(false), 50);
    });
    socket.on('end', () => finish(true));
    socket.on('error', fail);
    socket.on('connect', async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 30));
        socket.write(p);
      }
    });
  });

describe('connections of fast-path requests (raw-http.ts)', () => {
  it('answers with the bytes node:http writes for the same request', async () => {
    // The second POST follows a request node:http answers, so node:http answers it too.
    const own = await exchange([post()], 1);
    const viaHttp = await exchange([READY + post()], 2);
    expect(own.answers[0]!.status).toBe(200);
    expect(own.answers[0]).toEqual(viaHttp.answers[1]);
    expect(own.answers[0]!.head).toContain('Connection: keep-alive');
    expect(own.closedByServer).toBe(false);
    // A large answer (its head and payload written apart), then a small one after it.
    const rows = Array.from({ length: 100 }, (_, i) => `u${i % 3}`);
    const large = JSON.stringify({
      feature_service: 'recommendation_v1',
      entities: { user_id: rows, product_id: rows.map((_, i) => `p${i}`) },
    });
    const ownLarge = await exchange([post(large), post()], 2);
    const httpLarge = await exchange([READY + post(large) + post()], 3);
    expect(ownLarge.answers.map((a) => a.status)).toEqual([200, 200]);
    expect(ownLarge.answers[0]!.body.length).toBeGreaterThan(16 * 1024);
    expect(ownLarge.answers).toEqual(httpLarge.answers.slice(1));
  });

  it('answers pipelined requests in order, and hands the connection on at another route', async () => {
    const unknown = JSON.stringify({ feature_service: 'nope', entities: { user_id: ['u1'] } });
    const { answers: got } = await exchange(
      [post() + post(unknown) + post() + READY + post() + post(unknown)],
      6,
    );
    expect(got.map((a) => a.status)).toEqual([200, 404, 200, 200, 200, 404]);
    expect(got[2]).toEqual(got[0]);
    expect(got[4]).toEqual(got[0]);
    expect(got[5]).toEqual(got[1]);
    expect(JSON.parse(got[3]!.body)).toMatchObject({ status: 'ready' });
  });

  it('a body that arrives after its head, and a head in two parts, are answered the same', async () => {
    const whole = (await exchange([post()], 1)).answers[0];
    const request = post();
    const headEnd = request.indexOf('\r\n\r\n') + 4;
    const split = await exchange([request.slice(0, headEnd), request.slice(headEnd)], 1);
    expect(split.answers[0]).toEqual(whole);
    const twoHeads = await exchange([request.slice(0, 20), request.slice(20), post()], 2);
    expect(twoHeads.answers).toEqual([whole, whole]);
  });

  it('closes after an answer to Connection: close, and after a body that does not parse', async () => {
    const close = await exchange([post(BODY, 'Connection: close\r\n')], 1);
    expect(close.answers[0]!.status).toBe(200);
    expect(close.answers[0]!.head).toContain('Connection: close');
    expect(close.closedByServer).toBe(true);
    const malformed = await exchange([post('{"features": [') + post()], 2);
    expect(malformed.answers.map((a) => a.status)).toEqual([400]);
    expect(malformed.answers[0]!.head).toContain('connection: close');
    expect(malformed.closedByServer).toBe(true);
  });

  it('leaves requests node:http refuses to node:http: a space before a colon, no Host, a non-space after a length', async () => {
    const spaced = await exchange([post().replace('Host: x', 'Host : x')], 1);
    expect(spaced.answers[0]!.status).toBe(400);
    expect(spaced.closedByServer).toBe(true);
    const noHost = await exchange([post().replace('Host: x\r\n', '')], 1);
    expect(noHost.answers[0]!.status).toBe(400);
    const padded = await exchange([post().replace(/(Content-Length: \d+)/, '$1\u00a0')], 1);
    expect(padded.answers[0]!.status).toBe(400);
    // A tab in a value is node:http's to judge (it takes it): the same answer as ever.
    const whole = (await exchange([post()], 1)).answers[0];
    const tabbed = await exchange([post(BODY, 'X-Note: a\tb\r\n')], 1);
    expect(tabbed.answers[0]).toEqual(whole);
  });

  it('the server closes idle connections when it closes, and the close completes', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.on('connect', r));
    const answered = new Promise<void>((r) => socket.once('data', () => r()));
    socket.write(post());
    await answered;
    const ended = new Promise<void>((r) => socket.on('close', () => r()));
    closed = true;
    await s.close();
    await ended;
    expect(socket.destroyed).toBe(true);
  });
});
