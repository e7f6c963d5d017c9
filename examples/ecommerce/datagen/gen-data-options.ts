import type { Transaction, UserEvent } from '../features/schemas.ts';

/** What to generate: the population, the span and the volume. Same options → same records. */
export interface GenRecordsOptions {
  /** Registered users (`u00000`…); 0 makes every session anonymous. */
  users: number;
  /** Catalog size (`p00000`…), at least 1. */
  products: number;
  /** Length of the span in days; may be fractional. */
  days: number;
  /** Exact number of user_events to generate. */
  events: number;
  /** Any safe integer; appears in event, session and transaction ids. */
  seed: number;
  /** Epoch ms; records span [end - days·86 400 000, end). */
  end: number;
}

/** Options of {@link genData}: {@link GenRecordsOptions} plus where and how to write. */
export interface GenDataOptions extends GenRecordsOptions {
  /** Writes `${outDir}/raw/user_events/part-NNNNN.<ext>` and `${outDir}/raw/transactions/…`. */
  outDir: string;
  format: 'jsonl' | 'parquet';
  /** Records per part file (default 1 000 000). */
  partSize?: number;
  /** Called every 100 000 events and once at the end. */
  onProgress?: (p: { events: number; transactions: number }) => void;
}

export interface GenDataSummary {
  events: number;
  transactions: number;
  /** user_events with a null userId. */
  anonymousEvents: number;
  /** Every file written, in order (user_events parts first, then transactions parts). */
  files: string[];
  /** Wall-clock seconds the run took. */
  seconds: number;
  /** The span of the data, [start, end) in epoch ms. */
  start: number;
  end: number;
}

/** The two raw sources. */
export type Topic = 'user_events' | 'transactions';

/** One generated record, tagged with the source it belongs to. */
export type GeneratedRecord =
  { topic: 'user_events'; record: UserEvent } | { topic: 'transactions'; record: Transaction };

/** The first instant of the span, `end - days·86 400 000` (rounded to whole ms). */
export function spanStart(opts: Pick<GenRecordsOptions, 'days' | 'end'>): number {
  return Math.round(opts.end - opts.days * 86_400_000);
}

/** Throws a RangeError naming the first invalid option. */
export function validateGenOptions(opts: GenRecordsOptions): void {
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new RangeError(`gen-data: ${what}`);
  };
  check(
    Number.isSafeInteger(opts.users) && opts.users >= 0,
    `users must be an integer >= 0, got ${opts.users}`,
  );
  check(
    Number.isSafeInteger(opts.products) && opts.products >= 1,
    `products must be an integer >= 1, got ${opts.products}`,
  );
  check(
    Number.isSafeInteger(opts.events) && opts.events >= 0,
    `events must be an integer >= 0, got ${opts.events}`,
  );
  check(Number.isFinite(opts.days) && opts.days > 0, `days must be > 0, got ${opts.days}`);
  check(Number.isSafeInteger(opts.seed), `seed must be a safe integer, got ${opts.seed}`);
  check(Number.isSafeInteger(opts.end), `end must be an integer epoch-ms time, got ${opts.end}`);
  check(spanStart(opts) >= 0, 'the span must start at or after 1970-01-01');
}
