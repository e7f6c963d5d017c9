import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  feastJsonBytes,
  feastJsonPayload,
  feastJsonString,
  timestampJson,
  toFeastJson,
} from '../../api/feature-server/feast-json.ts';
import type { OnlineColumn } from '../../retrieval/get-online-features.ts';
import type { FeatureStatus } from '../../online/online-store.ts';

const STATUSES: FeatureStatus[] = ['PRESENT', 'NULL_VALUE', 'NOT_FOUND', 'OUTSIDE_MAX_AGE'];

/** The writer's string, bytes and payload are `JSON.stringify(toFeastJson(res))`'s. */
function agrees(res: { columns: OnlineColumn[] }): void {
  const want = JSON.stringify(toFeastJson(res));
  expect(feastJsonString(res)).toBe(want);
  expect(feastJsonBytes(res).toString('hex')).toBe(Buffer.from(want, 'utf8').toString('hex'));
  const payload = feastJsonPayload(res);
  expect(typeof payload === 'string' ? payload : payload.toString('utf8')).toBe(want);
}

const valueArb = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 53 - 1, 1e21, 1e-7),
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { maxLength: 3 }),
);

const tsArb = fc.oneof(
  fc.constant(null),
  fc.constant(0),
  fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }),
  fc.integer({ min: 0, max: 10_000 }).map((k) => 1_700_000_000_000 + k * 60_000),
);

const columnArb = (n: number): fc.Arbitrary<OnlineColumn> =>
  fc.record({
    name: fc.string({ unit: 'grapheme' }),
    type: fc.constant(null),
    values: fc.array(valueArb, { minLength: n, maxLength: n }),
    statuses: fc.array(fc.constantFrom(...STATUSES), { minLength: n, maxLength: n }),
    eventTs: fc.array(tsArb, { minLength: n, maxLength: n }),
  });

describe('feastJsonString', () => {
  it('is JSON.stringify(toFeastJson(res)), byte for byte', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 6 })
          .chain((n) => fc.array(columnArb(n), { maxLength: 6 }).map((columns) => ({ columns }))),
        (res) => {
          agrees(res);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is the same for long columns, uniform ones (one status, no event times) included', () => {
    // Frozen or not: retrieval shares frozen lists of one status, or of no event time.
    const list = <T>(item: T, n: number, frozen: boolean): T[] => {
      const l = new Array<T>(n).fill(item);
      return frozen ? (Object.freeze(l) as T[]) : l;
    };
    const uniform = (n: number): fc.Arbitrary<OnlineColumn> =>
      fc.record({
        name: fc.string(),
        type: fc.constant(null),
        values: fc.array(valueArb, { minLength: n, maxLength: n }),
        statuses: fc
          .tuple(fc.constantFrom(...STATUSES), fc.boolean())
          .map(([st, frozen]) => list<FeatureStatus>(st, n, frozen)),
        eventTs: fc
          .tuple(fc.oneof(fc.constantFrom(null, 0), tsArb), fc.boolean())
          .map(([t, frozen]) => list<number | null>(t, n, frozen)),
      });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 7, max: 150 })
          .chain((n) =>
            fc
              .array(fc.oneof(columnArb(n), uniform(n)), { maxLength: 4 })
              .map((columns) => ({ columns })),
          ),
        (res) => {
          agrees(res);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is the same for columns of repeated values and event times (1 entity × N rows) and runs of them', () => {
    const runs = (n: number): fc.Arbitrary<OnlineColumn> =>
      fc
        .tuple(
          fc.array(fc.tuple(valueArb, tsArb, fc.constantFrom(...STATUSES)), {
            minLength: 1,
            maxLength: 3,
          }),
          fc.array(fc.nat(), { minLength: n, maxLength: n }),
          fc.boolean(),
        )
        .map(([items, picks, sorted]) => {
          // One item in every row, or rows drawn from a few items (in runs when sorted).
          const at = picks.map((p) => p % items.length);
          if (sorted) at.sort((a, b) => a - b);
          return {
            name: 'c',
            type: null,
            values: at.map((k) => items[k]![0]),
            statuses: at.map((k) => items[k]![2]),
            eventTs: at.map((k) => items[k]![1]),
          };
        });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 120 })
          .chain((n) => fc.array(runs(n), { minLength: 1, maxLength: 4 }))
          .map((columns) => ({ columns })),
        (res) => {
          agrees(res);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('gives a large answer as bytes (UTF-8), a small one as a string', () => {
    const n = 3000;
    const col = (name: string, values: unknown[]): OnlineColumn => ({
      name,
      type: null,
      values,
      statuses: new Array<FeatureStatus>(n).fill('PRESENT'),
      eventTs: values.map((_, i) => 1_700_000_000_000 + i * 1000),
    });
    const large = {
      columns: [
        col(
          'é',
          Array.from({ length: n }, (_, i) => `naïve ${i} ☕ 𝄞`),
        ),
        col(
          'x',
          Array.from({ length: n }, (_, i) => i / 7),
        ),
      ],
    };
    expect(Buffer.isBuffer(feastJsonPayload(large))).toBe(true);
    agrees(large);
    const small = { columns: [col('x', [1.5, 'ü'].slice(0, 2))] };
    small.columns[0]!.statuses = ['PRESENT', 'PRESENT'];
    small.columns[0]!.eventTs = [null, 0];
    expect(typeof feastJsonPayload(small)).toBe('string');
    agrees(small);
  });

  it('formats timestamps as before, from the cache too', () => {
    for (let k = 0; k < 2; k++) {
      expect(timestampJson(null)).toBe('1970-01-01T00:00:00Z');
      expect(timestampJson(1_734_740_700_000)).toBe('2024-12-21T00:25:00Z');
      expect(timestampJson(1_734_740_700_123)).toBe('2024-12-21T00:25:00.123Z');
    }
  });
});
