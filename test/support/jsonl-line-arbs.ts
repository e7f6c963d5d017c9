/**
 * JSON Lines the way producers write them, from a source schema's generated records: other key
 * orders, spaces, `1.0` / `1e3` for integers, CRLF, a BOM; and broken the ways producers break
 * them: wrong types, missing and null required fields, values outside an enum, unknown keys,
 * huge numbers, non-JSON and non-object lines, blank and whitespace-only lines. Shared by the
 * validators' differential test and the native validator's parity test.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { describeZod, type RecordType } from '../../definitions/record-schema.ts';
import { schemaRecord } from './schema-records.ts';

/** A source schema the validators are compared on, and how its records are generated and broken. */
export interface Case {
  zod: z.AnyZodObject;
  schema: RecordType;
  fields: string[];
  record: fc.Arbitrary<Record<string, unknown>>;
  paths: string[][];
}

// ---- JSON text with producers' variations ---------------------------------------------------

/** A JSON value, or raw JSON text standing for one (numbers JavaScript cannot hold). */
export class Raw {
  constructor(readonly text: string) {}
}

export interface Style {
  space: boolean;
  shuffle: number;
  /** Integers as `1.0` or `1e3` where exact. */
  intForm: 'plain' | 'dot' | 'exp';
}

export function write(v: unknown, style: Style, depth = 0): string {
  if (v instanceof Raw) return v.text;
  if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 1e15) {
    if (style.intForm === 'dot') return `${v}.0`;
    if (style.intForm === 'exp' && v !== 0 && v % 1000 === 0) return `${v / 1000}e3`;
  }
  if (Array.isArray(v)) return `[${v.map((x) => write(x, style, depth + 1)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    if (style.shuffle > 0 && entries.length > 1) {
      const k = (style.shuffle + depth) % entries.length;
      entries.push(...entries.splice(0, k));
    }
    const sep = style.space ? ': ' : ':';
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}${sep}${write(x, style, depth + 1)}`).join(style.space ? ', ' : ',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export const WRONG: unknown[] = [
  'x',
  '5',
  5,
  1.5,
  -0.25,
  true,
  false,
  null,
  {},
  { a: 1 },
  [],
  [1],
  new Raw('1e400'),
  new Raw('-1e400'),
  new Raw('100000000000000000000'),
  new Raw('9007199254740993'),
  new Raw('-9007199254740992'),
  new Raw('18446744073709551615'),
  new Raw('1e-400'),
  new Raw('"\\ud800"'),
  new Raw('"\\u00e9"'),
  'nope',
  'é',
  'A',
  // breaking the checks
  '',
  'ab',
  'abcd',
  '😀',
  '😀😀',
  new Raw('"\\ud83d\\ude00x"'),
  0,
  -1,
  0.5,
  1,
  1000,
  1001,
  ['ab'],
  ['ab', 'cd', 'ef', 'gh'],
  ['abc'],
];

export type Mutation =
  | { kind: 'set'; path: string[]; value: unknown }
  | { kind: 'delete'; path: string[] }
  | { kind: 'extra'; value: unknown };

export const mutationOf = (paths: string[][]): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      path: fc.constantFrom(...paths),
      value: fc.constantFrom(...WRONG),
    }),
    fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...paths) }),
    fc.record({ kind: fc.constant('extra' as const), value: fc.constantFrom(...WRONG) }),
  );

export function mutate(record: Record<string, unknown>, m: Mutation): unknown {
  const r = structuredClone(record);
  if (m.kind === 'extra') return { ...r, zz_unknown: m.value };
  let parent: unknown = r;
  for (const p of m.path.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') return r;
    parent = (parent as Record<string, unknown>)[p];
  }
  if (parent === null || typeof parent !== 'object') return r;
  const last = m.path.at(-1)!;
  const obj = parent as Record<string, unknown>;
  if (m.kind === 'delete') delete obj[last];
  else obj[last] = m.value;
  return r;
}

export const style: fc.Arbitrary<Style> = fc.record({
  space: fc.boolean(),
  shuffle: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(5)),
  intForm: fc.constantFrom('plain', 'plain', 'plain', 'dot', 'exp'),
});

/** One line of a file: a good record, a broken one, or a line that is no record at all. */
export const lineOf = ({ record, paths }: Case): fc.Arbitrary<string> => {
  const mutation = mutationOf(paths);
  return fc.oneof(
    { weight: 6, arbitrary: record.map((r) => JSON.stringify(r)) },
    { weight: 3, arbitrary: fc.tuple(record, style).map(([r, s]) => write(r, s)) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(record, mutation, style, fc.boolean())
        .map(([r, m, s, plain]) => write(mutate(r, m), plain ? { ...s, shuffle: 0 } : s)),
    },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom('', ' ', '\t', '\u00a0', '\u3000 ', '\ufeff', '\v'),
        fc.constantFrom('[1]', '5', '"x"', 'null', 'true', '[]', '{', '{"id": ', 'NaN', '{}x'),
        fc.constantFrom('{"x": NaN}', '{"x": Infinity}', "{'id': 'a'}", '{"id":"a",}', '//'),
        record.map((r) => ` ${JSON.stringify(r)} `),
        record.map((r) => JSON.stringify(r).slice(0, -1)),
      ),
    },
  );
};
export type FileCase = { lines: string[]; crlf: boolean; bom: boolean; finalNewline: boolean };

export const fileText = (f: FileCase): string => {
  const eol = f.crlf ? '\r\n' : '\n';
  return (f.bom ? '\ufeff' : '') + f.lines.join(eol) + (f.finalNewline ? eol : '');
};

export const fileOf = (c: Case): fc.Arbitrary<FileCase> =>
  fc.record({
    lines: fc.array(lineOf(c), { minLength: 0, maxLength: 12 }),
    crlf: fc.boolean(),
    bom: fc.boolean(),
    finalNewline: fc.boolean(),
  });

/**
 * A schema with a field of every kind, check and nesting the validators handle (enums, nullable
 * and optional fields, maps, arrays of records, a nullable record): the differential and native
 * validation tests' main case (`main`: its records, and the paths their mutations break).
 */
export const WIDE = (() => {
  const Schema = z.object({
    id: z.string(),
    code: z.string().min(1).max(3),
    qty: z.number().int().nonnegative().lte(1000),
    score: z.number().gt(0).lt(1),
    ratio: z.number().finite().nullable(),
    tags: z.array(z.string().length(2)).min(1).max(3),
    n: z.string().nullable(),
    kind: z.enum(['a', 'b', 'é']),
    ts: z.number().int(),
    x: z.number().nullable(),
    flag: z.boolean(),
    opt: z.number().int().optional(),
    attrs: z.record(z.string(), z.string()),
    counts: z.record(z.string(), z.number().int().nullable()),
    items: z.array(
      z.object({ sku: z.string().min(1), q: z.number().int(), p: z.number().nullable() }),
    ),
    ctx: z.object({ ua: z.string(), ref: z.string().nullable() }).nullable(),
  });
  const SCHEMA = describeZod(Schema) as RecordType;
  const FIELDS = Object.keys(SCHEMA.fields);
  const main: Case = {
    zod: Schema,
    schema: SCHEMA,
    fields: FIELDS,
    record: schemaRecord(Schema, { maxArrayLength: 3 }),
    paths: [
      ...FIELDS.map((f) => [f]),
      ['tags', '0'],
      ['ctx', 'ua'],
      ['ctx', 'ref'],
      ['items', '0'],
      ['items', '0', 'sku'],
      ['items', '0', 'q'],
      ['items', '0', 'p'],
      ['attrs', 'k'],
      ['counts', 'c'],
    ],
  };
  return { SCHEMA, FIELDS, main };
})();
