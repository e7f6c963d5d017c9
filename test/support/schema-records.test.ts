import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TransactionSchema, UserEventSchema } from '../../examples/ecommerce/features/schemas.ts';
import { schemaRecord, timestampsIn } from './schema-records.ts';

const LOOSE = z.object({
  id: z.string().min(1),
  note: z.string().optional(),
  amount: z.number().nullable(),
  tags: z.array(z.object({ k: z.string(), n: z.number().int() })),
});

describe('schema-records', () => {
  it('generates only records valid under the schema, in the shapes datagen never makes', () => {
    const events = fc.sample(schemaRecord(UserEventSchema), { numRuns: 400, seed: 1 });
    const txs = fc.sample(schemaRecord(TransactionSchema), { numRuns: 400, seed: 2 });
    for (const r of events) expect(UserEventSchema.safeParse(r).success).toBe(true);
    for (const r of txs) expect(TransactionSchema.safeParse(r).success).toBe(true);
    const props = events.map((e) => e.properties as Record<string, string>);
    expect(events.some((e) => e.userId === null)).toBe(true);
    expect(props.some((p) => Object.keys(p).length === 0)).toBe(true);
    expect(props.some((p) => p.price !== undefined && !/^\d+\.\d\d$/.test(p.price))).toBe(true);
    expect(props.some((p) => Object.keys(p).length > 6)).toBe(true);
    const strings = events.flatMap((e) => Object.values(e.properties as object) as string[]);
    expect(strings.some((s) => /[\u{10000}-\u{10ffff}]/u.test(s))).toBe(true);
    const items = txs.map((t) => t.orderItems as unknown[]);
    expect(items.some((i) => i.length === 0)).toBe(true);
    expect(items.some((i) => i.length > 6)).toBe(true);
    const amounts = txs.map((t) => t.totalAmount as number);
    expect(amounts.some((a) => Math.abs(a) >= 1e300)).toBe(true);
    expect(amounts.some((a) => !Number.isInteger(a))).toBe(true);
  });

  it('leaves optional fields out, adds unknown fields to non-strict objects, honours overrides', () => {
    const T0 = 1_700_000_000_000;
    const recs = fc.sample(schemaRecord(LOOSE, { overrides: { id: fc.constantFrom('a', 'b') } }), {
      numRuns: 300,
      seed: 3,
    });
    for (const r of recs) expect(LOOSE.safeParse(r).success).toBe(true);
    expect(recs.some((r) => !('note' in r))).toBe(true);
    expect(recs.some((r) => 'note' in r)).toBe(true);
    expect(recs.some((r) => Object.keys(r).some((k) => !(k in LOOSE.shape)))).toBe(true);
    expect(new Set(recs.map((r) => r.id))).toEqual(new Set(['a', 'b']));
    expect(recs.some((r) => r.amount === null)).toBe(true);
    const ts = fc.sample(timestampsIn(T0, T0 + 3_600_000), { numRuns: 200, seed: 4 });
    expect(ts.every((t) => t >= T0 && t <= T0 + 3_600_000 && Number.isInteger(t))).toBe(true);
    expect(new Set(ts).size).toBeLessThan(ts.length - 20); // many equal timestamps
  });
});
