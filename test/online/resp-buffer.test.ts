import fc from 'fast-check';
import { Command, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keepScriptArgs, queueEncoded } from '../../online/redis/keep-script-args.ts';
import { respBuffer, RespArgs } from '../../online/redis/resp-buffer.ts';

type Cmd = { toWritable(socket: object): string | Buffer };
type Scripts = Record<string, { Command: new (n: string, a: unknown[]) => Cmd }>;

/** ioredis's own bytes for a command: its `toWritable` text, as the socket encodes it. */
function ioredisBytes(name: string, args: string[]): Buffer {
  const w = (new Command(name, args) as unknown as Cmd).toWritable({});
  return typeof w === 'string' ? Buffer.from(w, 'utf8') : w;
}

describe('respBuffer', () => {
  it("writes ioredis's bytes for any strings (ASCII, multi-byte, lone surrogates, empty, 9/10/99/100/1000 bytes)", () => {
    const arg = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.constantFrom('', 'a'.repeat(9), 'a'.repeat(10), 'é'.repeat(50), 'x'.repeat(100)),
      fc.constantFrom('b'.repeat(999), 'b'.repeat(1000), '\u{1F600}'.repeat(3), '\uD800'),
      // 48/49 units, and a non-ASCII unit past a long ASCII run.
      fc.constantFrom('c'.repeat(48), 'c'.repeat(49), `${'d'.repeat(60)}\u00e9`, '\u007f\u0080'),
    );
    fc.assert(
      fc.property(
        fc.array(arg, { maxLength: 40 }),
        fc.constantFrom('evalsha', 'eval', 'hmget'),
        (args, name) => {
          expect(respBuffer(name, args).equals(ioredisBytes(name, args))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("writes ioredis's bytes for ASCII-only commands (short and long arguments)", () => {
    const ascii = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ minLength: 40, maxLength: 300 }),
      fc.integer().map(String),
    );
    fc.assert(
      fc.property(fc.array(ascii, { maxLength: 60 }), (args) => {
        expect(respBuffer('evalsha', args).equals(ioredisBytes('evalsha', args))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('is what a kept script command writes (eval, then evalsha on that socket); other commands and Buffer arguments keep ioredis’s writer', () => {
    const c = new Redis({ lazyConnect: true });
    try {
      c.defineCommand('larderTest', { lua: 'return 1' });
      c.defineCommand('otherTest', { lua: 'return 2' });
      keepScriptArgs(c, ['larderTest']);
      const scripts = (c as unknown as { scriptsSet: Scripts }).scriptsSet;
      const socket = {};
      const rest = ['2', 'k1', 'k2', '', 'é', '17'];
      const first = new scripts.larderTest!.Command('evalsha', ['sha', 2, 'k1', 'k2', '', 'é', 17]);
      expect(first.toWritable(socket)).toEqual(respBuffer('eval', ['return 1', ...rest]));
      const sha = (c as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet
        .larderTest!.sha;
      const next = new scripts.larderTest!.Command('evalsha', [sha, ...rest]);
      expect(next.toWritable(socket)).toEqual(respBuffer('evalsha', [sha, ...rest]));
      // Not kept: ioredis's text.
      expect(typeof new scripts.otherTest!.Command('evalsha', ['s', 'a']).toWritable({})).toBe(
        'string',
      );
      expect(typeof (new Command('get', ['k']) as unknown as Cmd).toWritable({})).toBe('string');
      const withBuffer = new scripts.larderTest!.Command('evalsha', [sha, Buffer.from('v')]);
      expect(Buffer.from(withBuffer.toWritable(socket))).toEqual(
        Buffer.from(`*3\r\n$7\r\nevalsha\r\n$40\r\n${sha}\r\n$1\r\nv\r\n`),
      );
    } finally {
      c.disconnect();
    }
  });
});

describe('RespArgs', () => {
  it("writes respBuffer's bytes for any arguments (strings of any width, numbers), growing past its estimate", () => {
    const arg = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.integer(),
      fc.constantFrom('', 'a'.repeat(9), 'a'.repeat(10), 'é'.repeat(5), 'é'.repeat(50)),
      // Multi-byte strings whose byte length has more digits than their unit count.
      fc.constantFrom('é'.repeat(7), '\u{1F600}'.repeat(3), '€'.repeat(34), 'b'.repeat(1000)),
    );
    fc.assert(
      fc.property(
        fc.array(arg, { maxLength: 40 }),
        fc.integer({ min: 0, max: 200 }),
        fc.constantFrom(
          ['evalsha', 'f'.repeat(40)],
          ['eval', 'return 1'],
          ['eval', 'x'.repeat(200)],
        ),
        (args, estimate, [name, first]) => {
          const a = new RespArgs(estimate);
          for (const x of args) a.add(x);
          expect(a.count).toBe(args.length);
          const want = respBuffer(name!, [first!, ...args.map(String)]);
          expect(a.command(name!, first!).equals(want)).toBe(true);
          expect(a.command(name!, first!).equals(want)).toBe(true); // again: the same bytes
        },
      ),
      { numRuns: 500 },
    );
  });

  it("writes several commands in one Buffer (array headers, pre-encoded parts, arguments): respBuffer's bytes concatenated", () => {
    const command = fc.tuple(
      fc.constantFrom('HGETALL', 'HMGET', 'EXISTS', 'MULTI'),
      fc.array(
        fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 })),
        {
          maxLength: 12,
        },
      ),
      fc.boolean(),
    );
    fc.assert(
      fc.property(
        fc.array(command, { maxLength: 20 }),
        fc.integer({ min: 0, max: 200 }),
        (cmds, estimate) => {
          const a = new RespArgs(estimate);
          for (const [name, args, preEncoded] of cmds) {
            if (preEncoded) a.raw(respBuffer(name, args));
            else {
              a.array(args.length + 1);
              a.add(name);
              for (const x of args) a.add(x);
            }
          }
          const want = Buffer.concat(cmds.map(([name, args]) => respBuffer(name, args)));
          expect(a.bytes().equals(want)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('queueEncoded queues what queueScript would write, keys visible to a cluster; false when it cannot', () => {
    const c = new Redis({ lazyConnect: true });
    try {
      c.defineCommand('larderTest', { lua: 'return 1' });
      c.defineCommand('otherTest', { lua: 'return 2' });
      keepScriptArgs(c, ['larderTest']);
      const p = c.pipeline() as unknown as {
        _queue: (Cmd & { name: string; args: unknown[]; getKeys(): string[] })[];
      };
      expect(queueEncoded(p, 'larderTest', ['k1', 'k2'], [17, '', 'é'])).toBe(true);
      const cmd = p._queue[0]!;
      expect(cmd.getKeys()).toEqual(['k1', 'k2']);
      const socket = {};
      expect(cmd.toWritable(socket)).toEqual(
        respBuffer('eval', ['return 1', '2', 'k1', 'k2', '17', '', 'é']),
      );
      const sha = (c as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet
        .larderTest!.sha;
      expect(cmd.toWritable(socket)).toEqual(
        respBuffer('evalsha', [sha, '2', 'k1', 'k2', '17', '', 'é']),
      );
      expect(queueEncoded(p, 'otherTest', ['k'], [])).toBe(false); // not kept
      expect(queueEncoded({}, 'larderTest', ['k'], [])).toBe(false); // not ioredis's
      expect(p._queue).toHaveLength(1);
    } finally {
      c.disconnect();
    }
  });
});
