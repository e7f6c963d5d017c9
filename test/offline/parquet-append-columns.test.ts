/**
 * Appending typed feature columns to a Parquet file DuckDB wrote (offline/parquet/): the
 * Thrift compact codec re-encodes DuckDB's footer byte for byte; after the append one scan of
 * the file returns DuckDB's columns and the new ones row for row, across row groups, with
 * DuckDB's types (BIGINT, DOUBLE, BOOLEAN, VARCHAR), nulls, both int64 encodings (dictionary
 * and plain), long runs and bit-packed stretches of the hybrid encoding, wide dictionaries,
 * statistics a filtered scan can trust, list columns (Parquet LISTs of strings, int64 and
 * float64) — and, as a property, random columns of every kind with random null patterns over
 * random row groups read back as given.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendColumns, type AppendColumn } from '../../offline/parquet/append-columns.ts';
import { decodeStruct, encodeStruct } from '../../offline/parquet/thrift-compact.ts';
import { Rng } from '../../examples/ecommerce/datagen/rng.ts';
import { tempDir } from '../support/temp-repo.ts';

let tmp: { dir: string; cleanup: () => void };
let conn: DuckDBConnection;
let close: () => void;

beforeAll(async () => {
  tmp = tempDir();
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  conn = await instance.connect();
  close = () => {
    conn.closeSync();
    instance.closeSync();
  };
});
afterAll(() => {
  close();
  tmp.cleanup();
});

/** DuckDB writes `rows` rows (id, a string, a nullable label) in row groups of `group`. */
async function duckFile(name: string, rows: number, group = 2048): Promise<string> {
  const path = join(tmp.dir, name);
  await conn.run(
    `COPY (SELECT i AS id, 'u' || (i % 97) AS user_id, CASE WHEN i % 3 = 0 THEN NULL ELSE i / 2 END AS label FROM range(${rows}) t(i) ORDER BY i) ` +
      `TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE ${group})`,
  );
  return path;
}

function footer(path: string): Uint8Array {
  const b = readFileSync(path);
  const len = b.readInt32LE(b.length - 8);
  return new Uint8Array(b.subarray(b.length - 8 - len, b.length - 8));
}

async function rowsOf(sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** A deterministic uniform [0, 1) source (the data generator's). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** What a column's value at row i reads back as (null for NaN). */
function expected(c: AppendColumn, i: number): unknown {
  if (c.type === 'list') {
    const items = [...c.items.subarray(c.offsets[i]!, c.offsets[i + 1]!)];
    return items.map((x) => (Number.isNaN(x) ? null : c.dict ? c.dict[x] : x));
  }
  if ('strings' in c) return c.strings[i];
  if ('codes' in c) return Number.isNaN(c.codes[i]!) ? null : c.dict[c.codes[i]!];
  const x = c.values[i]!;
  if (Number.isNaN(x)) return null;
  return c.type === 'bool' ? x !== 0 : x;
}

describe('appendColumns', () => {
  it('round-trips a DuckDB footer through the Thrift compact codec', async () => {
    const bytes = footer(await duckFile('codec.parquet', 10_000));
    const [meta, end] = decodeStruct(bytes);
    expect(end).toBe(bytes.length);
    expect(encodeStruct(meta)).toEqual(bytes);
  });

  it('adds typed, nullable columns a scan reads in row order, across row groups', async () => {
    const rows = 20_000;
    const path = await duckFile('typed.parquet', rows);
    const r = rng(11);
    // Runs of equal values longer and shorter than 8, nulls in runs and scattered.
    const runs = (i: number): number => Math.floor(i / 13) % 5;
    const columns: AppendColumn[] = [
      {
        name: 'count_small',
        type: 'int64',
        values: Float64Array.from({ length: rows }, (_, i) => (i % 1000 < 300 ? 0 : runs(i))),
      },
      {
        name: 'count_nulls',
        type: 'int64',
        values: Float64Array.from({ length: rows }, (_, i) =>
          i % 7 === 0 || (i > 5000 && i < 5100) ? NaN : Math.floor(r() * 40) - 20,
        ),
      },
      {
        name: 'ts_wide',
        type: 'int64',
        values: Float64Array.from({ length: rows }, (_, i) =>
          i % 11 === 0 ? NaN : 1.7e12 + Math.floor(r() * 1e9) * (i % 2 ? 1 : -3),
        ),
      },
      {
        name: 'amount',
        type: 'float64',
        values: Float64Array.from({ length: rows }, (_, i) =>
          i % 5 === 0 ? NaN : i % 17 === 0 ? -0 : (r() - 0.5) * 1e4,
        ),
      },
      {
        name: 'dense',
        type: 'float64',
        values: Float64Array.from({ length: rows }, (_, i) => i / 3),
      },
      {
        // ±Infinity are values, not nulls (the encoder's fast null test would say otherwise).
        name: 'extreme',
        type: 'float64',
        values: Float64Array.from({ length: rows }, (_, i) =>
          i % 3 === 0 ? NaN : i % 1000 === 1 ? Infinity : i % 1000 === 2 ? -Infinity : i,
        ),
      },
      {
        name: 'flag',
        type: 'bool',
        values: Float64Array.from({ length: rows }, (_, i) =>
          i % 9 === 0 ? NaN : r() < 0.2 ? 1 : 0,
        ),
      },
      {
        name: 'platform',
        type: 'string',
        dict: ['android', 'ios', 'web'],
        codes: Float64Array.from({ length: rows }, (_, i) =>
          i % 4 === 0 ? NaN : Math.floor(r() * 3),
        ),
      },
      {
        name: 'unordered_dict',
        type: 'string',
        dict: ['zz', 'é', 'a', ''],
        codes: Float64Array.from({ length: rows }, () => Math.floor(r() * 4)),
      },
      {
        name: 'tag',
        type: 'string',
        strings: Array.from({ length: rows }, (_, i) =>
          i % 6 === 0 ? null : `s${Math.floor(r() * 5000)}`,
        ),
      },
      { name: 'nothing', type: 'float64', values: new Float64Array(rows).fill(NaN) },
    ];
    appendColumns(path, columns);

    const types = await rowsOf(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    expect(types.map((t) => [t.column_name, t.column_type])).toEqual([
      ['id', 'BIGINT'],
      ['user_id', 'VARCHAR'],
      ['label', 'DOUBLE'],
      ['count_small', 'BIGINT'],
      ['count_nulls', 'BIGINT'],
      ['ts_wide', 'BIGINT'],
      ['amount', 'DOUBLE'],
      ['dense', 'DOUBLE'],
      ['extreme', 'DOUBLE'],
      ['flag', 'BOOLEAN'],
      ['platform', 'VARCHAR'],
      ['unordered_dict', 'VARCHAR'],
      ['tag', 'VARCHAR'],
      ['nothing', 'DOUBLE'],
    ]);
    const got = await rowsOf(`SELECT * FROM read_parquet('${path}')`);
    expect(got).toHaveLength(rows);
    const mismatch: unknown[] = [];
    got.forEach((row, i) => {
      if (Number(row.id) !== i || row.user_id !== `u${i % 97}`) mismatch.push(['order', i]);
      const values = Object.values(row).slice(3);
      columns.forEach((c, k) => {
        const v = values[k];
        const want = expected(c, i);
        const back = typeof v === 'bigint' ? Number(v) : v;
        if (!Object.is(back, want) && !(back === want)) mismatch.push([c.name, i, back, want]);
      });
    });
    expect(mismatch.slice(0, 5)).toEqual([]);
    const groups = await rowsOf(
      `SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata('${path}')`,
    );
    expect(Number(groups[0]!.n)).toBe(Math.ceil(rows / 2048));
  });

  it('writes statistics that filtered scans (row-group pruning) can trust', async () => {
    const rows = 50_000;
    const path = await duckFile('stats.parquet', rows, 4096);
    const r = rng(3);
    // Values drift with the row, so row groups have distinct ranges and pruning kicks in.
    const n = Float64Array.from({ length: rows }, (_, i) =>
      i % 10 === 0 ? NaN : Math.floor(i / 100) + Math.floor(r() * 5),
    );
    const x = Float64Array.from({ length: rows }, (_, i) => (i % 8 === 0 ? NaN : i * 0.5 - 1000));
    const dict = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const s = Float64Array.from({ length: rows }, (_, i) => Math.min(7, Math.floor(i / 6500)));
    const b = Float64Array.from({ length: rows }, (_, i) => (i < 30_000 ? 0 : 1));
    appendColumns(path, [
      { name: 'n', type: 'int64', values: n },
      { name: 'x', type: 'float64', values: x },
      { name: 's', type: 'string', codes: s, dict },
      { name: 'b', type: 'bool', values: b },
    ]);
    const count = (pred: (i: number) => boolean): number => {
      let c = 0;
      for (let i = 0; i < rows; i++) if (pred(i)) c++;
      return c;
    };
    const [got] = await rowsOf(
      `SELECT count(*) FILTER (WHERE n > 300) AS n1, count(*) FILTER (WHERE n = 17) AS n2,
              count(*) FILTER (WHERE x < -900) AS x1, count(*) FILTER (WHERE x >= 20000) AS x2,
              count(*) FILTER (WHERE s = 'c') AS s1, count(*) FILTER (WHERE s > 'f') AS s2,
              count(*) FILTER (WHERE b) AS b1, count(n) AS nn FROM read_parquet('${path}')`,
    );
    expect(Object.fromEntries(Object.entries(got!).map(([k, v]) => [k, Number(v)]))).toEqual({
      n1: count((i) => n[i]! > 300),
      n2: count((i) => n[i] === 17),
      x1: count((i) => x[i]! < -900),
      x2: count((i) => x[i]! >= 20000),
      s1: count((i) => s[i] === 2),
      s2: count((i) => s[i]! > 5),
      b1: count((i) => b[i] === 1),
      nn: count((i) => !Number.isNaN(n[i]!)),
    });
    // The same predicates as WHERE clauses (pushed down to the Parquet reader).
    for (const [pred, want] of [
      ['n > 300', count((i) => n[i]! > 300)],
      ['x >= 20000', count((i) => x[i]! >= 20000)],
      ["s = 'c'", count((i) => s[i] === 2)],
      ['b', count((i) => b[i] === 1)],
    ] as const) {
      const [c] = await rowsOf(`SELECT count(*) AS c FROM read_parquet('${path}') WHERE ${pred}`);
      expect(Number(c!.c), pred).toBe(want);
    }
    // Per row group min/max/null count equal the values'.
    const meta = await rowsOf(
      `SELECT row_group_id AS g, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls
       FROM parquet_metadata('${path}') WHERE path_in_schema = 'n' ORDER BY g`,
    );
    meta.forEach((m) => {
      const g = Number(m.g);
      const part = [...n.subarray(g * 4096, (g + 1) * 4096)];
      const present = part.filter((v) => !Number.isNaN(v));
      expect([Number(m.lo), Number(m.hi), Number(m.nulls)]).toEqual([
        Math.min(...present),
        Math.max(...present),
        part.length - present.length,
      ]);
    });
  });

  it('holds wide dictionaries and long bit-packed stretches', async () => {
    const rows = 70_000;
    const path = await duckFile('wide.parquet', rows, 100_000);
    // 70 000 distinct strings in one row group: 17-bit indices; no run of 8 anywhere.
    const strings = Array.from({ length: rows }, (_, i) => `k${(i * 7919) % rows}`);
    const levels = Float64Array.from({ length: rows }, (_, i) => (i % 2 ? NaN : i % 3));
    appendColumns(path, [
      { name: 'k', type: 'string', strings },
      { name: 'alt', type: 'int64', values: levels },
    ]);
    const got = await rowsOf(`SELECT k, alt FROM read_parquet('${path}')`);
    expect(got.map((g) => g.k)).toEqual(strings);
    expect(got.map((g) => (g.alt === null ? null : Number(g.alt)))).toEqual(
      [...levels].map((v) => (Number.isNaN(v) ? null : v)),
    );
  });

  it('bit-packs dictionary indices of every width from 1 to 10 bits, a short last group too', async () => {
    // 2^w distinct values per column: indices exactly w bits wide; a stride coprime with 2^w
    // leaves no run of 8 equal values, so every group is bit-packed; 1003 rows end in 3.
    const rows = 1003;
    const path = await duckFile('widths.parquet', rows, 4096);
    const columns: AppendColumn[] = Array.from({ length: 10 }, (_, k) => {
      const span = 2 ** (k + 1);
      const values = Float64Array.from({ length: rows }, (_, i) =>
        i % 11 === 10 ? NaN : (i * 7) % span,
      );
      return { name: `w${k + 1}`, type: 'int64', values };
    });
    appendColumns(path, columns);
    const got = await rowsOf(
      `SELECT ${columns.map((c) => c.name).join(', ')} FROM read_parquet('${path}')`,
    );
    for (const c of columns)
      expect(got.map((g) => (g[c.name] === null ? null : Number(g[c.name])))).toEqual(
        Array.from({ length: rows }, (_, i) => expected(c, i)),
      );
  });

  it('rounds int64 values like DuckDB casts, and refuses what int64 cannot hold exactly', async () => {
    const path = await duckFile('round.parquet', 6);
    appendColumns(path, [
      { name: 'v', type: 'int64', values: Float64Array.of(2.5, -2.5, 3.5, -0.6, 7, NaN) },
    ]);
    const got = await rowsOf(
      `SELECT v, CAST(w AS BIGINT) AS duck FROM read_parquet('${path}') p
       POSITIONAL JOIN (SELECT unnest([2.5, -2.5, 3.5, -0.6, 7, NULL]::DOUBLE[]) AS w) q`,
    );
    expect(got.map((g) => [g.v, g.duck])).toEqual(got.map((g) => [g.duck, g.duck]));
    expect(got.map((g) => (g.v === null ? null : Number(g.v)))).toEqual([2, -2, 4, -1, 7, null]);
    const other = await duckFile('huge.parquet', 2);
    expect(() =>
      appendColumns(other, [{ name: 'v', type: 'int64', values: Float64Array.of(1, 2 ** 60) }]),
    ).toThrow(/column v: 1152921504606847000 is not an int64 value/);
  });

  it('reads back what it was given, on random columns, null patterns and row groups', async () => {
    // Null patterns: none, all, scattered, and long runs (RLE and bit-packed stretches).
    const nullArb = fc.constantFrom('none', 'all', 'scattered', 'runs');
    const colArb = fc.record({
      kind: fc.constantFrom('small', 'wide', 'float', 'bool', 'codes', 'strings', 'list'),
      nulls: nullArb,
      dict: fc.integer({ min: 1, max: 300 }),
      seed: fc.integer({ min: 1, max: 1e6 }),
    });
    let file = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 64, max: 1500 }),
        fc.array(colArb, { minLength: 1, maxLength: 5 }),
        async (rows, group, specs) => {
          const path = await duckFile(`prop-${file++}.parquet`, rows, group);
          const columns = specs.map((spec, k): AppendColumn => {
            const r = rng(spec.seed);
            const isNull = (i: number): boolean =>
              spec.nulls === 'all' ||
              (spec.nulls === 'scattered' && r() < 0.4) ||
              (spec.nulls === 'runs' && Math.floor(i / 37) % 3 === 0);
            const value = (i: number): number => {
              if (spec.nulls !== 'none' && isNull(i)) return NaN;
              switch (spec.kind) {
                case 'small':
                  return Math.floor(r() * spec.dict);
                case 'wide':
                  return Math.floor((r() - 0.5) * 2 ** 52);
                case 'float':
                  return [Infinity, -Infinity, -0, 0][Math.floor(r() * 40)] ?? (r() - 0.5) * 1e6;
                case 'bool':
                  return r() < 0.5 ? 1 : 0;
                default:
                  return Math.floor(r() * spec.dict);
              }
            };
            const values = Float64Array.from({ length: rows }, (_, i) => value(i));
            const name = `c${k}`;
            const dict = Array.from(
              { length: spec.dict },
              (_, d) => `v${String(d).padStart(3, '0')}`,
            );
            if (spec.kind === 'codes') return { name, type: 'string', codes: values, dict };
            if (spec.kind === 'list') {
              // 0–3 items a row (a null row: none), items from the dictionary.
              const offsets = new Int32Array(rows + 1);
              const items: number[] = [];
              for (let i = 0; i < rows; i++) {
                const len = Number.isNaN(values[i]!) ? 0 : Math.floor(r() * 4);
                for (let j = 0; j < len; j++) items.push(Math.floor(r() * spec.dict));
                offsets[i + 1] = items.length;
              }
              return {
                name,
                type: 'list',
                element: 'string',
                offsets,
                items: Float64Array.from(items),
                dict,
              };
            }
            if (spec.kind === 'strings')
              return {
                name,
                type: 'string',
                strings: [...values].map((v) => (Number.isNaN(v) ? null : dict[v]!)),
              };
            const type =
              spec.kind === 'float' ? 'float64' : spec.kind === 'bool' ? 'bool' : 'int64';
            return { name, type, values };
          });
          appendColumns(path, columns);
          const got = await rowsOf(
            `SELECT * EXCLUDE (id, user_id, label) FROM read_parquet('${path}')`,
          );
          expect(got).toHaveLength(rows);
          for (let i = 0; i < rows; i++)
            columns.forEach((c, k) => {
              const v = got[i]![`c${k}`];
              const back = typeof v === 'bigint' ? Number(v) : v;
              const want = expected(c, i);
              const same =
                c.type === 'list'
                  ? JSON.stringify(back) === JSON.stringify(want)
                  : Object.is(back, want) || back === want;
              if (!same)
                expect({ row: i, column: c.name, back }).toEqual({
                  row: i,
                  column: c.name,
                  back: want,
                });
            });
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);

  it('writes list columns as Parquet LISTs: empty lists, null elements, across row groups', async () => {
    const rows = 9_000;
    const path = await duckFile('lists.parquet', rows, 2048);
    const r = rng(5);
    /** Row lists of 0–5 items (runs of empty rows, and rows of 8+ items in places). */
    const lists = (item: () => number): { offsets: Int32Array; items: Float64Array } => {
      const offsets = new Int32Array(rows + 1);
      const items: number[] = [];
      for (let i = 0; i < rows; i++) {
        const len = i % 500 < 40 ? 0 : i % 101 === 0 ? 9 : Math.floor(r() * 6);
        for (let j = 0; j < len; j++) items.push(item());
        offsets[i + 1] = items.length;
      }
      return { offsets, items: Float64Array.from(items) };
    };
    const dict = ['p1', 'p10', 'p2', 'é', ''];
    const columns: AppendColumn[] = [
      {
        name: 'products',
        type: 'list',
        element: 'string',
        dict,
        ...lists(() => Math.floor(r() * 5)),
      },
      {
        name: 'counts',
        type: 'list',
        element: 'int64',
        ...lists(() => (r() < 0.1 ? NaN : Math.floor((r() - 0.5) * 2 ** 40))),
      },
      { name: 'prices', type: 'list', element: 'float64', ...lists(() => (r() - 0.5) * 1e3) },
      // Named like a list's inner schema elements: only top-level names are taken.
      { name: 'element', type: 'int64', values: Float64Array.from({ length: rows }, (_, i) => i) },
    ];
    appendColumns(path, columns);
    const types = await rowsOf(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    expect(types.slice(3).map((t) => [t.column_name, t.column_type])).toEqual([
      ['products', 'VARCHAR[]'],
      ['counts', 'BIGINT[]'],
      ['prices', 'DOUBLE[]'],
      ['element', 'BIGINT'],
    ]);
    const got = await rowsOf(`SELECT * EXCLUDE (user_id, label) FROM read_parquet('${path}')`);
    expect(got).toHaveLength(rows);
    const mismatch: unknown[] = [];
    got.forEach((row, i) => {
      if (Number(row.id) !== i) mismatch.push(['order', i]);
      for (const c of columns) {
        const v = row[c.name];
        const back = Array.isArray(v)
          ? v.map((x: unknown) => (typeof x === 'bigint' ? Number(x) : x))
          : typeof v === 'bigint'
            ? Number(v)
            : v;
        const want = c.type === 'list' ? expected(c, i) : i;
        if (JSON.stringify(back) !== JSON.stringify(want)) mismatch.push([c.name, i, back, want]);
      }
    });
    expect(mismatch.slice(0, 5)).toEqual([]);
    // The same values as DuckDB's own LIST of them (what the sweep wrote before: JSON text).
    const [same] = await rowsOf(
      `SELECT count(*) FILTER (WHERE len(products) = 0) AS empty,
              count(*) FILTER (WHERE list_contains(products, 'p10')) AS p10,
              sum(len(counts)) AS items FROM read_parquet('${path}')`,
    );
    const c0 = columns[0] as Extract<AppendColumn, { type: 'list' }>;
    const c1 = columns[1] as Extract<AppendColumn, { type: 'list' }>;
    let empty = 0;
    let p10 = 0;
    for (let i = 0; i < rows; i++) {
      const l = c0.items.subarray(c0.offsets[i]!, c0.offsets[i + 1]!);
      if (l.length === 0) empty++;
      if (l.includes(1)) p10++;
    }
    expect([Number(same!.empty), Number(same!.p10), Number(same!.items)]).toEqual([
      empty,
      p10,
      c1.items.length,
    ]);
  });

  it('handles a file without rows, and refuses a wrong length or a taken name', async () => {
    const empty = await duckFile('empty.parquet', 0);
    appendColumns(empty, [{ name: 'x', type: 'float64', values: new Float64Array(0) }]);
    const reader = await conn.runAndReadAll(`SELECT id, x FROM read_parquet('${empty}')`);
    expect(reader.getRowObjectsJS()).toEqual([]);
    expect(reader.columnNames()).toEqual(['id', 'x']);
    const small = await duckFile('small.parquet', 5);
    expect(() =>
      appendColumns(small, [{ name: 'x', type: 'float64', values: new Float64Array(4) }]),
    ).toThrow(/4 values, the file 5 rows/);
    expect(() =>
      appendColumns(small, [{ name: 'user_id', type: 'float64', values: new Float64Array(5) }]),
    ).toThrow(/the file already has a column user_id/);
  });
});
