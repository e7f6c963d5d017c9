import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { callScript, keepScriptArgs, queueScript } from '../../online/redis/keep-script-args.ts';

type Scripts = Record<string, { Command: new (n: string, a: unknown[]) => { args: unknown[] } }>;

describe('keepScriptArgs', () => {
  it("keeps a Larder script command's argument list as given (no flat() copy)", () => {
    const client = new Redis({ lazyConnect: true });
    try {
      client.defineCommand('larderTest', { lua: 'return 1' });
      client.defineCommand('otherTest', { lua: 'return 2' });
      const scripts = (client as unknown as { scriptsSet: Scripts }).scriptsSet;
      const args = ['sha', 2, 'k1', 'k2', '', 17];
      // ioredis copies (and would spread an array argument) before the change.
      expect(new scripts.larderTest!.Command('evalsha', args).args).not.toBe(args);
      expect(keepScriptArgs(client, ['larderTest', 'missing'])).toEqual(['larderTest']);
      const cmd = new scripts.larderTest!.Command('evalsha', args);
      expect(cmd.args).toBe(args);
      // As ioredis sends them: numbers as strings.
      expect(cmd.args).toEqual(['sha', '2', 'k1', 'k2', '', '17']);
      expect(new scripts.otherTest!.Command('evalsha', args).args).not.toBe(args);
    } finally {
      client.disconnect();
    }
  });

  it('leaves scripts with a key prefix and clients that are not ioredis alone', () => {
    const client = new Redis({ lazyConnect: true, keyPrefix: 'p:' });
    try {
      client.defineCommand('larderTest', { lua: 'return 1', numberOfKeys: 1 });
      expect(keepScriptArgs(client, ['larderTest'])).toEqual([]);
      expect(keepScriptArgs({ defineCommand() {} }, ['larderTest'])).toEqual([]);
    } finally {
      client.disconnect();
    }
  });

  it('queueScript queues the same command as the pipeline method, or calls the method', () => {
    const client = new Redis({ lazyConnect: true });
    try {
      client.defineCommand('larderTest', { lua: 'return 1' });
      keepScriptArgs(client, ['larderTest']);
      type P = { larderTest: (n: number, ...a: (string | number)[]) => unknown };
      const byMethod = client.pipeline() as unknown as P & {
        _queue: { name: string; args: unknown[] }[];
      };
      const queued = client.pipeline() as unknown as P & {
        _queue: { name: string; args: unknown[] }[];
      };
      byMethod.larderTest(2, 'k1', 'k2', 5, '');
      queueScript(queued, 'larderTest', [2, 'k1', 'k2', 5, '']);
      expect(queued._queue).toHaveLength(1);
      expect(queued._queue[0]!.name).toBe(byMethod._queue[0]!.name);
      expect(queued._queue[0]!.args).toEqual(byMethod._queue[0]!.args);
      expect(queued._queue[0]!.args.slice(1)).toEqual(['2', 'k1', 'k2', '5', '']);
      const calls: unknown[][] = [];
      queueScript({ larderTest: (...a: unknown[]) => calls.push(a) }, 'larderTest', [1, 'k', 'v']);
      expect(calls).toEqual([[1, 'k', 'v']]);
    } finally {
      client.disconnect();
    }
  });

  it('callScript sends the same command as the client method, or calls the method', async () => {
    const client = new Redis({ lazyConnect: true });
    try {
      client.defineCommand('larderTest', { lua: 'return 1' });
      keepScriptArgs(client, ['larderTest']);
      const sent: { name: string; args: unknown[] }[] = [];
      // Captures each command instead of sending it, answering it at once.
      (client as unknown as { sendCommand: (c: unknown) => unknown }).sendCommand = (c) => {
        const cmd = c as { name: string; args: unknown[]; resolve(v: unknown): void };
        sent.push({ name: cmd.name, args: cmd.args });
        cmd.resolve(`reply ${sent.length}`);
        return (c as { promise: Promise<unknown> }).promise;
      };
      type C = { larderTest: (n: number, ...a: (string | number)[]) => Promise<unknown> };
      const c = client as unknown as C;
      expect(await c.larderTest(2, 'k1', 'k2', 5, '')).toBe('reply 1');
      expect(await callScript(c, 'larderTest', [2, 'k1', 'k2', 5, ''])).toBe('reply 2');
      expect(sent).toHaveLength(2);
      expect(sent[1]).toEqual(sent[0]);
      expect(sent[1]!.args.slice(1)).toEqual(['2', 'k1', 'k2', '5', '']);
      const viaMethod = { larderTest: (...a: unknown[]) => Promise.resolve(a) };
      expect(await callScript(viaMethod, 'larderTest', [1, 'k', 'v'])).toEqual([1, 'k', 'v']);
    } finally {
      client.disconnect();
    }
  });
});
