/**
 * ioredis copies every command's argument list with `Array.prototype.flat()` (an array argument
 * is spread into its elements), and `flat` costs ~90 ns per argument in Node 20 — more than
 * building and writing the argument. A stream batch's script call has tens of thousands of
 * arguments, none of them arrays, so Larder's script commands keep their argument list as given,
 * and {@link queueScript} hands that list to the script without spreading it into a call; their
 * commands also write their protocol text in one pass into one Buffer (`respBuffer`).
 * This reaches into ioredis 5 (a client's `scriptsSet`, a script's `Command` class and
 * `execute`); test/online/keep-script-args.test.ts checks that it still applies.
 */
import { respBuffer, RespArgs } from './resp-buffer.ts';

/** Marks the commands of {@link keepScriptArgs}'s scripts, and the wrapped base method. */
const KEPT = Symbol('larder.keptScriptArgs');
const WRAPPED = Symbol('larder.onePassWriter');

type ScriptCommandClass = new (
  name: string,
  args: unknown[],
  options?: object,
  callback?: unknown,
) => {
  name: string;
  args: unknown[];
  bufferMode?: boolean;
  stringifyArguments(): void;
  toWritable(socket?: unknown): string | Buffer;
};

interface ScriptLike {
  keyPrefix: string;
  Command: ScriptCommandClass;
}

/**
 * For each script `names` registered on `client` with `defineCommand` (a `Redis` or a
 * `Cluster`): its commands take their arguments without the `flat()` copy. Scripts with a key
 * prefix (whose keys ioredis rewrites in the same constructor) and clients that are not ioredis
 * are left alone; returns the names changed.
 *
 * @example
 * client.defineCommand('larderStreamBatch', { lua });
 * keepScriptArgs(client, ['larderStreamBatch']);
 */
export function keepScriptArgs(client: unknown, names: readonly string[]): string[] {
  const scripts = (client as { scriptsSet?: Record<string, ScriptLike | undefined> }).scriptsSet;
  const changed: string[] = [];
  for (const name of names) {
    const script = scripts?.[name];
    if (!script || typeof script.Command !== 'function' || script.keyPrefix) continue;
    const Base = script.Command;
    script.Command = class extends Base {
      static readonly [KEPT] = true;
      constructor(command: string, args: unknown[], options?: object, callback?: unknown) {
        super(command, [], options, callback);
        // What the constructor did to its (empty) list: numbers to strings, Buffers noted.
        // `args` is the list `Script#execute` has just built for this command alone; one
        // ending in a `RespArgs` (`queueEncoded`) is text already.
        this.args = args;
        if (!(args[args.length - 1] instanceof RespArgs)) this.stringifyArguments();
        (this as Record<symbol, unknown>)[KEPT] = true;
      }
    };
    writeInOnePass(Base);
    changed.push(name);
  }
  return changed;
}

/**
 * ioredis's script command class (`CustomScriptCommand`, one per script) switches between
 * `evalsha` and `eval` in its `toWritable`, then calls `Command#toWritable`, which builds the
 * text. That base method is wrapped once: a marked command with string arguments only gets
 * {@link respBuffer}'s bytes (the same bytes, in one Buffer); every other command, ioredis's.
 */
function writeInOnePass(scriptCommand: ScriptCommandClass): void {
  type Writable = {
    name: string;
    args: unknown[];
    bufferMode?: boolean;
    [KEPT]?: boolean;
  };
  const base = Object.getPrototypeOf(scriptCommand.prototype) as {
    toWritable?: (this: Writable, socket?: unknown) => string | Buffer;
    [WRAPPED]?: boolean;
  } | null;
  const original = base?.toWritable;
  if (!base || typeof original !== 'function' || base[WRAPPED]) return;
  base[WRAPPED] = true;
  base.toWritable = function (this: Writable, socket?: unknown) {
    if (this[KEPT] !== true || this.bufferMode) return original.call(this, socket);
    const last = this.args[this.args.length - 1];
    return last instanceof RespArgs
      ? last.command(this.name, this.args[0] as string)
      : respBuffer(this.name, this.args as string[]);
  };
}

interface ExecutableScript {
  execute(container: unknown, args: unknown[], options: { replyEncoding: 'utf8' }): unknown;
}

/**
 * Queues script `name` with `args` (`numKeys, ...keys, ...args`) on `pipeline` as its
 * `pipeline[name](...args)` method would, without spreading the list into a call: a spread call
 * and ioredis's rest parameter copy a stream batch's tens of thousands of arguments twice
 * (~30–50 ns per argument). Falls back to the method when `pipeline` is not ioredis's.
 *
 * @example
 * queueScript(pipeline, 'larderStreamBatch', [keys.length, ...keys, ...args]);
 */
export function queueScript<N extends string>(
  pipeline: { [K in N]: (numKeys: number, ...keysAndArgs: (string | number)[]) => unknown },
  name: N,
  args: [numKeys: number, ...keysAndArgs: (string | number)[]],
): void {
  const owner = (pipeline as { redis?: { scriptsSet?: Record<string, unknown> } }).redis;
  const script = owner?.scriptsSet?.[name] as Partial<ExecutableScript> | undefined;
  if (typeof script?.execute === 'function')
    script.execute(pipeline, args, { replyEncoding: 'utf8' });
  else pipeline[name](...args);
}

/**
 * Queues script `name` with `keys` and `args` (the call `numKeys, ...keys, ...args`) on
 * `pipeline`, the arguments written straight into one Buffer (`RespArgs`): no joined list, no
 * numbers turned into strings, no second pass over the arguments to build the text. The keys
 * stay in the command's argument list too, where a cluster pipeline finds them (its slot).
 * Returns false, queuing nothing, when `pipeline` is not ioredis's or the script was not
 * passed to {@link keepScriptArgs} (the caller then uses {@link queueScript}).
 *
 * @example
 * queueEncoded(pipeline, 'larderSetFields', ['k1', 'k2'], [now, ...]) || queueScript(...);
 */
export function queueEncoded(
  pipeline: unknown,
  name: string,
  keys: readonly string[],
  args: readonly (string | number)[],
): boolean {
  const owner = (pipeline as { redis?: { scriptsSet?: Record<string, unknown> } }).redis;
  const script = owner?.scriptsSet?.[name] as
    (Partial<ExecutableScript> & { Command?: { [KEPT]?: boolean } }) | undefined;
  if (typeof script?.execute !== 'function' || script.Command?.[KEPT] !== true) return false;
  const text = new RespArgs(24 * (1 + keys.length + args.length));
  text.add(keys.length);
  for (let i = 0; i < keys.length; i++) text.add(keys[i]!);
  for (let i = 0; i < args.length; i++) text.add(args[i]!);
  script.execute(pipeline, [String(keys.length), ...keys, text], { replyEncoding: 'utf8' });
  return true;
}

/**
 * Sends script `name` with `args` (`numKeys, ...keys, ...args`) on `client` (a `Redis`) as its
 * `client[name](...args)` method would, without spreading the list into a call (one copy less
 * per argument, see {@link queueScript}); resolves to the reply. Calls the method when `client`
 * is not ioredis's.
 *
 * @example
 * const reply = await callScript(client, 'larderReadEntities', [keys.length, ...keys, 0]);
 */
export function callScript<N extends string>(
  client: { [K in N]: (numKeys: number, ...keysAndArgs: (string | number)[]) => Promise<unknown> },
  name: N,
  args: [numKeys: number, ...keysAndArgs: (string | number)[]],
): Promise<unknown> {
  const scripts = (client as { scriptsSet?: Record<string, unknown> }).scriptsSet;
  const script = scripts?.[name] as Partial<ExecutableScript> | undefined;
  if (typeof script?.execute === 'function')
    return script.execute(client, args, { replyEncoding: 'utf8' }) as Promise<unknown>;
  return client[name](...args);
}
