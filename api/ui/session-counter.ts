/**
 * Conversion of the clickstream over the last hour, as the original pipeline's real-time view
 * showed it: purchase events / distinct sessions, by event time. Bounded: the most recently
 * active sessions and the most recent purchases are kept.
 */
const HOUR_MS = 3_600_000;
const MAX_SESSIONS = 100_000;
const MAX_PURCHASES = 100_000;

/** Which source and fields make the clickstream (defaults: the e-commerce `user_events`). */
export interface ClickstreamFields {
  source: string;
  timestamp: string;
  session: string;
  eventType: string;
  purchase: string;
}

export const ECOMMERCE_CLICKSTREAM: ClickstreamFields = {
  source: 'user_events',
  timestamp: 'timestamp',
  session: 'sessionId',
  eventType: 'eventType',
  purchase: 'purchase',
};

export interface Conversion {
  /** Distinct sessions with an event in (now − 1h, now]. */
  sessions: number;
  /** Purchase events in (now − 1h, now]. */
  purchases: number;
  /** purchases / sessions; null without sessions. */
  rate: number | null;
}

/**
 * @example
 * const c = new SessionCounter();
 * c.add(records);
 * c.lastHour(Date.now()); // { sessions: 12, purchases: 3, rate: 0.25 }
 */
export class SessionCounter {
  readonly fields: ClickstreamFields;
  /** sessionId → newest event time (Map order = least recently updated first). */
  readonly #sessions = new Map<string, number>();
  readonly #purchases: number[] = [];

  constructor(fields: ClickstreamFields = ECOMMERCE_CLICKSTREAM) {
    this.fields = fields;
  }

  add(records: readonly Record<string, unknown>[]): void {
    const f = this.fields;
    for (const r of records) {
      const ts = r[f.timestamp];
      const session = r[f.session];
      if (typeof ts !== 'number' || typeof session !== 'string') continue;
      const prev = this.#sessions.get(session);
      this.#sessions.delete(session);
      this.#sessions.set(session, Math.max(prev ?? ts, ts));
      if (r[f.eventType] === f.purchase) this.#purchases.push(ts);
    }
    for (const s of this.#sessions.keys()) {
      if (this.#sessions.size <= MAX_SESSIONS) break;
      this.#sessions.delete(s);
    }
    if (this.#purchases.length > MAX_PURCHASES)
      this.#purchases.splice(0, this.#purchases.length - MAX_PURCHASES);
  }

  lastHour(now: number): Conversion {
    const inHour = (ts: number): boolean => ts > now - HOUR_MS && ts <= now;
    let sessions = 0;
    for (const ts of this.#sessions.values()) if (inHour(ts)) sessions++;
    const purchases = this.#purchases.filter(inHour).length;
    return { sessions, purchases, rate: sessions === 0 ? null : purchases / sessions };
  }
}
