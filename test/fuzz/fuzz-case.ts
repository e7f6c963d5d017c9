/**
 * One differential-fuzzing case: feature views ({@link plansArb}), records of both sources
 * generated from their zod schemas ({@link recordArb}) in arbitrary order, duplicates included
 * (the same record twice, and an id again with other values at its time),
 * a "now" (the materialization end and the stream / push clock) and the times to compare at.
 *
 * Times are offsets (ms) from an anchor, a whole day, so a case replays the same way at any
 * anchor: the unit test uses a fixed one, the Kafka test one near the wall clock (Redis expires
 * keys on the real clock).
 */
import fc from 'fast-check';
import { transactions, userEvents } from '../../examples/ecommerce/features/sources.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import {
  onDemandArb,
  plansArb,
  requestValueArb,
  type OnDemandPlan,
  type ViewPlan,
} from './definitions.ts';
import { KEY_POOL, recordArb } from './schema-records.ts';
import type { KnownDefect } from './known-defects.ts';
import { entityFilePlanArb, type EntityFilePlan } from './entity-file-plan.ts';
import { batchPlanArb, type BatchPlan } from './batch-plan.ts';

type Rec = Record<string, unknown>;

export interface FuzzCase {
  plans: ViewPlan[];
  /** An on-demand view over the plans' features (absent or null: none). */
  onDemand?: OnDemandPlan | null;
  /** Offset of "now" from the anchor. */
  now: number;
  /** Records in arrival order; timestamps are offsets from the anchor. */
  records: { source: 'user_events' | 'transactions'; record: Rec }[];
  /**
   * Export rows: entity keys and a time (offset) anywhere around now, and the request field
   * `req` of the on-demand view when it has one (absent: null).
   */
  exportRows: CaseRow[];
  /** Online reads: entity keys and a time (offset) ≥ now, and `req` as in export rows. */
  onlineReads: CaseRow[];
  /** The export rows as an entity file too (absent or null: only in memory). */
  entityFile?: EntityFilePlan | null;
  /** A batch view `b` (SQL snapshots) over the records (absent or null: none). */
  batch?: BatchPlan | null;
}

export interface CaseRow {
  user_id: string;
  product_id: string;
  t: number;
  req?: number | string | null;
}

export interface CaseOptions {
  shapes: Record<KnownDefect, boolean>;
  /** Records per case (default 60). */
  maxRecords?: number;
}

/** Offsets from `now`: on and next to hop and window edges, equal times, and anything. */
const UNITS = [MINUTE_MS, 5 * MINUTE_MS, HOUR_MS, DAY_MS, 7 * DAY_MS, 30 * DAY_MS];
const edge = (sign: -1 | 1): fc.Arbitrary<number> =>
  fc
    .tuple(fc.constantFrom(...UNITS), fc.integer({ min: 0, max: 3 }), fc.constantFrom(-1, 0, 1))
    .map(([u, k, d]) => sign * k * u + d);

/** "now": a time of day on, just before or just after a minute / hour boundary. */
const nowArb = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 1, 30), fc.constantFrom(-1, 0, 1))
  .map(([h, m, d]) => h * HOUR_MS + m * MINUTE_MS + d + 40 * DAY_MS);

export function caseArb(options: CaseOptions): fc.Arbitrary<FuzzCase> {
  const { shapes } = options;
  const plans = plansArb({
    everyRecordCounts: !shapes.recordChangingNoFeature,
    arrayInputsOutsideMode: shapes.arrayInputsOutsideMode,
    nullModeWeights: shapes.nullModeWeights,
  });
  return fc
    .record({ plans, now: nowArb })
    .chain(({ plans, now }) => onDemandArb(plans).map((onDemand) => ({ plans, now, onDemand })))
    .chain(({ plans, now, onDemand }) => {
      // Records before now (or, with futureTimestamps, up to a day after: on and next to
      // now + `ingest.maxFutureSkew`, later ones refused), clustered on edges.
      const latest = shapes.futureTimestamps ? DAY_MS : 0;
      const offset = fc
        .oneof(
          { weight: 3, arbitrary: edge(-1) },
          ...(shapes.futureTimestamps ? [{ weight: 1, arbitrary: edge(1) }] : []),
          { weight: 2, arbitrary: fc.integer({ min: -45 * DAY_MS, max: latest }) },
          { weight: 1, arbitrary: fc.integer({ min: -2 * HOUR_MS, max: latest }) },
        )
        .map((o) => Math.min(o, latest) + now);
      // A few shared times make equal timestamps common.
      const shared = fc.array(offset, { minLength: 1, maxLength: 4 });
      return fc
        .record({
          shared,
          plans: fc.constant(plans),
          onDemand: fc.constant(onDemand),
          now: fc.constant(now),
          picks: fc.array(
            fc.record({
              source: fc.constantFrom('user_events' as const, 'transactions' as const),
              sharedTime: fc.option(fc.nat(), { freq: 3 }),
              event: recordArb(
                userEvents.batch.recordSchema,
                { eventId: fc.constant(''), timestamp: offset },
                { unknownFields: shapes.unknownFields, floatOverflow: shapes.floatOverflow },
              ),
              tx: recordArb(
                transactions.batch.recordSchema,
                { transactionId: fc.constant(''), timestamp: offset },
                { unknownFields: shapes.unknownFields, floatOverflow: shapes.floatOverflow },
              ),
              idPrefix: fc.constantFrom('e', 'E', 'é', '', 'z', '10'),
              duplicate: fc.boolean(),
            }),
            { minLength: 5, maxLength: options.maxRecords ?? 60, size: 'max' },
          ),
        })
        .map(({ shared, picks, ...rest }) => {
          const records: FuzzCase['records'] = [];
          picks.forEach((p, i) => {
            const id = `${p.idPrefix}${i}`;
            const base: Rec =
              p.source === 'user_events'
                ? { ...p.event, eventId: id }
                : { ...p.tx, transactionId: id };
            if (p.sharedTime !== null) base.timestamp = shared[p.sharedTime % shared.length]!;
            records.push({ source: p.source, record: base });
            if (p.duplicate && i % 3 === 0) records.push({ source: p.source, record: { ...base } });
            // A replayed id with other values (the next pick's), at the same time: ordered by
            // value where order matters (docs/concepts.md "Ties", "Sequence semantics").
            if (p.duplicate && i % 3 === 1) {
              const next = picks[(i + 1) % picks.length]!;
              const other: Rec = p.source === 'user_events' ? next.event : next.tx;
              const idField = p.source === 'user_events' ? 'eventId' : 'transactionId';
              records.push({
                source: p.source,
                record: { ...other, [idField]: id, timestamp: base.timestamp },
              });
            }
          });
          return { ...rest, records };
        })
        .chain((c) => {
          // Read the keys and around the times the records have, and some they do not.
          const keyFields = c.plans.flatMap((v) =>
            [v.key, v.productKey].map((k) => (k && 'col' in k ? k.col : '')),
          );
          const keys = [
            ...new Set(c.records.flatMap((r) => keyFields.map((f) => field(r.record, f)))),
          ]
            .filter((k): k is string => typeof k === 'string')
            .concat(KEY_POOL);
          const key = fc.oneof(
            { weight: 8, arbitrary: fc.constantFrom(...keys) },
            { weight: 1, arbitrary: fc.constant('never-seen') },
          );
          const times = c.records.map((r) => r.record.timestamp as number);
          const near = (sign: -1 | 1 | 0): fc.Arbitrary<number> =>
            fc
              .tuple(
                fc.constantFrom(...times),
                fc.oneof(
                  sign === 0 ? fc.oneof(edge(-1), edge(1)) : edge(sign),
                  fc.integer({ min: sign === 1 ? 0 : -2 * HOUR_MS, max: 2 * HOUR_MS }),
                ),
              )
              .map(([t, o]) => t + o);
          // Two-entity views: the (user, product) pairs their records have, so reads meet them.
          const pairs = c.plans.flatMap((v) =>
            v.productKey && 'col' in v.key && 'col' in v.productKey
              ? c.records.map((r) => ({
                  user_id: field(r.record, (v.key as { col: string }).col),
                  product_id: field(r.record, (v.productKey as { col: string }).col),
                }))
              : [],
          );
          const keyPairs = pairs.filter(
            (p): p is { user_id: string; product_id: string } =>
              typeof p.user_id === 'string' && typeof p.product_id === 'string',
          );
          const keysArb = fc.oneof(
            { weight: 2, arbitrary: fc.record({ user_id: key, product_id: key }) },
            ...(keyPairs.length > 0
              ? [{ weight: 3, arbitrary: fc.constantFrom(...keyPairs) }]
              : []),
          );
          const request = c.onDemand?.request;
          const req = request ? requestValueArb(request) : fc.constant(undefined);
          const row = (t: fc.Arbitrary<number>): fc.Arbitrary<CaseRow> =>
            fc
              .tuple(keysArb, t, req)
              .map(([k, t, req]) => ({ ...k, t, ...(req !== undefined ? { req } : {}) }));
          return fc.record({
            plans: fc.constant(c.plans),
            onDemand: fc.constant(c.onDemand),
            now: fc.constant(c.now),
            records: fc.constant(c.records),
            exportRows: fc.array(
              row(
                fc.oneof(
                  { weight: 4, arbitrary: near(0) },
                  { weight: 1, arbitrary: edge(1).map((o) => o + c.now) },
                  {
                    weight: 1,
                    arbitrary: fc
                      .integer({ min: -45 * DAY_MS, max: 45 * DAY_MS })
                      .map((o) => o + c.now),
                  },
                ),
              ),
              { minLength: 10, maxLength: 40 },
            ),
            onlineReads: fc.array(
              row(
                fc.oneof(
                  { weight: 3, arbitrary: near(1).map((t) => Math.max(t, c.now)) },
                  { weight: 2, arbitrary: edge(1).map((o) => Math.max(o, 0) + c.now) },
                  {
                    weight: 1,
                    arbitrary: fc.integer({ min: 0, max: 45 * DAY_MS }).map((o) => o + c.now),
                  },
                ),
              ),
              { minLength: 10, maxLength: 30 },
            ),
            entityFile: entityFilePlanArb,
            batch: fc.option(batchPlanArb, { freq: 2 }),
          });
        });
    });
}

const field = (r: Rec, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Rec)[k] : undefined), r);

/** The case's records and times moved to `anchor` (a whole day, epoch ms). */
export function atAnchor(c: FuzzCase, anchor: number): FuzzCase {
  return {
    plans: c.plans,
    onDemand: c.onDemand ?? null,
    now: c.now + anchor,
    records: c.records.map((r) => ({
      source: r.source,
      record: { ...r.record, timestamp: (r.record.timestamp as number) + anchor },
    })),
    exportRows: c.exportRows.map((r) => ({ ...r, t: r.t + anchor })),
    onlineReads: c.onlineReads.map((r) => ({ ...r, t: r.t + anchor })),
    entityFile: c.entityFile ?? null,
    batch: c.batch ?? null,
  };
}

/**
 * The case moved to the whole day that puts its "now" within a day after the wall clock: what
 * a Redis store needs, as it expires keys at data time + TTL on its own clock.
 */
export const nearWallClock = (raw: FuzzCase): FuzzCase =>
  atAnchor(raw, (Math.floor((Date.now() - raw.now) / DAY_MS) + 1) * DAY_MS);
