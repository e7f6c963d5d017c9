/**
 * What this server process wrote online through `POST /push` (and any in-process stream
 * apply): per feature view the newest write time, the newest event time, a record count and a
 * bounded set of recently written entity keys, plus the clickstream counters of the original
 * pipeline's real-time view (events per minute, sessions and purchases). Fed by the
 * `applyRecords` observer; everything is bounded in memory.
 */
import type { ApplyObserver } from '../../streaming/apply-records.ts';
import { SessionCounter, type ClickstreamFields } from './session-counter.ts';

const MINUTE_MS = 60_000;
/** Entity keys remembered per view (most recently written). */
const RECENT_KEYS = 500;
/** Per-minute event counts kept per source (the newest minutes win). */
const KEEP_MINUTES = 180;

export interface ViewIngest {
  view: string;
  /** Wall-clock time of the last write, epoch ms. */
  lastWriteAt: number;
  /** Greatest event time written, epoch ms. */
  newestEventTs: number;
  /** Records written since the server started. */
  records: number;
}

/**
 * @example
 * const t = new IngestTracker();
 * await applyRecords(repo, store, 'user_events', records, fields, t.observer);
 * t.views(); t.recentKeys('product_engagement'); t.eventsPerMinute(Date.now(), 30);
 */
export class IngestTracker {
  readonly #views = new Map<string, ViewIngest>();
  readonly #keys = new Map<string, Map<string, true>>();
  /** source → (minute index → records with an event time in that minute). */
  readonly #minutes = new Map<string, Map<number, number>>();
  readonly #sessions: SessionCounter;
  readonly #wallClock: () => number;

  constructor(opts: { clickstream?: ClickstreamFields; wallClock?: () => number } = {}) {
    this.#sessions = new SessionCounter(opts.clickstream);
    this.#wallClock = opts.wallClock ?? Date.now;
  }

  /** The `applyRecords` observer feeding this tracker. */
  readonly observer: ApplyObserver = ({ source, records, views }) => {
    const now = this.#wallClock();
    for (const v of views) {
      const cur = this.#views.get(v.view);
      this.#views.set(v.view, {
        view: v.view,
        lastWriteAt: now,
        newestEventTs: Math.max(cur?.newestEventTs ?? -Infinity, v.newestEventTs),
        records: (cur?.records ?? 0) + v.records,
      });
      let keys = this.#keys.get(v.view);
      if (!keys) this.#keys.set(v.view, (keys = new Map()));
      for (const k of v.entityKeys) {
        keys.delete(k);
        keys.set(k, true);
      }
      for (const k of keys.keys()) {
        if (keys.size <= RECENT_KEYS) break;
        keys.delete(k);
      }
    }
    let minutes = this.#minutes.get(source);
    if (!minutes) this.#minutes.set(source, (minutes = new Map()));
    for (const r of records) {
      const ts = r[this.#sessions.fields.timestamp];
      if (typeof ts !== 'number') continue;
      const m = Math.floor(ts / MINUTE_MS);
      minutes.set(m, (minutes.get(m) ?? 0) + 1);
    }
    if (minutes.size > KEEP_MINUTES) {
      const old = [...minutes.keys()].sort((a, b) => a - b);
      for (const m of old.slice(0, minutes.size - KEEP_MINUTES)) minutes.delete(m);
    }
    if (source === this.#sessions.fields.source) this.#sessions.add(records);
  };

  /** Per-view ingest stats, by view name. */
  views(): ViewIngest[] {
    return [...this.#views.values()].sort((a, b) => a.view.localeCompare(b.view));
  }

  /** Encoded entity keys recently written to `view`, most recent first. */
  recentKeys(view: string): string[] {
    return [...(this.#keys.get(view)?.keys() ?? [])].reverse();
  }

  /**
   * Records per minute of event time, per source, for the `minutes` minutes ending with the
   * one holding `now` (oldest first).
   */
  eventsPerMinute(
    now: number,
    minutes: number,
  ): { start: number; bySource: Record<string, number[]> } {
    const last = Math.floor(now / MINUTE_MS);
    const first = last - minutes + 1;
    const bySource: Record<string, number[]> = {};
    for (const [source, counts] of this.#minutes) {
      bySource[source] = Array.from({ length: minutes }, (_, i) => counts.get(first + i) ?? 0);
    }
    return { start: first * MINUTE_MS, bySource };
  }

  /** Sessions and purchases of the clickstream in the hour before `now`. */
  conversion(now: number): ReturnType<SessionCounter['lastHour']> {
    return this.#sessions.lastHour(now);
  }
}
