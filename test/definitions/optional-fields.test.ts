/**
 * A source field declared `.optional()` may be absent or null on every path, like a
 * `.nullable()` one: the batch path (`recordProblem`, JSON Lines → NULL) accepted such records
 * while the stream and `/push` (`parseSourceRecord`) refused every record without the field
 * (zod's `.optional()` refuses the null an absent field reads as). Both now accept them with the
 * same data, and refinements and the fast path keep working.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeZod, type RecordType } from '../../definitions/record-schema.ts';
import { nullTolerantSchema, parseSourceRecord } from '../../definitions/source-record.ts';
import { recordProblem } from '../../offline/validate-record.ts';

const Schema = z.object({
  id: z.string(),
  amount: z.number().optional(),
  note: z.string().min(2).optional(),
  tags: z.array(z.string().optional()).optional(),
  meta: z.object({ source: z.string().optional(), n: z.number().int().nullable() }).optional(),
  kind: z.enum(['a', 'b']).nullable(),
  checked: z
    .object({ lo: z.number().optional(), hi: z.number().optional() })
    .refine((o) => o.lo == null || o.hi == null || o.lo <= o.hi, 'lo above hi')
    .optional(),
});
const type = describeZod(Schema) as RecordType;

describe('optional source fields: absent or null on every path', () => {
  it.each([
    [{ id: 'x' }, { amount: null, note: null, tags: null, meta: null, checked: null, kind: null }],
    [
      { id: 'x', amount: null, meta: { n: 1 } },
      { amount: null, meta: { source: null, n: 1 } },
    ],
    [
      { id: 'x', tags: ['t', null], kind: 'b' },
      { tags: ['t', null], kind: 'b' },
    ],
    [{ id: 'x', checked: { lo: 1 } }, { checked: { lo: 1, hi: null } }],
  ])('%j is valid on the stream, on /push and in batch files', (raw, expected) => {
    const r = parseSourceRecord(Schema, type, raw);
    expect(r.success).toBe(true);
    expect(r.data).toMatchObject({ id: 'x', ...expected });
    expect(recordProblem(type, raw)).toBeNull();
  });

  it('what the schema refuses is still refused: types, refinements, checks of present values', () => {
    for (const raw of [
      {},
      { id: 'x', amount: 'one' },
      { id: 'x', note: 'a' },
      { id: 'x', checked: { lo: 2, hi: 1 } },
      { id: 'x', kind: 'c' },
      { id: 'x', meta: { n: 1.5 } },
    ])
      expect(parseSourceRecord(Schema, type, raw).success, JSON.stringify(raw)).toBe(false);
  });

  it('rebuilds only what changes and caches it', () => {
    const plain = z.object({ a: z.string(), b: z.number().nullable() });
    expect(nullTolerantSchema(plain)).toBe(plain);
    expect(nullTolerantSchema(Schema)).toBe(nullTolerantSchema(Schema));
    expect(nullTolerantSchema(Schema)).not.toBe(Schema);
    // The source's own schema is untouched.
    expect(Schema.safeParse({ id: 'x', amount: null }).success).toBe(false);
  });
});
