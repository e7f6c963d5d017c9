/**
 * Builds the {@link PassIndex} of a pass from its source with DuckDB: SQL scans, filters and
 * projects the events, codes entity keys and string values through dictionaries, and sorts by
 * (key, time); the typed arrays of the result are copied out chunk by chunk, never converted
 * value by value. Events with the same key and time are ordered by id here: when such runs are
 * rare, the sort carries no ids and a second query filtered on the runs' times reads theirs —
 * with a 31-bit hash of each id in the sort and only the source's time and id columns read
 * when the key counts predict many runs; when a sample of the source shows many repeated
 * times, the ids come with the sort. A pass whose dictionary scan decodes a map column has its
 * events projected once into a temp table that the dictionaries and the index read
 * ({@link StagedEvents}).
 *
 * Keys are split into partitions of contiguous codes holding at most `partitionEvents` events
 * each, so the sweep's memory is bounded however large the source is (DuckDB's sort spills).
 */
import { randomUUID } from 'node:crypto';
import { compareCodePoints } from '../../../aggregation/index.ts';
import type { ExprNode } from '../../../definitions/expr/expr.ts';
import { inferExprType } from '../../../definitions/expr/expr-type.ts';
import { LarderError } from '../../../core/errors.ts';
import type { PassIndex, SweepColumn } from '../../sweep/pass-index.ts';
import type { DuckDBClient } from '../../local/duckdb-client.ts';
import { ident } from '../../local/duckdb-client.ts';
import type { Pass, PassFeature } from '../../export/pass.ts';
import { arrayOf, eventsSql } from '../sql/feature-pass.ts';
import { readsMap, renderExpr } from '../sql/render-expr.ts';
import { boundedNumber } from '../../sql/bounded-input.ts';
import { isSequenceKind } from '../../../core/sequence.ts';

/** Key codes `[from, to)` holding `events` events. */
export interface Partition {
  from: number;
  to: number;
  events: number;
}

/** A temp table `(v, __code)` and its strings by code, sorted by code point. */
export interface ValueDict {
  table: string;
  strings: string[];
}

/**
 * A pass's events projected once into a temp table by {@link planPass}: its key dictionary, its
 * string dictionaries and its sorted index are read from it instead of from the source each.
 */
export interface StagedEvents {
  /** Temp table `(__k0, …, __ts, __id | __h, <staged columns>)`, keys as strings. */
  table: string;
  /** The column holding each staged SQL expression, by the expression's text. */
  columns: Map<string, string>;
  /** Whether the table holds the events' ids `__id` (times often repeat), else their hashes `__h`. */
  ids: boolean;
  /** The partitions (by first code) whose index is still to be built; dropped when none are. */
  pending: Set<number>;
}

/** What {@link planPass} set up in DuckDB for one pass. */
export interface PassPlan {
  /** Temp table `(__k0, …, __code)`: the pass's key dictionary. */
  keyTable: string;
  keyCount: number;
  partitions: Partition[];
  /** The string dictionary of each feature column with a string input (or mode value). */
  dicts: Map<string, ValueDict>;
  /** Whether `keyTable` holds each key's event count `__n` (a plan built, not loaded). */
  counted?: boolean;
  /** The pass's events staged for its index build, until its last partition is built. */
  staged?: StagedEvents;
}

const keyCols = (pass: Pass): string[] => pass.keys.map((_, i) => `__k${i}`);

function whereSql(pass: Pass, f: PassFeature): string {
  return f.feature.where ? `(${renderExpr(pass.schema, f.feature.where)}) IS TRUE` : 'TRUE';
}

function isString(pass: Pass, node: ExprNode | null): boolean {
  if (!node) return false;
  const t = inferExprType(pass.schema, node);
  return !('error' in t) && t.type === 'string';
}

/** The SQL of a mode feature's items: keys, `__ts`, `__v` (string) and `__w` (a weight of magnitude at most 1e300). */
function itemsSql(pass: Pass, pf: PassFeature): string {
  const f = pf.feature;
  const unnest = arrayOf(f.input) ?? arrayOf(f.weight);
  const opts = unnest ? { unnested: { [unnest]: '__item' } } : {};
  if (!isString(pass, f.input))
    throw new LarderError(
      'LARDER_DEFINITION_INVALID',
      `${pf.view.name}:${f.name}: mode needs a string input`,
    );
  const value = renderExpr(pass.schema, f.input as ExprNode, opts);
  const weight = f.weight
    ? boundedNumber(`CAST(${renderExpr(pass.schema, f.weight, opts)} AS DOUBLE)`)
    : '1.0::DOUBLE';
  const ev = unnest
    ? eventsSql(pass, [`${whereSql(pass, pf)} AS __where`], unnest)
    : eventsSql(
        pass,
        [`${whereSql(pass, pf)} AS __where`, `${value} AS __v`, `${weight} AS __w`],
        null,
      );
  const vw = unnest ? `${value} AS __v, ${weight} AS __w` : '__v, __w';
  return `SELECT * FROM (SELECT ${keyCols(pass).join(', ')}, __ts, ${vw} FROM (${ev}) WHERE __where) WHERE __v IS NOT NULL AND isfinite(__w)`;
}

/** The value SQL of a string input (dictionary-coded); null for numbers and booleans. */
function stringInput(pass: Pass, pf: PassFeature): string | null {
  const f = pf.feature;
  if (f.aggregation === 'count' || f.aggregation === 'mode') return null;
  if (arrayOf(f.input) || arrayOf(f.where))
    throw new LarderError(
      'LARDER_DEFINITION_INVALID',
      `${pf.view.name}:${f.name}: array paths are only supported as mode inputs and weights by the DuckDB offline store`,
    );
  if (isSequenceKind(f.aggregation) && f.input && !isString(pass, f.input))
    throw new LarderError(
      'LARDER_DEFINITION_INVALID',
      `${pf.view.name}:${f.name}: the sweep engine compares string fields only in previous.changed(...)`,
    );
  return isString(pass, f.input) ? renderExpr(pass.schema, f.input as ExprNode) : null;
}

/**
 * What a plain (non-mode) feature's index column is computed from: nothing for a count of every
 * event (`ones`) or the events' own times (`times`); else its filter `where` (`(…) IS TRUE`, or
 * `TRUE`) and the SQL of its input `value` (none for a count, nor for a sequence feature over
 * numbers; numbers bounded).
 */
interface FeatureInput {
  kind: 'ones' | 'times' | 'count' | 'sequence' | 'string' | 'number';
  where: string;
  value?: string;
}

function featureInput(pass: Pass, pf: PassFeature): FeatureInput {
  const f = pf.feature;
  const where = whereSql(pass, pf);
  if (f.aggregation === 'count') return { kind: where === 'TRUE' ? 'ones' : 'count', where };
  const sequence = isSequenceKind(f.aggregation);
  // Every event's own time (`last(col('timestamp'))`): the index's times, as the query would
  // return them (a valid event's time is a finite number of ms, far below 1e300).
  if (
    where === 'TRUE' &&
    !sequence &&
    f.input?.op === 'col' &&
    f.input.path === pass.timestampField
  )
    return { kind: 'times', where };
  const s = stringInput(pass, pf);
  if (sequence) return { kind: 'sequence', where, ...(s ? { value: s } : {}) };
  if (s) return { kind: 'string', where, value: s };
  const x = `CAST(${renderExpr(pass.schema, f.input as ExprNode)} AS DOUBLE)`;
  return { kind: 'number', where, value: boundedNumber(x) };
}

/** The SQL expressions `x` reads per event (its filter unless always true, its value). */
function inputParts(x: FeatureInput): string[] {
  if (x.kind === 'ones' || x.kind === 'times') return [];
  return [...(x.where === 'TRUE' ? [] : [x.where]), ...(x.value ? [x.value] : [])];
}

/**
 * Whether a scan of the pass's keys and of the string inputs of `features` decodes a map column
 * (`properties.productId`): DuckDB reads every entry's key and value to find one, the costliest
 * read of the product pass (1.8-2.1 of its ≈ 3 CPU-s dictionary scan at 10M events).
 */
function scansMap(pass: Pass, features: readonly PassFeature[]): boolean {
  return (
    pass.keys.some((k) => readsMap(pass.schema, k.expr)) ||
    (pass.filter !== null && readsMap(pass.schema, pass.filter)) ||
    features.some(
      (pf) =>
        pf.feature.aggregation !== 'mode' &&
        pf.feature.input !== null &&
        stringInput(pass, pf) !== null &&
        readsMap(pass.schema, pf.feature.input),
    )
  );
}

/**
 * Projects the pass's events once into a temp table: keys (as strings), time, the id (when the
 * source's times often repeat, see {@link tieReads}) or its hash, and each of `exprs` once.
 * Written without insertion order (nothing reads its row order; ≈ 1 CPU-s less at 7.5M events).
 */
async function stageEvents(
  client: DuckDBClient,
  pass: Pass,
  name: (prefix: string) => string,
  exprs: readonly string[],
): Promise<StagedEvents> {
  const ids = await frequentTies(client, pass);
  const table = name('events');
  const columns = new Map<string, string>();
  for (const e of exprs) if (!columns.has(e)) columns.set(e, `__s${columns.size}`);
  const keys = keyCols(pass);
  const cols = [
    ...keys.map((k) => `CAST(${k} AS VARCHAR) AS ${k}`),
    '__ts',
    ids ? '__id' : `${tieReads.idHash('__id')} AS __h`,
    ...columns.values(),
  ];
  const [setting] = await client.all(
    `SELECT current_setting('preserve_insertion_order')::VARCHAR AS v`,
  );
  await client.run('SET preserve_insertion_order = false');
  try {
    await client.run(
      `CREATE TEMP TABLE ${table} AS SELECT ${cols.join(', ')} FROM (${eventsSql(
        pass,
        [...columns].map(([e, c]) => `${e} AS ${c}`),
        null,
      )})`,
    );
  } finally {
    await client.run(`SET preserve_insertion_order = ${String(setting?.v ?? 'true')}`);
  }
  return { table, columns, ids, pending: new Set() };
}

/**
 * Creates the pass's key dictionary (with per-key event counts) and its partitions. The string
 * dictionaries of `features` with a string input come from the same scan of the source (one
 * `GROUPING SETS` aggregation: the keys, and each distinct input's values); the others (mode
 * items, which are rows of their own) are added by {@link addDicts}.
 *
 * When that scan decodes a map column and the index of `stage` (the pass's features) is to be
 * built, the events are first projected into a temp table ({@link StagedEvents}: keys, time,
 * id hash, and each filter and input of `stage` once — a filter as a boolean, so features
 * reading one value under different filters share its column), which the scan and the index
 * build then read: the map is decoded once, not once per query (the 10M benchmark's product
 * pass: 11.45 → 9.78 CPU-s for its dictionaries and index, single statements under load).
 */
export async function planPass(
  client: DuckDBClient,
  pass: Pass,
  name: (prefix: string) => string,
  partitionEvents: number,
  features: readonly PassFeature[] = [],
  stage: readonly PassFeature[] = [],
): Promise<PassPlan> {
  const keys = keyCols(pass);
  const keyTable = name('keys');
  const castKeys = keys.map((k) => `CAST(${k} AS VARCHAR) AS ${k}`).join(', ');
  const dicts = new Map<string, ValueDict>();
  // Each distinct input SQL once; the features reading it share its dictionary.
  const inputs: string[] = [];
  const inputOf = new Map<string, number>();
  for (const pf of features) {
    const v = pf.feature.aggregation === 'mode' ? null : stringInput(pass, pf);
    if (v === null) continue;
    if (!inputs.includes(v)) inputs.push(v);
    inputOf.set(pf.col, inputs.indexOf(v));
  }
  const plain = stage.filter((pf) => pf.feature.aggregation !== 'mode');
  const staged =
    plain.length > 0 && scansMap(pass, features)
      ? await stageEvents(client, pass, name, [
          ...inputs,
          ...plain.flatMap((pf) => inputParts(featureInput(pass, pf))),
        ])
      : null;
  /** The pass's events with keys and `cols` ([SQL, alias]): from the staged table if any. */
  const events = (cols: [string, string][]): string =>
    staged
      ? `SELECT ${[...keys, ...cols.map(([e, a]) => `${staged.columns.get(e)!} AS ${a}`)].join(', ')} FROM ${staged.table}`
      : eventsSql(
          pass,
          cols.map(([e, a]) => `${e} AS ${a}`),
          null,
        );
  const numbered = (sql: string): string =>
    `SELECT ${keys.join(', ')}, (row_number() OVER () - 1)::INTEGER AS __code, __n FROM (${sql})`;
  if (inputs.length === 0)
    await client.run(
      `CREATE TEMP TABLE ${keyTable} AS ` +
        numbered(`SELECT ${castKeys}, count(*) AS __n FROM (${events([])}) GROUP BY ALL`),
    );
  else {
    const vs = inputs.map((_, i) => `__v${i}`);
    const scan = name('scan');
    await client.run(
      `CREATE TEMP TABLE ${scan} AS SELECT ${[...keys, ...vs].join(', ')}, GROUPING(${keys.join(', ')}) AS __gk, ` +
        `${vs.map((v) => `GROUPING(${v}) AS __g${v}`).join(', ')}, count(*) AS __n FROM (` +
        `SELECT ${castKeys}, ${vs.join(', ')} FROM (${events(
          inputs.map((v, i) => [v, vs[i]!]),
        )})) GROUP BY GROUPING SETS ((${keys.join(', ')}), ${vs.map((v) => `(${v})`).join(', ')})`,
    );
    await client.run(
      `CREATE TEMP TABLE ${keyTable} AS ` + numbered(`SELECT * FROM ${scan} WHERE __gk = 0`),
    );
    const byInput: ValueDict[] = [];
    for (const v of vs)
      byInput.push(
        await dictTable(
          client,
          name,
          await distinctStrings(
            client,
            `SELECT ${v} FROM ${scan} WHERE __g${v} = 0 AND ${v} IS NOT NULL`,
          ),
        ),
      );
    await client.run(`DROP TABLE ${scan}`);
    for (const [col, i] of inputOf) dicts.set(col, byInput[i]!);
  }
  const budget = Math.max(1, Math.floor(partitionEvents));
  const parts = await client.all(
    `SELECT min(__code) AS lo, max(__code) + 1 AS hi, sum(__n) AS n FROM (` +
      `SELECT __code, __n, sum(__n) OVER (ORDER BY __code ROWS UNBOUNDED PRECEDING) - __n AS __before FROM ${keyTable}) ` +
      `GROUP BY __before // ${budget} ORDER BY lo`,
  );
  const partitions = parts.map((p) => ({
    from: Number(p.lo),
    to: Number(p.hi),
    events: Number(p.n),
  }));
  const keyCount = partitions.length ? partitions[partitions.length - 1]!.to : 0;
  const plan: PassPlan = { keyTable, keyCount, partitions, dicts, counted: true };
  if (staged) {
    for (const p of partitions) staged.pending.add(p.from);
    if (staged.pending.size > 0) plan.staged = staged;
    else await client.run(`DROP TABLE ${staged.table}`);
  }
  return plan;
}

/** The strings of a one-column query, sorted by code point. */
async function distinctStrings(client: DuckDBClient, sql: string): Promise<string[]> {
  const strings: string[] = [];
  for await (const chunk of client.streamRaw(sql))
    for (let r = 0; r < chunk.size; r++) strings.push(chunk.text(0, r)!);
  return strings.sort(compareCodePoints);
}

/** Whether a pass feature reads strings through a dictionary (string input or mode value). */
export function needsDict(pass: Pass, pf: PassFeature): boolean {
  return pf.feature.aggregation === 'mode' || stringInput(pass, pf) !== null;
}

/** The dictionary temp table of `strings` (codes = positions). */
export async function dictTable(
  client: DuckDBClient,
  name: (prefix: string) => string,
  strings: string[],
): Promise<ValueDict> {
  const table = name('dict');
  await client.run(`CREATE TEMP TABLE ${table} (v VARCHAR, __code INTEGER)`);
  await client.appendColumns(table, [strings, strings.map((_, i) => i)]);
  return { table, strings };
}

/**
 * Reads the distinct strings of `features` that need a dictionary (skipping those in
 * `plan.dicts` already), sorts them by code point and adds their tables to `plan.dicts`.
 */
export async function addDicts(
  client: DuckDBClient,
  pass: Pass,
  plan: PassPlan,
  features: readonly PassFeature[],
  name: (prefix: string) => string,
): Promise<void> {
  const bySql = new Map<string, ValueDict>();
  const dicts = plan.dicts;
  const addDict = async (col: string, valueSql: string, distinctSql: string): Promise<void> => {
    if (dicts.has(col)) return;
    const known = bySql.get(valueSql);
    if (known) {
      dicts.set(col, known);
      return;
    }
    const d = await dictTable(client, name, await distinctStrings(client, distinctSql));
    bySql.set(valueSql, d);
    dicts.set(col, d);
  };
  for (const pf of features) {
    if (pf.feature.aggregation === 'mode') {
      await addDict(
        pf.col,
        `mode:${pf.col}`,
        `SELECT DISTINCT __v FROM (${itemsSql(pass, pf)}) WHERE __v IS NOT NULL`,
      );
      continue;
    }
    const v = stringInput(pass, pf);
    if (v)
      await addDict(
        pf.col,
        v,
        `SELECT DISTINCT __v FROM (${eventsSql(pass, [`${v} AS __v`], null)}) WHERE __v IS NOT NULL`,
      );
  }
}

/**
 * Grows typed arrays as chunks arrive. Made with the expected length, it never grows (no copy
 * of what came so far, each array of a 10M-event index written once).
 */
class Column<T extends Float64Array | Int32Array | Uint8Array> {
  data: T;
  constructor(
    private readonly make: (n: number) => T,
    expected = 1 << 16,
  ) {
    this.data = make(Math.max(1, expected));
  }
  reserve(n: number): void {
    if (n <= this.data.length) return;
    const next = this.make(Math.max(n, this.data.length * 2));
    next.set(this.data as never);
    this.data = next;
  }
  trimmed(n: number): T {
    return this.data.subarray(0, n) as T;
  }
}

const sharedF64 = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(n * 8));
const sharedU8 = (n: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(n));

/** `offsets` (length keys + 1, shared memory) of codes sorted ascending, relative to `from`. */
function offsetsOf(codes: Int32Array, n: number, from: number, keys: number): Int32Array {
  const offsets = new Int32Array(new SharedArrayBuffer((keys + 1) * 4));
  for (let i = 0; i < n; i++) offsets[codes[i]! - from + 1]!++;
  for (let k = 0; k < keys; k++) offsets[k + 1]! += offsets[k]!;
  return offsets;
}

/**
 * Reads the events of one partition into a {@link PassIndex} with the input columns of
 * `features` (default: all of the pass's; mode items included). `plan.dicts` must hold their
 * dictionaries ({@link addDicts}).
 */
export async function buildPassIndex(
  client: DuckDBClient,
  pass: Pass,
  plan: PassPlan,
  part: Partition,
  features: readonly PassFeature[] = pass.features,
): Promise<PassIndex> {
  const keys = keyCols(pass);
  const kt = plan.keyTable;
  const on = (alias: string): string =>
    keys.map((k) => `${kt}.${k} = CAST(${alias}.${k} AS VARCHAR)`).join(' AND ');
  const range = `${kt}.__code >= ${part.from} AND ${kt}.__code < ${part.to}`;
  const keyCount = part.to - part.from;

  // Event columns: code, ts, then one per distinct input of the non-mode features: features
  // reading the same input share its column (e.g. three windows of one count), and a count of
  // every event (all ones) or the event times themselves read none — less for DuckDB's sort to
  // carry.
  const plain = features.filter((pf) => pf.feature.aggregation !== 'mode');
  /**
   * The per-event columns: their SQL, each part of a feature input read through `part` (the
   * part itself, or its column of the staged events), and alias.
   */
  const inner: [(part: (sql: string) => string) => string, string][] = [];
  /** The parts those columns read. */
  const parts: string[] = [];
  const outer: string[] = [];
  const joins: string[] = [];
  /** Per plain feature: its column among `outer`, -1 for all ones, -2 for the event times. */
  const slot: number[] = [];
  /** Per column of `outer`: whether it holds count flags (else doubles). */
  const flagCols: boolean[] = [];
  const bySignature = new Map<string, number>();
  /** Whether `signature`'s column is there already (then the feature reads it). */
  const known = (signature: string): boolean => {
    const k = bySignature.get(signature);
    if (k === undefined) return false;
    slot.push(k);
    return true;
  };
  plain.forEach((pf, i) => {
    const input = featureInput(pass, pf);
    const { where, value } = input;
    const c = `__in${i}`;
    if (input.kind === 'ones' || input.kind === 'times') {
      slot.push(input.kind === 'ones' ? -1 : -2);
      return;
    }
    const signature =
      input.kind === 'count'
        ? `count ${where}`
        : input.kind === 'sequence'
          ? null
          : `values ${where} ${value!} ${plan.dicts.get(pf.col)?.table ?? ''}`;
    if (signature !== null && known(signature)) return;
    if (signature !== null) bySignature.set(signature, outer.length);
    slot.push(outer.length);
    flagCols.push(input.kind === 'count');
    parts.push(...inputParts(input));
    const w = (part: (sql: string) => string): string => (where === 'TRUE' ? 'TRUE' : part(where));
    if (input.kind === 'sequence') {
      // (code + 1) * 2 + match, code -1 for no value: see offline/sweep/sweep-sequence.ts.
      inner.push([(part) => `CAST(${w(part)} AS INTEGER)`, c]);
      if (!value) {
        outer.push(`CAST(ev.${c} AS DOUBLE)`);
        return;
      }
      const d = plan.dicts.get(pf.col)!;
      const alias = `__d${i}`;
      inner.push([(part) => part(value), `${c}v`]);
      joins.push(`LEFT JOIN ${d.table} ${alias} ON ${alias}.v = ev.${c}v`);
      outer.push(`CAST((COALESCE(${alias}.__code, -1) + 1) * 2 + ev.${c} AS DOUBLE)`);
      return;
    }
    if (input.kind === 'count') {
      inner.push([(part) => `CAST(${w(part)} AS UTINYINT)`, c]);
      outer.push(`ev.${c}`);
      return;
    }
    inner.push([
      (part) => (where === 'TRUE' ? part(value!) : `CASE WHEN ${w(part)} THEN ${part(value!)} END`),
      c,
    ]);
    if (input.kind === 'string') {
      const d = plan.dicts.get(pf.col)!;
      const alias = `__d${i}`;
      joins.push(`LEFT JOIN ${d.table} ${alias} ON ${alias}.v = ev.${c}`);
      outer.push(`COALESCE(CAST(${alias}.__code AS DOUBLE), 'NaN'::DOUBLE)`);
      return;
    }
    outer.push(`COALESCE(ev.${c}, 'NaN'::DOUBLE)`);
  });
  // The events: from the pass's staged table when it holds every part (`planPass`), else from
  // the source.
  const staged =
    plan.staged && parts.every((e) => plan.staged!.columns.has(e)) ? plan.staged : null;
  const source = `(${eventsSql(
    pass,
    inner.map(([sql, a]) => `${sql((e) => e)} AS ${a}`),
    null,
  )})`;
  const events = staged
    ? `(SELECT ${[
        ...keys,
        '__ts',
        staged.ids ? '__id' : '__h',
        ...inner.map(([sql, a]) => `${sql((e) => staged.columns.get(e)!)} AS ${a}`),
      ].join(', ')} FROM ${staged.table})`
    : source;
  // The events sorted by (key, time). Their ids only order runs of equal (key, time): when
  // such runs are rare, the ids are left out of the sort (carrying them cost ~0.1-0.2 CPU-s per
  // pass and 1M events) and read for the runs alone afterwards (`tieIds`, `tieRows`); when they are
  // common (coarse timestamps), that second read would cost more than the ids in the sort. A
  // staged pass carries the hashes it staged (its runs read again would decode the source's
  // map once more).
  const withIds = staged ? staged.ids : await frequentTies(client, pass);
  const hashed = !withIds && (staged !== null || (await expectTies(client, pass, plan, part)));
  const fromOf = (ev: string): string =>
    `FROM ${ev} ev JOIN ${kt} ON ${on('ev')} ${joins.join(' ')} WHERE ${range}`;
  const select = `SELECT ${kt}.__code, CAST(ev.__ts AS DOUBLE)${outer.map((o) => `, ${o}`).join('')}`;
  const order = `ORDER BY ${kt}.__code, ev.__ts`;
  // Without the ids, when many runs are expected, a 31-bit hash of each id rides along instead
  // (4 bytes, no string): a run's ids are then found by (time, hash) among the events at its
  // times, read without the pass's own columns (`tieIds`).
  const hash = staged ? 'ev.__h' : tieReads.idHash('ev.__id');
  const sql = `${select}${withIds ? ', ev.__id' : hashed ? `, ${hash}` : ''} ${fromOf(events)} ${order}`;
  const idCol = 2 + outer.length;

  // The key dictionary counted the partition's events: the arrays are made that long. The
  // index's arrays are in shared memory: a sweep worker reads them while this thread keeps
  // them in the index cache (`sweep-passes.ts`).
  const codes = new Column((n) => new Int32Array(n), part.events);
  const ts = new Column(sharedF64, part.events);
  const cols = flagCols.map((flags) =>
    flags ? new Column(sharedU8, part.events) : new Column(sharedF64, part.events),
  );
  // Runs of equal (key, ts) (with their ids when the sort carries them, else their id
  // hashes): ordered by id and replayed ids flagged below.
  const ties: (Tie & { ids: string[]; hashes: number[] })[] = [];
  let run: (Tie & { ids: string[]; hashes: number[] }) | null = null;
  let prevId = '';
  let prevHash = 0;
  let n = 0;
  for await (const chunk of client.streamRaw(sql)) {
    const size = chunk.size;
    codes.reserve(n + size);
    ts.reserve(n + size);
    codes.data.set(chunk.numbers(0) as Int32Array, n);
    ts.data.set(chunk.numbers(1) as Float64Array, n);
    cols.forEach((col, i) => {
      col.reserve(n + size);
      col.data.set(chunk.numbers(2 + i) as never, n);
    });
    const c = codes.data;
    const t = ts.data;
    const h = hashed ? (chunk.numbers(idCol) as Int32Array) : null;
    for (let i = Math.max(1, n); i < n + size; i++) {
      if (c[i] === c[i - 1] && t[i] === t[i - 1]) {
        if (run) run.length++;
        else {
          ties.push((run = { start: i - 1, length: 2, ids: [], hashes: [] }));
          if (h) run.hashes.push(i > n ? h[i - 1 - n]! : prevHash);
          else if (withIds) run.ids.push(i > n ? chunk.text(idCol, i - 1 - n)! : prevId);
        }
        if (h) run.hashes.push(h[i - n]!);
        else if (withIds) run.ids.push(chunk.text(idCol, i - n)!);
      } else run = null;
    }
    if (size > 0) {
      if (h) prevHash = h[size - 1]!;
      else if (withIds) prevId = chunk.text(idCol, size - 1)!;
    }
    n += size;
  }
  const dup = sharedU8(n);
  const columns = cols.map((c) => c.trimmed(n));
  const runs =
    withIds || ties.length === 0
      ? ties
      : ((hashed ? await tieIds(client, pass, ties, ts.data) : null) ??
        (await tieRows(
          client,
          `${select}, ev.__id ${fromOf(source)}`,
          order,
          ties,
          codes.data,
          ts.data,
          columns,
        )));
  for (const tie of runs) orderTie(tie, columns, dup);
  if (staged) {
    staged.pending.delete(part.from);
    if (staged.pending.size === 0) {
      await client.run(`DROP TABLE ${staged.table}`);
      delete plan.staged;
    }
  }

  const index: PassIndex = {
    keyCount,
    offsets: offsetsOf(codes.data, n, part.from, keyCount),
    ts: ts.trimmed(n),
    dup,
    columns: new Map(),
  };
  let ones: Uint8Array | null = null;
  plain.forEach((pf, i) => {
    const k = slot[i]!;
    const data = k >= 0 ? columns[k]! : k === -2 ? index.ts : (ones ??= sharedU8(n).fill(1));
    const col: SweepColumn =
      data instanceof Uint8Array
        ? { kind: 'flags', flags: data }
        : {
            kind: 'values',
            values: data as Float64Array,
            dict: plan.dicts.get(pf.col)?.strings ?? null,
          };
    index.columns.set(pf.col, col);
  });
  for (const pf of features.filter((p) => p.feature.aggregation === 'mode'))
    index.columns.set(pf.col, await readItems(client, pass, plan, part, pf));
  return index;
}

/** A run of events with equal (key, ts) at `[start, start + length)` of a partition's index. */
interface Tie {
  start: number;
  length: number;
}

/**
 * How runs of events with the same key and time are read. `sampleRows` of the source are
 * sampled (its first rows: cheap); when more than `share` of them repeat a time, the ids ride
 * along in the index's sort, else a hash of each id (`idHash`, SQL of an INTEGER) does when
 * more than `hashPairs` runs are expected (`expectTies`; always in a staged pass, whose
 * runs read again would decode its map again), and the runs' ids are found
 * afterwards among the events at their times (or read again with the pass's query), those
 * times given as literals up to `literals` times, past that through a temp table. Tests lower
 * or raise the thresholds (or make every hash equal) to reach each path on small data.
 */
export const tieReads = {
  sampleRows: 100_000,
  share: 0.01,
  literals: 1000,
  idHash: (id: string): string => `CAST(hash(${id}) >> 33 AS INTEGER)`,
  hashPairs: 16,
};

/**
 * Whether a partition's events are expected to hold more than `tieReads.hashPairs` pairs of
 * equal (key, time), were each key's times spread evenly over the source's span: then the id
 * hashes ride along in the sort (runs on that many times touch most of the source's row groups,
 * and read again with the pass's query they cost a scan of its columns: 2.2 CPU-s for the 10M
 * benchmark's product pass, 160 times, before it was staged); else runs are read again (the
 * user pass: 4 times, 0.1 CPU-s, against 1.1 for its hashes). Needs the key dictionary's counts
 * (a plan just built); without them (a plan from the cache), no hashes. Not asked for a staged
 * pass (its hashes are staged).
 */
async function expectTies(
  client: DuckDBClient,
  pass: Pass,
  plan: PassPlan,
  part: Partition,
): Promise<boolean> {
  if (!plan.counted) return false;
  const t = ident(pass.timestampField);
  const [r] = await client.all(
    `SELECT (SELECT sum(__n * (__n - 1) / 2) FROM ${plan.keyTable} WHERE __code >= ${part.from} AND __code < ${part.to}) AS pairs, ` +
      `(SELECT max(${t}) - min(${t}) FROM ${pass.srcTable}) AS span`,
  );
  return Number(r?.pairs ?? 0) / Math.max(1, Number(r?.span ?? 0)) > tieReads.hashPairs;
}

/** The filter of the runs' `times` on `column`, and the temp table holding them if any. */
async function timesFilter(
  client: DuckDBClient,
  column: string,
  times: readonly number[],
): Promise<{ filter: string; table: string | null }> {
  const literal = (v: number): string => (Number.isSafeInteger(v) ? String(v) : `${v}::DOUBLE`);
  if (times.length <= tieReads.literals)
    return { filter: `${column} IN (${times.map(literal).join(', ')})`, table: null };
  const table = `__tie_times_${randomUUID().replaceAll('-', '')}`;
  await client.run(`CREATE TEMP TABLE ${table} (ts DOUBLE)`);
  await client.appendColumns(table, [times]);
  return { filter: `CAST(${column} AS DOUBLE) IN (SELECT ts FROM ${table})`, table };
}

/**
 * The ids of every tie run from the hashes the index's sort carried: the source's events at
 * the runs' times are read with their ids and hashes — only the time and id columns, not the
 * pass's keys and inputs (at 10M events, the product pass's re-read of its `properties` map
 * cost 2.2 CPU-s, this 0.4) — and each run's event takes the id of its (time, hash). Null when
 * two different ids at one time share a hash, or a hash is not found: the runs are then read
 * again with the pass's own query (`tieRows`).
 */
async function tieIds(
  client: DuckDBClient,
  pass: Pass,
  ties: readonly (Tie & { hashes: number[] })[],
  ts: Float64Array,
): Promise<(Tie & { ids: string[] })[] | null> {
  const times = [...new Set(ties.map((t) => ts[t.start]!))];
  const tsCol = ident(pass.timestampField);
  const id = `CAST(${ident(pass.idField)} AS VARCHAR)`;
  const { filter, table } = await timesFilter(client, tsCol, times);
  // (time, hash) → id; null when two ids share them.
  const byHash = new Map<string, string | null>();
  try {
    for await (const chunk of client.streamRaw(
      `SELECT CAST(${tsCol} AS DOUBLE), ${tieReads.idHash(id)}, ${id} FROM ${pass.srcTable} ` +
        `WHERE ${filter} AND __reason IS NULL`,
    )) {
      const tc = chunk.numbers(0) as Float64Array;
      const hc = chunk.numbers(1) as Int32Array;
      for (let r = 0; r < chunk.size; r++) {
        const key = `${tc[r]!} ${hc[r]!}`;
        const v = chunk.text(2, r)!;
        const known = byHash.get(key);
        byHash.set(key, known === undefined || known === v ? v : null);
      }
    }
  } finally {
    if (table) await client.run(`DROP TABLE ${table}`);
  }
  const runs: (Tie & { ids: string[] })[] = [];
  for (const tie of ties) {
    const ids: string[] = [];
    for (const h of tie.hashes) {
      const v = byHash.get(`${ts[tie.start]!} ${h}`);
      if (v === undefined || v === null) return null;
      ids.push(v);
    }
    runs.push({ start: tie.start, length: tie.length, ids });
  }
  return runs;
}

/** Whether the source's events often share a time (see {@link tieReads}). */
async function frequentTies(client: DuckDBClient, pass: Pass): Promise<boolean> {
  const [r] = await client.all(
    `SELECT count(*) AS n, count(DISTINCT t) AS d FROM (SELECT ${ident(pass.timestampField)} AS t ` +
      `FROM ${pass.srcTable} LIMIT ${tieReads.sampleRows})`,
  );
  const rows = Number(r?.n ?? 0);
  return rows - Number(r?.d ?? 0) > rows * tieReads.share;
}

/**
 * The events of every tie run again, with their ids (`rows`: the index query's `SELECT … FROM`
 * with the id last), written over the run's positions in `columns`, sorted by (key, time) as
 * the runs are: a merge, no lookup per row. Only events at one of the runs' times are read:
 * given as literals, DuckDB applies the filter in the scan of the source, so a few runs cost a
 * scan of its time column; past `tieReads.literals` times, a semi-join on a temp table reads
 * the source once more (data whose keys mostly have several events per millisecond).
 */
async function tieRows(
  client: DuckDBClient,
  rows: string,
  order: string,
  ties: readonly Tie[],
  codes: Int32Array,
  ts: Float64Array,
  columns: (Float64Array | Int32Array | Uint8Array)[],
): Promise<(Tie & { ids: string[] })[]> {
  const runs = ties.map((t) => ({ start: t.start, length: t.length, ids: [] as string[] }));
  const times = [...new Set(ties.map((t) => ts[t.start]!))];
  const { filter, table } = await timesFilter(client, 'ev.__ts', times);
  const complete = (run: Tie & { ids: string[] }): void => {
    if (run.ids.length !== run.length) throw tieError(run.ids.length, run.length);
  };
  let k = 0;
  try {
    const idCol = 2 + columns.length;
    for await (const chunk of client.streamRaw(`${rows} AND ${filter} ${order}`)) {
      const cc = chunk.numbers(0) as Int32Array;
      const tc = chunk.numbers(1) as Float64Array;
      const vectors = columns.map((_, i) => chunk.numbers(2 + i));
      for (let r = 0; r < chunk.size; r++) {
        const c = cc[r]!;
        const t = tc[r]!;
        // Runs before this event's (key, time) have all their events.
        for (; k < runs.length; k++) {
          const rc = codes[runs[k]!.start]!;
          const rt = ts[runs[k]!.start]!;
          if (rc > c || (rc === c && rt >= t)) break;
          complete(runs[k]!);
        }
        const run = runs[k];
        // Else the same time under a key with one event then.
        if (!run || codes[run.start] !== c || ts[run.start] !== t) continue;
        if (run.ids.length === run.length) throw tieError(run.length + 1, run.length);
        const at = run.start + run.ids.length;
        columns.forEach((col, i) => (col[at] = vectors[i]![r]!));
        run.ids.push(chunk.text(idCol, r)!);
      }
    }
  } finally {
    if (table) await client.run(`DROP TABLE ${table}`);
  }
  for (; k < runs.length; k++) complete(runs[k]!);
  return runs;
}

const tieError = (read: number, length: number): Error =>
  new Error(
    `sweep index: ${read} events read again for a run of ${length} events at the same key and time`,
  );

/** Sorts one run of equal (key, ts) events by id (stable) and flags repeated ids. */
function orderTie(
  tie: { start: number; ids: string[] },
  columns: (Float64Array | Int32Array | Uint8Array)[],
  dup: Uint8Array,
): void {
  const perm = tie.ids.map((_, i) => i);
  perm.sort((a, b) => compareCodePoints(tie.ids[a]!, tie.ids[b]!) || a - b);
  for (const col of columns) {
    const vals = perm.map((p) => col[tie.start + p]!);
    vals.forEach((v, i) => (col[tie.start + i] = v));
  }
  for (let i = 1; i < perm.length; i++)
    if (tie.ids[perm[i]!] === tie.ids[perm[i - 1]!]) dup[tie.start + i] = 1;
}

async function readItems(
  client: DuckDBClient,
  pass: Pass,
  plan: PassPlan,
  part: Partition,
  pf: PassFeature,
): Promise<SweepColumn> {
  const keys = keyCols(pass);
  const kt = plan.keyTable;
  const d = plan.dicts.get(pf.col)!;
  const sql =
    `SELECT ${kt}.__code, CAST(m.__ts AS DOUBLE), ${d.table}.__code, m.__w FROM (${itemsSql(pass, pf)}) m ` +
    `JOIN ${kt} ON ${keys.map((k) => `${kt}.${k} = CAST(m.${k} AS VARCHAR)`).join(' AND ')} ` +
    `JOIN ${d.table} ON ${d.table}.v = m.__v ` +
    `WHERE ${kt}.__code >= ${part.from} AND ${kt}.__code < ${part.to} ORDER BY ${kt}.__code, m.__ts`;
  const codes = new Column((n) => new Int32Array(n));
  const ts = new Column((n) => new Float64Array(n));
  const values = new Column((n) => new Int32Array(n));
  const weights = new Column((n) => new Float64Array(n));
  let n = 0;
  for await (const chunk of client.streamRaw(sql)) {
    const parts = [codes, ts, values, weights] as Column<Float64Array | Int32Array>[];
    parts.forEach((p, i) => {
      p.reserve(n + chunk.size);
      p.data.set(chunk.numbers(i) as never, n);
    });
    n += chunk.size;
  }
  return {
    kind: 'items',
    offsets: offsetsOf(codes.data, n, part.from, part.to - part.from),
    ts: ts.trimmed(n),
    codes: values.trimmed(n),
    weights: weights.trimmed(n),
    dict: d.strings,
  };
}

/**
 * The key code of every entity row for each of `passes` (in row order; -1 when a key is null or
 * has no events) and the rows' times, in one query. Passes keyed by the same entity columns
 * (a user's events and a user's transactions) share one lookup when their keys are fewer than
 * the rows it saves joining: their key tables merged into one of codes by key (a key of one
 * pass only has no code in the other), so the entity rows are joined once per set of key
 * columns, not once per pass (`recommendation_v1` at 10M events: two joins of the 1M rows
 * instead of three, ≈ 80 of 580 CPU-ms).
 */
export async function rowCodes(
  client: DuckDBClient,
  passes: readonly { pass: Pass; plan: PassPlan }[],
  entTable: string,
  rows: number,
): Promise<{ codes: Int32Array[]; ts: Float64Array }> {
  // Passes by their entity columns, in order of first appearance.
  const groups = new Map<string, number[]>();
  passes.forEach(({ pass }, j) => {
    const cols = JSON.stringify(pass.keys.map((k) => k.joinKey));
    groups.set(cols, [...(groups.get(cols) ?? []), j]);
  });
  // Merging costs a grouping of every key of the members, sharing saves a join of the rows per
  // member after the first: passes with more keys than that keep their own join.
  const lookups = [...groups.values()].flatMap((members) =>
    members.length > 1 &&
    members.reduce((n, j) => n + passes[j]!.plan.keyCount, 0) > (members.length - 1) * rows
      ? members.map((j) => [j])
      : [members],
  );
  const code = new Array<string>(passes.length);
  const joins = lookups.map((members, g) => {
    const { pass } = passes[members[0]!]!;
    const keys = pass.keys.map((_, i) => `__k${i}`);
    const on = pass.keys
      .map((k, i) => `g${g}.__k${i} = CAST(e.${ident(k.joinKey)} AS VARCHAR)`)
      .join(' AND ');
    if (members.length === 1) {
      code[members[0]!] = `g${g}.__code`;
      return `LEFT JOIN ${passes[members[0]!]!.plan.keyTable} g${g} ON ${on}`;
    }
    // Each key table holds a key once: the merged table's `max` is that pass's code or null.
    const parts = members.map((j, m) => {
      code[j] = `g${g}.__c${m}`;
      const cs = members.map((_, n) => (n === m ? '__code' : 'NULL::INTEGER') + ` AS __c${n}`);
      return `SELECT ${[...keys, ...cs].join(', ')} FROM ${passes[j]!.plan.keyTable}`;
    });
    const merged =
      `SELECT ${keys.join(', ')}, ${members.map((_, m) => `max(__c${m}) AS __c${m}`).join(', ')} ` +
      `FROM (${parts.join(' UNION ALL ')}) GROUP BY ${keys.join(', ')}`;
    return `LEFT JOIN (${merged}) g${g} ON ${on}`;
  });
  const cols = code.map((c) => `COALESCE(${c}, -1)::INTEGER`);
  const sql = `SELECT CAST(e.__t AS DOUBLE)${cols.map((c) => `, ${c}`).join('')} FROM ${entTable} e ${joins.join(' ')} ORDER BY e.__rid`;
  // Shared memory: the sweep workers read these arrays where they are (posting a 1M-row pass
  // copied 12 MB per sweep on the main thread).
  const ts = new Float64Array(new SharedArrayBuffer(rows * 8));
  const codes = passes.map(() => new Int32Array(new SharedArrayBuffer(rows * 4)));
  let n = 0;
  for await (const chunk of client.streamRaw(sql)) {
    if (n + chunk.size > rows)
      throw new Error(`sweep: the entity rows' codes query returned more than ${rows} rows`);
    ts.set(chunk.numbers(0) as Float64Array, n);
    codes.forEach((c, j) => c.set(chunk.numbers(j + 1) as Int32Array, n));
    n += chunk.size;
  }
  if (n !== rows)
    throw new Error(`sweep: the entity rows' codes query returned ${n} rows, expected ${rows}`);
  return { codes, ts };
}
