/**
 * The one parser of times on the command line (every command's --start / --end): epoch numbers,
 * ISO-8601, and `now` / `now-1d` / `now+2h`. Plain numbers are epoch milliseconds unless the
 * command takes `--timestamp-unit`; a number that would be before 1973 as milliseconds is
 * refused rather than silently read as January 1970 (it is almost always epoch seconds).
 */
import { LarderError } from '../core/errors.ts';
import { parseDuration } from '../core/duration.ts';
import {
  plausibleTimestampUnit,
  TIMESTAMP_UNITS,
  type TimestampUnit,
} from '../offline/offline-store.ts';

export interface TimeOptions {
  /** What `now` means (tests inject it). */
  now?: number;
  /** `--timestamp-unit`, when the command has it and it was given: plain numbers are in it. */
  unit?: TimestampUnit;
  /** Whether the command has a `--timestamp-unit` option (for the hint). */
  unitOption?: boolean;
}

const UNIT_MS: Record<TimestampUnit, number> = { s: 1000, ms: 1, us: 0.001 };
const ISO =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const HINT = 'use ISO-8601 (2026-11-27T10:00:00Z), epoch milliseconds, or now / now-2h / now+1d';

/** Parses a CLI time into epoch milliseconds; `option` names the flag in errors. */
export function parseTime(text: string, option: string, opts: TimeOptions = {}): number {
  const s = text.trim();
  const rel = /^now\s*(?:([+-])\s*(\S+))?$/i.exec(s);
  if (rel) {
    const now = opts.now ?? Date.now();
    if (!rel[1]) return now;
    const d = parseDuration(rel[2] as string);
    if (typeof d !== 'number')
      throw new LarderError('LARDER_BAD_REQUEST', `${option} "${text}": ${d.error}`, {
        hint: HINT,
        detail: { reason: 'invalid_option' },
      });
    return rel[1] === '+' ? now + d : now - d;
  }
  if (/^-?\d+(?:\.\d+)?$/.test(s)) {
    const unit = opts.unit ?? 'ms';
    const ms = Math.floor(Number(s) * UNIT_MS[unit]);
    if (opts.unit === undefined) {
      const likely = plausibleTimestampUnit(Number(s));
      if (likely !== 'ms') {
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          `${option} ${s} read as epoch milliseconds is ${new Date(ms).toISOString()}; it looks like epoch ${likely === 's' ? 'seconds' : 'microseconds'}`,
          {
            hint: opts.unitOption
              ? `pass --timestamp-unit ${likely} (or ${TIMESTAMP_UNITS.join('|')}), or write the time as ISO-8601`
              : `write it in milliseconds (${Math.floor(Number(s) * UNIT_MS[likely])}) or as ISO-8601`,
            detail: { reason: 'suspect_time_unit' },
          },
        );
      }
    }
    return ms;
  }
  const iso = ISO.exec(s);
  // A date-time without an offset is UTC (as in the offline stores), never the machine's zone.
  const t = iso ? Date.parse(iso[2] && !iso[3] ? `${s}Z` : s) : Number.NaN;
  if (Number.isNaN(t))
    throw new LarderError('LARDER_BAD_REQUEST', `${option} "${text}" is not a time`, {
      hint: HINT,
      detail: { reason: 'invalid_option' },
    });
  return t;
}

/** Parses `--timestamp-unit`. */
export function parseTimestampUnit(text: string | undefined): TimestampUnit | undefined {
  if (text === undefined) return undefined;
  if ((TIMESTAMP_UNITS as readonly string[]).includes(text)) return text as TimestampUnit;
  throw new LarderError(
    'LARDER_BAD_REQUEST',
    `--timestamp-unit "${text}" is not one of ${TIMESTAMP_UNITS.join(', ')}`,
    {
      hint: 's for epoch seconds, ms for milliseconds, us for microseconds',
      detail: { reason: 'invalid_option' },
    },
  );
}

/** Parses a positive integer option. */
export function parseCount(text: string, option: string, min = 0): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < min) {
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `${option} "${text}" must be a whole number ≥ ${min}`,
      { detail: { reason: 'invalid_option' } },
    );
  }
  return n;
}
