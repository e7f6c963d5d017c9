import { LarderError } from '../registry/errors.ts';
import { parseDuration } from '../registry/duration.ts';

/** Parses a CLI time: epoch ms, ISO-8601, or `now` / `now-2h` / `now+1d`. */
export function parseTime(text: string, option: string, now = Date.now()): number {
  const rel = /^now(?:([+-])(\d+[mhd]))?$/.exec(text);
  if (rel) {
    if (!rel[1]) return now;
    const d = parseDuration(rel[2] as string) as number;
    return rel[1] === '+' ? now + d : now - d;
  }
  if (/^\d+$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) {
    throw new LarderError('LARDER_BAD_REQUEST', `${option} "${text}" is not a time`, {
      hint: 'use epoch milliseconds, ISO-8601 (2026-11-27T10:00:00Z), or now / now-2h',
    });
  }
  return t;
}

/** Parses a positive integer option. */
export function parseCount(text: string, option: string, min = 0): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < min) {
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `${option} "${text}" must be a whole number ≥ ${min}`,
    );
  }
  return n;
}
