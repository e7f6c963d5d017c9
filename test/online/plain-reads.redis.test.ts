/**
 * The plain-command read connection (`online/redis/plain-reads.ts`) on real Redis servers: the
 * same answers as `lua/read-entities.lua` for the same keys, the new value after a write (its
 * cache of last answers is by bytes), AUTH and SELECT, an error reply, and a server that stops
 * and starts again.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PlainReadConnection,
  plainReadTarget,
  type PlainFieldGroup,
  type PlainReadReply,
} from '../../online/redis/plain-reads.ts';
import { READ_ENTITIES_LUA } from '../../online/redis/redis-scripts.ts';
import { startRedisServer } from '../support/redis-server.ts';

const URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** What the script answers for the same read, in the same shape. */
async function scriptRead(
  raw: Redis,
  hashKeys: string[],
  groups: PlainFieldGroup[],
): Promise<PlainReadReply> {
  const keys = [...hashKeys, ...groups.flatMap((g) => g.keys)];
  const args: string[] = [String(hashKeys.length)];
  for (const g of groups) args.push(String(g.keys.length), String(g.names.length), ...g.names);
  const out = (await raw.eval(READ_ENTITIES_LUA, keys.length, ...keys, ...args)) as (
    string | number
  )[];
  let k = hashKeys.length;
  return {
    hashes: out.slice(0, k) as string[],
    fields: groups.map((g) => g.keys.map(() => out[k++]!)),
  };
}

async function connected(url: string): Promise<PlainReadConnection> {
  const c = new PlainReadConnection(plainReadTarget(url, 2000)!);
  await c.connect();
  return c;
}

describe('plain-command reads', () => {
  const raw = new Redis(URL);
  afterAll(() => raw.quit());

  it('parses only plain redis:// URLs', () => {
    expect(plainReadTarget('redis://127.0.0.1:6390/2', 100)).toEqual({
      host: '127.0.0.1',
      port: 6390,
      db: 2,
      connectTimeoutMs: 100,
    });
    expect(plainReadTarget('redis://u%40x:p%3Aw@redis.local', 5)).toEqual({
      host: 'redis.local',
      port: 6379,
      username: 'u@x',
      password: 'p:w',
      db: 0,
      connectTimeoutMs: 5,
    });
    expect(plainReadTarget('redis://:secret@[::1]:7000/', 5)).toMatchObject({
      host: '::1',
      port: 7000,
      password: 'secret',
      db: 0,
    });
    for (const url of [
      'rediss://127.0.0.1:6379/0',
      'redis://127.0.0.1:6379/0?family=6',
      'redis:///tmp/redis.sock',
      'redis://127.0.0.1/x',
      'not a url',
    ])
      expect(plainReadTarget(url, 5)).toBeNull();
  });

  it('answers what lua/read-entities.lua answers: whole hashes, field groups, missing keys, keys holding none of the fields, multi-byte values, a 300 KB hash', async () => {
    const ns = `test-${randomUUID()}`;
    const c = await connected(URL);
    try {
      expect(c.ready).toBe(true);
      const wide: string[] = [];
      for (let i = 0; i < 3000; i++) wide.push(`60000:${i}`, `{"n":${i},"s":"${'x'.repeat(80)}"}`);
      await raw.hset(`${ns}:wide`, ...wide);
      await raw.hset(`${ns}:a`, '60000:1', '{"n":1}', 'l:city', '{"v":"Zürich ✓ 😀","ts":1}');
      await raw.hset(`${ns}:b`, 'l:other', '{"v":2}');
      await raw.hset(`${ns}:c`, 'l:city', '{"v":"Łódź"}', 'l:price', '3.5');
      const hashKeys = [`${ns}:wide`, `${ns}:a`, `${ns}:missing`, `${ns}:b`];
      const groups: PlainFieldGroup[] = [
        // a, b (none of the fields), missing, c, wide
        {
          keys: [`${ns}:a`, `${ns}:b`, `${ns}:missing`, `${ns}:c`, `${ns}:wide`],
          names: ['l:city', 'l:price', '60000:2999'],
        },
        { keys: [`${ns}:c`], names: ['l:price'] },
      ];
      const want = await scriptRead(raw, hashKeys, groups);
      const got = await c.read(hashKeys, groups);
      expect(got).toEqual(want);
      expect(got.fields[0]).toEqual([
        '{"v":"Zürich ✓ 😀","ts":1}\n\n',
        1,
        0,
        '{"v":"Łódź"}\n3.5\n',
        `\n\n{"n":2999,"s":"${'x'.repeat(80)}"}`,
      ]);
      expect(got.hashes[2]).toBe('');
      expect(got.hashes[0]!.split('\n')).toHaveLength(6000);
      // Read again (answered from the same bytes): the same answers.
      expect(await c.read(hashKeys, groups)).toEqual(want);
      // Many reads in flight at once on the one connection, each answered its own keys.
      const many = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          c.read([hashKeys[i % 4]!], i % 2 ? groups : []).then((r) => r.hashes[0]),
        ),
      );
      expect(many).toEqual(Array.from({ length: 30 }, (_, i) => want.hashes[i % 4]));
      // A key of another type: the read fails with Redis's error, the connection goes on.
      await raw.set(`${ns}:string`, 'x');
      await expect(c.read([`${ns}:a`, `${ns}:string`], [])).rejects.toMatchObject({
        name: 'ReplyError',
        message: expect.stringMatching(/^WRONGTYPE/),
      });
      expect(c.ready).toBe(true);
      expect((await c.read([`${ns}:a`], [])).hashes).toEqual([want.hashes[1]]);
    } finally {
      c.close();
      await raw.del(...['wide', 'a', 'b', 'c', 'string'].map((k) => `${ns}:${k}`));
    }
  });

  it('answers the value a write left, never the last answer of the same length, nor one its bytes begin or end', async () => {
    const ns = `test-${randomUUID()}`;
    const c = await connected(URL);
    try {
      const key = `${ns}:k`;
      const group = [{ keys: [key], names: ['60000:1'] }];
      for (let v = 0; v < 10; v++) {
        await raw.hset(key, '60000:1', `{"n":${v}}`);
        const got = await c.read([key], group);
        expect(got).toEqual({ hashes: [`60000:1\n{"n":${v}}`], fields: [[`{"n":${v}}`]] });
      }
      // A longer, then a shorter answer than the last (the last reply of the read: fewer
      // bytes left than the last answer had), each with the last answer's bytes in it.
      await raw.hset(key, '60000:2', '{"n":2}');
      expect((await c.read([key], [])).hashes).toEqual(['60000:1\n{"n":9}\n60000:2\n{"n":2}']);
      await raw.hdel(key, '60000:2');
      expect((await c.read([key], [])).hashes).toEqual(['60000:1\n{"n":9}']);
      await raw.hdel(key, '60000:1');
      expect(await c.read([key], group)).toEqual({ hashes: [''], fields: [[0]] });
    } finally {
      c.close();
      await raw.del(`${ns}:k`);
    }
  });

  it('authenticates and selects its database; a wrong password leaves it not ready', async () => {
    const server = await startRedisServer();
    const admin = new Redis(server.url);
    try {
      await admin.config('SET', 'requirepass', 'pw 1');
      await admin.auth('pw 1');
      await admin.select(3);
      await admin.hset('k', 'l:x', '{"v":1}');
      const url = `redis://:${encodeURIComponent('pw 1')}@127.0.0.1:${server.port}/3`;
      const c = await connected(url);
      expect(c.ready).toBe(true);
      expect(await c.read(['k'], [])).toEqual({ hashes: ['l:x\n{"v":1}'], fields: [] });
      c.close();
      const wrong = await connected(`redis://:nope@127.0.0.1:${server.port}/3`);
      expect(wrong.ready).toBe(false);
      wrong.close();
    } finally {
      admin.disconnect();
      await server.close();
    }
  });

  it('fails the reads in flight when the server goes away, and reconnects once it is back', async () => {
    const server = await startRedisServer();
    const admin = new Redis(server.url);
    try {
      await admin.hset('k', 'l:x', '{"v":1}');
      const c = await connected(server.url);
      expect(c.ready).toBe(true);
      await server.stop();
      await expect(c.read(['k'], [])).rejects.toThrow();
      expect(c.ready).toBe(false);
      await server.start();
      await admin.hset('k', 'l:x', '{"v":2}');
      // At most one attempt a second.
      await new Promise((r) => setTimeout(r, 1100));
      await c.connect();
      expect(c.ready).toBe(true);
      expect((await c.read(['k'], [])).hashes).toEqual(['l:x\n{"v":2}']);
      c.close();
      expect(c.ready).toBe(false);
      await expect(c.read(['k'], [])).rejects.toThrow(/not ready/);
    } finally {
      admin.disconnect();
      await server.close();
    }
  });
});
