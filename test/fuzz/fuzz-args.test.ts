/**
 * `npm run fuzz`'s arguments (scripts/fuzz.ts): `--help` prints the usage, and a bad argument
 * is one line and exit 2 — never a stack trace (the project's rule for command-line users).
 */
import { describe, expect, it } from 'vitest';
import { FUZZ_USAGE, parseFuzzArgs } from './fuzz-args.ts';

describe('npm run fuzz arguments', () => {
  it('reads the options, with their defaults', () => {
    expect(parseFuzzArgs([])).toEqual({
      kind: 'run',
      minutes: 5,
      seed: undefined,
      path: undefined,
      http: false,
      services: false,
    });
    expect(
      parseFuzzArgs(['--minutes', '0.5', '--seed', '42', '--path', '3:1', '--http', '--services']),
    ).toEqual({ kind: 'run', minutes: 0.5, seed: 42, path: '3:1', http: true, services: true });
  });

  it('--help (and -h) is the usage, which names every option', () => {
    expect(parseFuzzArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseFuzzArgs(['-h'])).toEqual({ kind: 'help' });
    for (const o of ['--minutes', '--seed', '--path', '--http', '--services', '--help'])
      expect(FUZZ_USAGE).toContain(o);
  });

  it('a bad argument is a one-line error', () => {
    for (const [argv, message] of [
      [['--bogus'], "unknown option '--bogus'"],
      [['--minutes', 'x'], '--minutes x is not a positive number'],
      [['--minutes', '0'], '--minutes 0 is not a positive number'],
      [['--seed', '1.5'], '--seed 1.5 is not an integer'],
      [['extra'], "unexpected argument 'extra'"],
    ] as const) {
      const r = parseFuzzArgs([...argv]);
      expect(r).toEqual({ kind: 'error', message: expect.stringContaining(message) as unknown });
      expect((r as { message: string }).message).not.toContain('\n');
    }
  });
});
