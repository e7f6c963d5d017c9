/**
 * Cron schedules of batch views, for the crons that have a fixed period: every N minutes
 * (`*\/15 * * * *`), hourly (`5 * * * *`), every N hours (`0 *\/6 * * *`), daily (`30 2 * * *`)
 * and weekly (`0 3 * * 1`), all in UTC. They become `{ everyMs, offsetMs }`, so the snapshot
 * that applies at t stays `floor((t − offset) / every) · every + offset` in every engine (SQL
 * included). Crons without a fixed period (several hours, days of the month) are refused.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';

export interface FixedSchedule {
  everyMs: number;
  offsetMs: number;
}

const int = (s: string, lo: number, hi: number): number | null =>
  /^\d+$/.test(s) && Number(s) >= lo && Number(s) <= hi ? Number(s) : null;
const step = (s: string, max: number): number | null => {
  const m = /^\*\/(\d+)$/.exec(s);
  const n = m ? Number(m[1]) : NaN;
  return n > 0 && max % n === 0 ? n : null;
};

/** The fixed period and offset of a cron expression (UTC), or an error message. */
export function parseCron(text: string): FixedSchedule | { error: string } {
  const f = text.trim().split(/\s+/);
  const bad = {
    error: `cron "${text}" has no fixed period: batch views take every N minutes (*/15 * * * *), hourly (5 * * * *), every N hours (0 */6 * * *), daily (30 2 * * *) or weekly (0 3 * * 1) crons, in UTC`,
  };
  if (f.length !== 5) return bad;
  const [mi, ho, dom, mon, dow] = f as [string, string, string, string, string];
  if (dom !== '*' || mon !== '*') return bad;
  const minute = int(mi, 0, 59);
  if (dow !== '*') {
    // 1970-01-01 (epoch 0) was a Thursday: weekly periods are offset from it.
    const d = int(dow, 0, 7);
    const hour = int(ho, 0, 23);
    if (d === null || hour === null || minute === null) return bad;
    const days = ((d % 7) - 4 + 7) % 7;
    return { everyMs: 7 * DAY_MS, offsetMs: days * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS };
  }
  if (ho === '*') {
    if (minute !== null) return { everyMs: HOUR_MS, offsetMs: minute * MINUTE_MS };
    const n = step(mi, 60);
    return n === null ? bad : { everyMs: n * MINUTE_MS, offsetMs: 0 };
  }
  if (minute === null) return bad;
  const hour = int(ho, 0, 23);
  if (hour !== null) return { everyMs: DAY_MS, offsetMs: hour * HOUR_MS + minute * MINUTE_MS };
  const n = step(ho, 24);
  return n === null ? bad : { everyMs: n * HOUR_MS, offsetMs: minute * MINUTE_MS };
}
