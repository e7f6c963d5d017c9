/**
 * A source field declared `.optional()` may be absent or null on every path, like a
 * `.nullable()` one: the batch path (`recordProblem`, JSON Lines → NULL) accepted such records
 * while the stream and `/push` (`parseSourceRecord`) refused every record without the field
 * (zod's `.optional()` refuses the null an absent field reads as). Both now accept them with the
 * same data, and refinements and the fast path keep working.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { tempRepo } from '../support/temp-repo.ts';
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

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

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

  it.each([
    ['.default()', z.object({ id: z.string(), n: z.number().default(1) }), 'record.n: .default()'],
    ['z.coerce', z.object({ id: z.string(), c: z.coerce.number() }), 'record.c: z.coerce'],
    [
      '.transform()',
      z.object({ id: z.string(), t: z.string().transform((x) => x.trim()) }),
      'record.t: .transform()',
    ],
    [
      'z.preprocess()',
      z.object({ id: z.preprocess((x) => String(x), z.string()) }),
      'record.id: z.preprocess()',
    ],
  ])(
    'a source schema using %s (it changes the data) is refused at definition time',
    (_, schema, msg) => {
      expect(() => describeZod(schema)).toThrow(msg);
      expect(() => describeZod(schema)).toThrow('batch files cannot do');
    },
  );

  it('refinements are still accepted (they only refuse records)', () => {
    const schema = z.object({ id: z.string() }).refine((r) => r.id !== 'x');
    expect(describeZod(schema)).toMatchObject({ kind: 'record' });
  });

  it('a repository whose source schema uses .default() fails to load: the file, the source, the field', async () => {
    const r = tempRepo({
      'repo.ts': `
import { z } from 'zod';
import { batchSource } from 'larder';
export const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), n: z.number().default(1), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
`,
    });
    cleanups.push(r.cleanup);
    const err = await loadRepository(r.dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DefinitionError);
    const [p] = (err as DefinitionError).problems;
    expect(p).toMatchObject({ object: 'batch source "events"', field: 'schema' });
    expect(p!.at).toContain('repo.ts');
    expect(p!.message).toContain('record.n: .default() changes the data');
  });
});
