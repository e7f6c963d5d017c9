/**
 * The plain-command read connection (`online/redis/plain-reads.ts`) when Redis's reply reaches
 * it in pieces cut anywhere — between the CR and the LF of a line, inside a length, inside a
 * value — as TCP may deliver it: a real Redis behind a relay that passes the server's bytes on
 * in pieces, each written on its own after a pause, the client's unchanged. Every read must
 * answer what the script answers, and the connection must stay in step for the next read.
 */
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PlainReadConnection,
  plainReadTarget,
  type PlainFieldGroup,
} from '../../online/redis/plain-reads.ts';
import { READ_ENTITIES_LUA } from '../../online/redis/redis-scripts.ts';

const URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** Where the relay cuts the server's bytes: after these offsets of each chunk it receives. */
type Cut = (chunk: Buffer) => number[];

/** A relay to Redis that writes the server's bytes in the pieces `cut` gives, 3 ms apart. */
async function relay(cut: () => Cut): Promise<{ url: string; close: () => Promise<void> }> {
  const target = new globalThis.URL(URL);
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = connect({ host: target.hostname, port: Number(target.port || 6379) });
    sockets.push(client, upstream);
    client.pipe(upstream);
    let queue = Promise.resolve();
    const cutOf = cut();
    upstream.on('data', (chunk: Buffer) => {
      queue = queue.then(async () => {
        let from = 0;
        for (const at of [...cutOf(chunk), chunk.length]) {
          if (at <= from || at > chunk.length) continue;
          client.write(chunk.subarray(from, at));
          from = at;
          await sleep(3);
        }
      });
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}${target.pathname}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** After each CR: the LF comes in the next piece. */
const afterCr: Cut = (chunk) => {
  const at: number[] = [];
  for (let i = 0; i < chunk.length; i++) if (chunk[i] === 13) at.push(i + 1);
  return at;
};
/** Every byte a piece of its own. */
const everyByte: Cut = (chunk) => Array.from({ length: chunk.length }, (_, i) => i + 1);

describe('plain-command reads of replies cut anywhere', () => {
  const raw = new Redis(URL);
  const ns = `test-${randomUUID()}`;
  const key = (k: string): string => `${ns}:${k}`;
  beforeAll(async () => {
    await raw.hset(key('a'), '60000:1', '{"n":1}', 'l:city', '{"v":"Zürich ✓ 😀","ts":1}');
    await raw.hset(key('b'), 'l:other', '{"v":2}');
    await raw.hset(key('c'), 'l:city', '{"v":"Łódź"}', 'l:price', '3.5');
  });
  afterAll(async () => {
    await raw.del(key('a'), key('b'), key('c'));
    raw.disconnect();
  });

  const hashKeys = (): string[] => [key('a'), key('missing'), key('c')];
  const groups = (): PlainFieldGroup[] => [
    // An EXISTS reply between values: a, b (none of the fields), missing, c.
    { keys: [key('a'), key('b'), key('missing'), key('c')], names: ['l:city', 'l:price'] },
    { keys: [key('b')], names: ['l:other'] },
  ];

  async function scriptRead(): Promise<unknown> {
    const hk = hashKeys();
    const gs = groups();
    const keys = [...hk, ...gs.flatMap((g) => g.keys)];
    const args: string[] = [String(hk.length)];
    for (const g of gs) args.push(String(g.keys.length), String(g.names.length), ...g.names);
    const out = (await raw.eval(READ_ENTITIES_LUA, keys.length, ...keys, ...args)) as (
      string | number
    )[];
    let k = hk.length;
    return { hashes: out.slice(0, k), fields: gs.map((g) => g.keys.map(() => out[k++]!)) };
  }

  for (const [name, cut] of [
    ['the LF of every line in a piece after its CR', afterCr],
    ['every byte in a piece of its own', everyByte],
  ] as const)
    it(`answers as the script does with ${name}, read after read`, async () => {
      const r = await relay(() => cut);
      const c = new PlainReadConnection(plainReadTarget(r.url, 2000)!);
      try {
        await c.connect();
        expect(c.ready).toBe(true);
        const want = await scriptRead();
        // Three reads: the first decodes each answer, the later ones find their last bytes.
        for (let i = 0; i < 3; i++) expect(await c.read(hashKeys(), groups())).toEqual(want);
        expect(c.ready).toBe(true);
      } finally {
        c.close();
        await r.close();
      }
    }, 30_000);
});
