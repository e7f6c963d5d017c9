/**
 * Every command, given bad input, fails with one `error` line (and at most a hint) and a non-zero
 * exit code — never a stack trace. The commands are found by walking the commander program, so a
 * new command is covered without editing this file. Then the failures users actually met: a port
 * in use, a missing output folder or one named as the output file, an entity file that is not
 * Parquet, a module that fails to load.
 *
 * Each case is its own `larder` process (the contract is the process's stderr and exit code);
 * the cases run side by side, at most four processes at once, each with its own LARDER_HOME and
 * LARDER_DATA_DIR. One class runs in this process: an unknown option, which commander refuses
 * while parsing, before any command's action runs. Every command gets it here, the way
 * cli/main.ts runs the program (its output and `reportError`), and one command as a process.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CommanderError, type Command, type Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allCommands, buildProgram, commandPath } from '../../cli/program.ts';
import { loadCommandPlugins } from '../../cli/plugin.ts';
import { reportError } from '../../cli/report-error.ts';
import { limiter } from '../support/limit.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const exec = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let home: { dir: string; cleanup: () => void };
let blocker: string; // a regular file: any path below it cannot be created

beforeAll(() => {
  home = tempDir();
  blocker = join(home.dir, 'a-file');
  writeFileSync(blocker, 'not a folder\n');
});
afterAll(() => home?.cleanup());

const spawns = limiter(4);
let calls = 0;

/** `larder <args>` in a new process, at most four at once; its own (absent) home and data. */
const larder = (args: string[], env: Record<string, string> = {}): Promise<Result> =>
  spawns(() => larderProcess(args, env));

async function larderProcess(args: string[], env: Record<string, string>): Promise<Result> {
  const own = join(home.dir, `call-${++calls}`);
  try {
    const r = await exec('node', ['bin/larder.js', ...args], {
      env: {
        ...process.env,
        LARDER_HOME: join(own, 'home'),
        LARDER_DATA_DIR: join(own, 'data'),
        KAFKA_BROKERS: '127.0.0.1:1', // nothing may reach a broker with bad input
        // A command that does try fails at its first refused connection, not after kafkajs's
        // retries (~10 s): the first test checks that both give the same line.
        LARDER_KAFKA_RETRIES: '0',
        LARDER_DEBUG: '',
        ...env,
      },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number | string; stdout: string; stderr: string; signal?: string };
    return {
      code: typeof x.code === 'number' ? x.code : -1,
      stdout: x.stdout,
      stderr: `${x.stderr}${x.signal ? `\n(killed by ${x.signal})` : ''}`,
    };
  }
}

const STACK = [/^\s+at /m, /node:internal/, /\S+\.(?:[cm]?[jt]s):\d+:\d+/];

/** Exit code ≠ 0, one `error` line (plus a hint or commander's usage line), no stack frame. */
function expectOneLineError(r: Result, what: string): void {
  const out = `${r.stdout}\n${r.stderr}`;
  for (const frame of STACK) expect(out, `${what}: stack frame in\n${out}`).not.toMatch(frame);
  expect(r.code, `${what}: exit code\n${out}`).toBeGreaterThan(0);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(
    lines.filter((l) => /^error\b/.test(l)),
    `${what}: error lines in\n${r.stderr}`,
  ).toHaveLength(1);
  for (const l of lines.filter((x) => !/^error\b/.test(x)))
    expect(l, `${what}: stray stderr line`).toMatch(
      /^ {2}hint: |^\(run with --help for usage\)$|^[a-z ]+: [\d,]+\/[\d,]+ rows · /,
    );
}

/** An invalid value for an option or argument, by the name of its value (`<time>`, `<port>`). */
function badValue(valueName: string): string {
  const v = valueName.toLowerCase();
  if (v === 'time') return 'yesterday';
  if (/^(n|port|ms|n\/s|events\/s)$/.test(v)) return '-1.5';
  if (v === 'duration') return '90 minutes';
  if (v === 'file') return join(blocker, 'x.parquet');
  if (v === 'dir') return join(blocker, 'sub');
  if (v === 'unit') return 'hours';
  if (v === 'fmt') return 'xml';
  if (v === 'url') return 'not a url';
  if (v === 'list') return 'superuser';
  return 'no-such-thing';
}

const valueName = (o: Option): string =>
  /<([^>]+)>|\[([^\]]+)\]/.exec(o.flags)?.slice(1).find(Boolean) ?? '';

/** The command line of `c` with every argument and every option value invalid. */
function badInvocation(c: Command): string[] {
  const args = c.registeredArguments.map((a) => badValue(a.name()));
  const opts = c.options
    .filter((o) => o.required || o.optional)
    .flatMap((o) => [o.long!, badValue(valueName(o))]);
  // A command without arguments or option values: an argument it does not take.
  if (args.length === 0 && opts.length === 0) args.push('no-such-thing');
  return [...commandPath(c), ...args, ...opts];
}

/** A value an option or argument accepts, by the name of its value. */
function plausibleValue(valueName: string): string {
  const v = valueName.toLowerCase();
  if (v === 'time') return 'now';
  if (v === 'refs') return 'user_activity:page_views_1h';
  if (v === 'file') return join(home.dir, 'out.parquet');
  if (v === 'dir') return join(home.dir, 'out');
  if (v === 'list') return 'read';
  if (v === 'n') return '1';
  if (v === 'dir') return join(home.dir, 'plausible-dir'); // never a folder of the checkout
  return 'x';
}

/** The command line of `c` with its arguments and required options given plausible values. */
function plausibleInvocation(c: Command): string[] {
  const args = c.registeredArguments.map((a) => plausibleValue(a.name()));
  const opts = c.options
    .filter((o) => o.mandatory)
    .flatMap((o) => [o.long!, plausibleValue(valueName(o))]);
  return [...commandPath(c), ...args, ...opts];
}

// The project's larder.config.ts adds the example's gen-data and label (cli/plugin.ts).
const PLUGINS = await loadCommandPlugins(process.cwd());
const COMMANDS = allCommands(buildProgram(PLUGINS));

/**
 * `larder <args>` in this process, as cli/main.ts runs it (a fresh program, its output and
 * `reportError` captured), for usage mistakes only: anything but commander's refusal while
 * parsing (an action that ran, another error) fails the test.
 */
async function larderUsageMistake(args: string[]): Promise<Result> {
  const program = buildProgram(PLUGINS);
  const out = { stdout: '', stderr: '' };
  for (const c of [program, ...allCommands(program)])
    c.configureOutput({
      writeOut: (t) => (out.stdout += t),
      writeErr: (t) => (out.stderr += t),
    });
  try {
    await program.parseAsync(['node', 'larder', ...args]);
  } catch (e) {
    expect(e, `larder ${args.join(' ')}`).toBeInstanceOf(CommanderError);
    return { code: reportError(e, (t) => (out.stderr += t)), ...out };
  }
  throw new Error(`larder ${args.join(' ')} ran instead of refusing its usage`);
}

// The cases start together and queue for the four process slots, so a case's clock runs while
// the whole file's ~90 processes go through them: ~80 s quiet, 326 s in a whole-suite run at a
// load of ~20, where cases of 120 s timed out. A hung process is killed by its own 60 s timeout.
describe.concurrent('every CLI command, given bad input', { timeout: 600_000 }, () => {
  it('Kafka down: the same one line after kafkajs retries (5 by default) as with LARDER_KAFKA_RETRIES=0', async () => {
    const args = ['dlq', 'inspect', 'x'];
    const [retried, once] = await Promise.all([
      larder(args, { LARDER_KAFKA_RETRIES: '' }),
      larder(args),
    ]);
    expectOneLineError(once, 'dlq inspect, LARDER_KAFKA_RETRIES=0');
    expect(once.stderr).toContain(
      'error [LARDER_BROKER_UNAVAILABLE]: Kafka: Connection error: connect ECONNREFUSED 127.0.0.1:1\n',
    );
    expect(retried).toEqual(once);
  });

  it('finds the commands by walking the program', () => {
    const names = COMMANDS.map((c) => commandPath(c).join(' '));
    for (const n of [
      'export',
      'label',
      'serve',
      'stream',
      'dlq inspect',
      'keys create',
      'gen-data',
    ])
      expect(names).toContain(n);
  });

  it.each(COMMANDS.map((c) => [commandPath(c).join(' '), c] as const))(
    '%s: an unknown option, then invalid values for every argument and option',
    async (name, c) => {
      const argv = badInvocation(c);
      const [unknown, bad] = await Promise.all([
        larderUsageMistake([...commandPath(c), '--no-such-option']),
        larder(argv),
      ]);
      expectOneLineError(unknown, `${name} --no-such-option`);
      expectOneLineError(bad, argv.join(' '));
    },
  );

  it('an unknown option, as a process: the same one line and exit code as in this process', async () => {
    const args = ['dlq', 'inspect', '--no-such-option'];
    const [child, here] = await Promise.all([larder(args), larderUsageMistake(args)]);
    expectOneLineError(child, args.join(' '));
    expect(child).toEqual(here);
  });

  it.each(COMMANDS.map((c) => [commandPath(c).join(' '), c] as const))(
    '%s: plausible input, but LARDER_HOME and LARDER_DATA_DIR below a file and Kafka down',
    async (name, c) => {
      const r = await larder(plausibleInvocation(c), {
        LARDER_HOME: join(blocker, 'home'),
        LARDER_DATA_DIR: join(blocker, 'data'),
      });
      // Some commands need neither (plan, keys list): they may succeed; none may show a trace.
      if (r.code === 0) for (const frame of STACK) expect(r.stderr).not.toMatch(frame);
      else expectOneLineError(r, name);
    },
  );

  it('every <time> option takes the same syntax and gives the same error (one parser)', async () => {
    const timed = COMMANDS.flatMap((c) =>
      c.options.filter((o) => valueName(o) === 'time').map((o) => [c, o.long!] as const),
    );
    expect(timed.length).toBeGreaterThanOrEqual(6);
    const results = await Promise.all(
      timed.map(([c, flag]) => {
        const required = c.options
          .filter((o) => o.mandatory && o.long !== flag)
          // A required time (skew's --start and --end) gets a valid one: only `flag` is bad.
          .flatMap((o) => [o.long!, valueName(o) === 'time' ? 'now-1d' : 'x']);
        return larder([...commandPath(c), ...required, flag, 'now-1y']);
      }),
    );
    timed.forEach(([c, flag], i) => {
      const r = results[i]!;
      expectOneLineError(r, `${commandPath(c).join(' ')} ${flag}`);
      expect(r.stderr).toContain(`error [LARDER_BAD_REQUEST]: ${flag} "now-1y": `);
      expect(r.stderr).toContain(
        'hint: use ISO-8601 (2026-11-27T10:00:00Z), epoch milliseconds, or now / now-2h / now+1d',
      );
    });
  });
});

describe.concurrent('failures users met, as one line', { timeout: 600_000 }, () => {
  const ports: Server[] = [];
  afterAll(() => ports.forEach((s) => s.close()));
  const busyPort = async (): Promise<number> => {
    const s = createServer();
    ports.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as { port: number }).port;
  };

  it('a port in use (REST and gRPC), naming the address and the option', async () => {
    const busy = await busyPort();
    const free = await busyPort(); // taken, then released for serve's REST port
    ports.pop()!.close();
    const rest = await larder(['serve', '--port', String(busy), '--no-grpc']);
    expectOneLineError(rest, 'serve --port busy');
    expect(rest.stderr).toContain(
      `error [LARDER_PORT_IN_USE]: cannot listen on 127.0.0.1:${busy}: another process is using it`,
    );
    const grpc = await larder(['serve', '--port', String(free), '--grpc-port', String(busy)]);
    expect(grpc.stderr).toContain(
      `error [LARDER_PORT_IN_USE]: cannot listen for gRPC on 127.0.0.1:${busy}: another process is using it`,
    );
    expect(grpc.stderr).toContain(
      'hint: stop that process, pass another --grpc-port, or --no-grpc',
    );
    expect(grpc.code).toBe(1); // and the REST server it had started does not keep it running
  });

  it('export: a missing output folder, an output that is a folder, an entity file that is not Parquet', async () => {
    const entities = join(home.dir, 'rows.parquet');
    writeFileSync(entities, 'user_id,event_timestamp\nu1,1764547200000\n');
    const noFolder = await larder([
      'export',
      '--features',
      'user_activity:page_views_1h',
      '--entities',
      entities,
      '--out',
      join(home.dir, 'no-such-folder', 'train.parquet'),
    ]);
    expectOneLineError(noFolder, 'export --out missing folder');
    expect(noFolder.stderr).toMatch(
      /error \[LARDER_NOT_FOUND\]: the output folder \S+no-such-folder \(of \S+train\.parquet\) does not exist\n {2}hint: create it first/,
    );
    const folder = join(home.dir, 'out.arrow');
    mkdirSync(folder);
    const isFolder = await larder([
      'export',
      '--features',
      'user_activity:page_views_1h',
      '--entities',
      entities,
      '--out',
      folder,
    ]);
    expectOneLineError(isFolder, 'export --out a folder');
    expect(isFolder.stderr).toMatch(
      /error \[LARDER_BAD_REQUEST\]: the output \S+out\.arrow is a folder\n {2}hint: name the file to write/,
    );
    const notParquet = await larder([
      'export',
      '--features',
      'user_activity:page_views_1h',
      '--entities',
      entities,
      '--out',
      join(home.dir, 'train.parquet'),
    ]);
    expectOneLineError(notParquet, 'export --entities not parquet');
    expect(notParquet.stderr).toMatch(
      /error \[LARDER_BAD_REQUEST\]: entity file \S+rows\.parquet is not a readable Parquet file: /,
    );
  });

  it('an online store nowhere: one line, and the process ends with exit 1', async () => {
    // The Redis client of a store whose init failed kept reconnecting: the error was printed,
    // then the process never exited (killed by the 60 s timeout here).
    for (const url of ['redis://127.0.0.1:1/0', 'redis-cluster://127.0.0.1:1,127.0.0.1:2']) {
      const r = await larder(['teardown', '--yes'], { LARDER_ONLINE_STORE: url });
      expectOneLineError(r, `teardown on ${url}`);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error \[LARDER_STORE_UNAVAILABLE\]: Redis online store at /);
    }
    // materialize opens the store through openFeatureStore (store/feature-store.ts), the
    // stream worker through its own init: both had the same leak.
    const applied = { LARDER_HOME: join(home.dir, 'applied-home') };
    expect((await larder(['apply'], applied)).code).toBe(0);
    const down = { ...applied, LARDER_ONLINE_STORE: 'redis://127.0.0.1:1/0' };
    for (const args of [['materialize', '--end', 'now'], ['stream']]) {
      const r = await larder(args, down);
      expectOneLineError(r, `${args[0]} with Redis down`);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error \[LARDER_STORE_UNAVAILABLE\]: Redis online store at /);
    }
  });

  it('an output path that cannot be written: codegen into a file, export into /proc', async () => {
    // codegen --out naming a file: mkdir's EEXIST was reported as a bug (exit 2).
    const codegen = await larder(['codegen', '--out', blocker]);
    expectOneLineError(codegen, 'codegen --out a file');
    expect(codegen.stderr).toMatch(
      /^error \[LARDER_NOT_FOUND\]: not a folder \(a file has that name\): \S+a-file\n/,
    );
    // A folder no file can be created in (/proc, a read-only mount): DuckDB's IO error at the
    // end of the export was reported as a bug (exit 2); now refused before any work.
    const entities = join(home.dir, 'rows.csv');
    writeFileSync(entities, 'user_id,event_timestamp\nu1,1764547200000\n');
    const proc = await larder([
      'export',
      '--features',
      'user_activity:page_views_1h',
      '--entities',
      entities,
      '--out',
      '/proc/train.parquet',
    ]);
    expectOneLineError(proc, 'export --out /proc/train.parquet');
    expect(proc.stderr).toMatch(
      /^error \[LARDER_BAD_REQUEST\]: cannot create files in the output folder \/proc \(of \/proc\/train\.parquet\): ENOENT\n {2}hint: write elsewhere/,
    );
  });

  it('export reads --start now-1d like materialize reads --end now', async () => {
    const r = await larder([
      'export',
      '--features',
      'user_activity:page_views_1h',
      '--start',
      'now-1d',
      '--end',
      'now',
      '--every',
      '1h',
      '--out',
      join(home.dir, 'grid.csv'),
    ]);
    expect(r.stderr).not.toMatch(/--start/);
    // No raw data here: the time grid is parsed, and the export says what is missing instead.
    expect(r.code === 0 || /no raw data|no .*files/i.test(r.stderr), r.stderr).toBe(true);
  });

  it('LARDER_DEBUG=1 adds the stack trace (the CLI entry reads it through config/)', async () => {
    const args = ['materialize', '--end', 'yesterday'];
    const plain = await larder(args);
    expectOneLineError(plain, 'materialize --end yesterday');
    const debug = await larder(args, { LARDER_DEBUG: '1' });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toContain('error [LARDER_BAD_REQUEST]: --end "yesterday" is not a time');
    expect(debug.stderr).toMatch(/^\s+at /m);
  });

  it('epoch seconds: refused by export and label unless --timestamp-unit s says so', async () => {
    const secs = join(home.dir, 'secs.csv');
    writeFileSync(secs, 'user_id,event_timestamp\nu1,1795773600\n');
    const exp = await larder([
      'export',
      '--features',
      'user_activity:page_views_1h',
      '--entities',
      secs,
      '--out',
      join(home.dir, 'train.csv'),
    ]);
    expectOneLineError(exp, 'export seconds');
    expect(exp.stderr).toMatch(
      /error \[LARDER_BAD_REQUEST\]: entity file \S+secs\.csv: every numeric event_timestamp lies before 1973 when read as epoch milliseconds \(1795773600 → 1970-01-21T\S+\); they look like epoch seconds\n {2}hint: pass --timestamp-unit s/,
    );
    const label = await larder([
      'label',
      '--out',
      join(home.dir, 'spine.parquet'),
      '--start',
      '1795773600',
    ]);
    expectOneLineError(label, 'label seconds');
    expect(label.stderr).toContain('--start 1795773600 read as epoch milliseconds is 1970-01-21');
    expect(label.stderr).toContain('hint: pass --timestamp-unit s');
    // With the unit, the time is accepted: what fails next is the missing raw data.
    const unit = await larder([
      'label',
      '--out',
      join(home.dir, 'spine.parquet'),
      '--start',
      '1795773600',
      '--timestamp-unit',
      's',
    ]);
    expectOneLineError(unit, 'label --timestamp-unit s');
    expect(unit.stderr).toContain('error [LARDER_NOT_FOUND]: no raw data folder');
  });

  it('a module that fails to load is blamed once, on its own file and line', async () => {
    const thrower = tempRepo({
      'entities.ts': `import { entity } from 'larder';\nexport const user = entity({ name: 'user', joinKey: 'user_id' });\nconst text: unknown = 42;\nexport const broken = (text as string).trim();\n`,
      'a.ts': `import { user } from './entities.ts';\nexport const u = user;\n`,
      'b.ts': `import { user } from './entities.ts';\nexport const v = user;\n`,
    });
    const syntax = tempRepo({
      'views.ts': `import { entity } from 'larder';\nexport const user = entity({ name: 'user', joinKey: 'user_id' });\nexport const x = ;\n`,
      'a.ts': `import { user } from './views.ts';\nexport const u = user;\n`,
      'b.ts': `import { user } from './views.ts';\nexport const v = user;\n`,
    });
    try {
      const a = await larder(['--repo', thrower.dir, 'plan']);
      expect(a.code).toBe(1);
      expect(a.stderr).toMatch(
        /^error: 1 problem in the feature definitions:\n {2}\S+entities\.ts:4: module: failed to load: text\.trim is not a function\n$/,
      );
      const b = await larder(['--repo', syntax.dir, 'plan']);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(
        /^error: 1 problem in the feature definitions:\n {2}\S+views\.ts:3: module: failed to load: syntax error at column 17: Unexpected ";"\n$/,
      );
    } finally {
      thrower.cleanup();
      syntax.cleanup();
    }
  });
});
