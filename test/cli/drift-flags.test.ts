/**
 * `larder drift`'s flags: the reference (a file or a window), the current window (or the older
 * --start/--end) and what it reads (--current, by default the logs of a logged service), and
 * the one-line errors of each bad combination — checked before anything is opened.
 */
import { describe, expect, it } from 'vitest';
import { currentSample, parseDriftFlags } from '../../cli/commands/drift-command.ts';

const T = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const defaults = { service: 's', every: '1h', psiThreshold: '0.2', pThreshold: '0.01' };
const iso = (t: number): string => new Date(t).toISOString();

describe('larder drift flags', () => {
  it('a reference window and a current window; --current defaults by the service', () => {
    const f = parseDriftFlags({
      ...defaults,
      every: '1d',
      referenceWindow: `${iso(T)}..${iso(T + 7 * DAY)}`,
      currentWindow: `${T + 7 * DAY}..${T + 8 * DAY}`,
    });
    expect(f.reference).toEqual({ type: 'offline', start: T, end: T + 7 * DAY, everyMs: DAY });
    expect(f.window).toEqual({ start: T + 7 * DAY, end: T + 8 * DAY });
    expect(currentSample(f, true)).toEqual({ type: 'logs', start: T + 7 * DAY, end: T + 8 * DAY });
    expect(currentSample(f, false)).toEqual({
      type: 'offline',
      start: T + 7 * DAY,
      end: T + 8 * DAY,
      everyMs: DAY,
    });
    expect(currentSample({ ...f, current: 'offline' }, true).type).toBe('offline');
    expect(currentSample({ ...f, current: 'logs' }, false).type).toBe('logs');
  });

  it('a reference file, and --start/--end for the current window; relative times', () => {
    const f = parseDriftFlags({
      ...defaults,
      reference: 'train.parquet',
      start: String(T),
      end: iso(T + DAY),
      current: 'offline',
      psiThreshold: '0.1',
    });
    expect(f.reference).toEqual({ type: 'file', path: 'train.parquet' });
    expect(f.window).toEqual({ start: T, end: T + DAY });
    expect(f.thresholds).toEqual({ psi: 0.1, p: 0.01 });
    const now = Date.now();
    const r = parseDriftFlags({ ...defaults, reference: 'x', currentWindow: 'now-2d..now-1d' });
    expect(Math.abs(r.window.start - (now - 2 * DAY))).toBeLessThan(5_000);
    expect(r.window.end - r.window.start).toBe(DAY);
  });

  it.each([
    [{}, 'give one reference: --reference FILE or --reference-window START..END'],
    [
      { reference: 'a', referenceWindow: 'now-2d..now-1d' },
      'give one reference: --reference FILE or --reference-window START..END',
    ],
    [
      { reference: 'a' },
      'give the current window: --current-window START..END (or --start and --end)',
    ],
    [
      { reference: 'a', start: 'now-1d' },
      'give the current window: --current-window START..END (or --start and --end)',
    ],
    [
      { reference: 'a', start: 'now-1d', end: 'now', currentWindow: 'now-1d..now' },
      'give --current-window or --start and --end, not both',
    ],
    [{ reference: 'a', start: 'now', end: 'now-1d' }, '--end must be after --start'],
    [{ reference: 'a', currentWindow: 'now-1d' }, '--current-window "now-1d": not START..END'],
    [
      { reference: 'a', currentWindow: 'now..now-1d' },
      '--current-window "now..now-1d": the end must be after the start',
    ],
    [
      { referenceWindow: 'yesterday..now', currentWindow: 'now-1d..now' },
      '--reference-window start "yesterday" is not a time',
    ],
    [
      { reference: 'a', currentWindow: 'now-1d..now', current: 'served' },
      '--current "served": not logs or offline',
    ],
    [{ reference: 'a', currentWindow: 'now-1d..now', every: '0s' }, '--every "0s": '],
    [
      { reference: 'a', currentWindow: 'now-1d..now', pThreshold: '-1' },
      '--p-threshold "-1": not a positive number',
    ],
  ])('refuses %j', (flags, message) => {
    let err: unknown;
    try {
      parseDriftFlags({ ...defaults, ...flags });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'LARDER_BAD_REQUEST' });
    expect((err as Error).message.startsWith(message), (err as Error).message).toBe(true);
  });
});
