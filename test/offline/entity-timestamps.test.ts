/**
 * Entity-row timestamps (offline/export/entity-timestamp.ts): whole numbers are read in integer
 * arithmetic (DuckDB parses text as DECIMAL(38, 6) at ~25 µs a value). On random values, text and
 * integer columns in every unit give exactly what the exact decimal reading gives: floor of the
 * value in ms.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timestampExpr } from '../../offline/export/entity-timestamp.ts';

let db: DuckDBInstance;
let c: DuckDBConnection;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  c = await db.connect();
  await c.run(`SET TimeZone = 'UTC'`);
});
afterAll(() => {
  c.closeSync();
});

/** floor(v in unit, as ms), computed exactly with BigInt from the digits. */
function expected(text: string, unit: 's' | 'ms' | 'us'): bigint | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const frac = (m[3] ?? '').slice(0, 6).padEnd(6, '0');
  let micros = BigInt(m[2]!) * 1_000_000n + BigInt(frac); // value × 10^6
  if (m[1] === '-') micros = -micros;
  const scale = unit === 's' ? 1000n : unit === 'ms' ? 1n : 1n;
  const num = micros * scale;
  const den = unit === 'us' ? 1_000_000n * 1000n : 1_000_000n;
  const q = num / den;
  return num % den !== 0n && num < 0n ? q - 1n : q;
}

async function read(type: string, values: string[], unit: 's' | 'ms' | 'us'): Promise<unknown[]> {
  const rows = values.map((v) => `(${type === 'VARCHAR' ? `'${v}'` : v})`).join(', ');
  const r = await c.runAndReadAll(
    `SELECT ${timestampExpr(type, unit)} AS t FROM (SELECT CAST(v AS ${type}) AS event_timestamp FROM (VALUES ${rows}) x(v))`,
  );
  return r.getRowObjects().map((o) => o.t);
}

const UNITS = ['s', 'ms', 'us'] as const;
// Every epoch time in range, in any unit: |ms| ≤ 8.64e15, so |µs| ≤ 8.64e18.
const whole = fc.bigInt({ min: -8_640_000_000_000_000_000n, max: 8_640_000_000_000_000_000n });

describe('entity timestamps read as epoch numbers', () => {
  it.each(UNITS)('text whole numbers and decimals, unit %s', async (unit) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            whole.map((b) => (unit === 's' ? b / 1000n : unit === 'ms' ? b / 1000n : b).toString()),
            fc
              .tuple(fc.integer({ min: -2e9, max: 2e9 }), fc.integer({ min: 0, max: 999_999 }))
              .map(([i, f]) => `${i}.${String(f).padStart(6, '0')}`),
          ),
          { minLength: 1, maxLength: 50 },
        ),
        async (values) => {
          const got = await read('VARCHAR', values, unit);
          expect(got).toEqual(values.map((v) => expected(v, unit)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each(UNITS)('BIGINT columns, unit %s', async (unit) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          whole.map((b) => (unit === 'us' ? b : b / 1000n).toString()),
          { minLength: 1, maxLength: 50 },
        ),
        async (values) => {
          expect(await read('BIGINT', values, unit)).toEqual(values.map((v) => expected(v, unit)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each(UNITS)(
    'text the shortest-form fast path refuses reads as the exact decimal, unit %s',
    async (unit) => {
      // Not a BIGINT's own text (spaces, a sign, leading zeros, an exponent, 19 digits): the
      // general path, with the same values as the exact reading (null for what is no number).
      const values = [
        ' 1717200000',
        '1717200000 ',
        '+1717200000',
        '0001717200000',
        '-0',
        '00',
        '1e3',
        '10e2',
        '1_000',
        '1717200000.0',
        '999999999999999999',
        '-999999999999999999',
        '1000000000000000000',
        '-1000000000000000000',
      ];
      const exact = values.map((v) => (/^\s*-?\d+(\.\d+)?\s*$/.test(v) ? expected(v, unit) : null));
      // Whole numbers beyond BIGINT once scaled to ms are an error on either path.
      const fits = exact.map((e) => e === null || (e >= -(2n ** 63n) && e < 2n ** 63n));
      expect(
        await read(
          'VARCHAR',
          values.filter((_, i) => fits[i]),
          unit,
        ),
      ).toEqual(exact.filter((_, i) => fits[i]));
    },
  );

  it('negative microseconds floor towards the past; text that is no number is ISO-8601', async () => {
    expect(await read('VARCHAR', ['-1', '-1000', '-1001', '999'], 'us')).toEqual([
      -1n,
      -1n,
      -2n,
      0n,
    ]);
    expect(await read('VARCHAR', ['2024-06-01T00:00:00Z', 'soon'], 'ms')).toEqual([
      1717200000000n,
      null,
    ]);
  });
});
