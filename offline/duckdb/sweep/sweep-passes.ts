/**
 * The embedded store's point-in-time engine: for each pass, the event index (partition by
 * partition) comes from the cache or is built by DuckDB, the entity rows' keys are coded for
 * every pass in one query, and the sweeps run on the worker pool, passes in parallel. The
 * result is one Float64Array per feature column in entity-row order, NaN for null (strings as
 * codes into a dictionary that is also a DuckDB table, so SQL can decode them when writing the
 * output).
 */
import {
  isListType,
  listElement,
  type AggregationKind,
  type ValueType,
} from '../../../core/types.ts';
import { sharedIndex, type SweepPool } from '../../sweep/sweep-pool.ts';
import { laneSplit, splitFeatures } from '../../sweep/sweep-lanes.ts';
import {
  encodeColumn,
  type AppendColumn,
  type EncodedColumn,
} from '../../parquet/append-columns.ts';
import {
  sharedFloat64,
  type RowLists,
  type SweepFeature,
  type SweepResult,
} from '../../sweep/sweep.ts';
import { IndexFileError } from '../../sweep/index-files.ts';
import type { DuckDBClient } from '../../local/duckdb-client.ts';
import type { Pass, PassFeature } from '../../export/pass.ts';
import type { PassIndex, SweepColumn } from '../../sweep/pass-index.ts';
import {
  addDicts,
  buildPassIndex,
  dictTable,
  needsDict,
  planPass,
  rowCodes,
  type Partition,
  type PassPlan,
  type ValueDict,
} from './build-pass-index.ts';
import {
  columnFamily,
  columnKey,
  type IndexCacheEntry,
  type SweepIndexCache,
} from './index-cache.ts';
import { isSequenceKind, type SequenceKind } from '../../../core/sequence.ts';
import { emptySequenceValue } from '../../../aggregation/sequence-tiles.ts';

/** A feature column of the export, NaN = null. */
export interface SweptColumn {
  values: Float64Array;
  type: ValueType;
  aggregation: AggregationKind | SequenceKind;
  /** When the values are string codes: the strings, and the DuckDB table `(v, __code)`. */
  dict: ValueDict | null;
  /** `last_n`: each row's list (numbers, or codes into `dict`), row order; `values` unused. */
  lists?: RowLists;
}

export interface SweepPassesRequest {
  client: DuckDBClient;
  passes: readonly Pass[];
  entTable: string;
  rows: number;
  /** Fresh temp-table names. */
  name: (prefix: string) => string;
  /** Most events one partition's index holds. */
  partitionEvents: number;
  /** Per-job timings on stderr (`trace.sweep`, env `SWEEP_TRACE`). */
  trace?: boolean;
  /** Reuse and keep indexes here (passes with a `fingerprint` only). */
  cache: SweepIndexCache | null;
  /** Where sweeps run (in parallel, one per worker). */
  pool: SweepPool;
  /** Rows done across passes (pass by pass, partition by partition). */
  onProgress?: (done: number) => void;
  /**
   * The output file: `write` runs on the connection before the codes query (while the workers
   * read their indexes) and returns its row groups; the `columns` it lists (internal column →
   * output name) are encoded for it here as soon as their pass is swept, while the
   * workers sweep the other passes.
   */
  output?: {
    write: () => Promise<number[]>;
    columns: Map<string, string>;
  };
}

export interface SweepPassesResult {
  columns: Map<string, SweptColumn>;
  /** Each entity row's time (ms), in row order. */
  ts: Float64Array;
  /** Output columns already encoded (by internal column; see `output`). */
  encoded: Map<string, EncodedColumn>;
  /** The output file's row groups (see `output`). */
  groups: number[] | null;
}

export async function sweepPasses(req: SweepPassesRequest): Promise<SweepPassesResult> {
  const { client, rows } = req;
  const columns = new Map<string, SweptColumn>();
  const opened: { pass: Pass; plan: PassPlan; entry: IndexCacheEntry | null }[] = [];
  for (const pass of req.passes) {
    const entry =
      req.cache && pass.fingerprint
        ? req.cache.entry(pass, pass.fingerprint, req.partitionEvents)
        : null;
    opened.push({ pass, plan: await openPlan(req, pass, entry), entry });
  }
  // DuckDB runs one statement at a time per connection: the output file, the rows' key codes
  // for every pass in one query (both while the workers read cached indexes), then index
  // builds, one after the other.
  let duckdb: Promise<unknown> = Promise.resolve();
  const withDuckDB = <R>(fn: () => Promise<R>): Promise<R> => {
    const run = duckdb.then(fn, fn);
    duckdb = run.catch(() => undefined);
    return run;
  };
  const groups = req.output ? withDuckDB(req.output.write) : Promise.resolve(null);
  groups.catch(() => undefined); // awaited below
  const entity = withDuckDB(() => rowCodes(client, opened, req.entTable, rows));
  const encoded = new Map<string, EncodedColumn>();
  // Encoding runs here between the lanes' turns (after a lane has sent its next job).
  let encoding: Promise<void> = Promise.resolve();
  const encodeLater = (cols: { col: string; column: SweptColumn }[]): void => {
    const output = req.output;
    if (!output || cols.length === 0) return;
    encoding = encoding
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(async () => {
        const g = (await groups)!;
        for (const { col, column } of cols)
          encoded.set(col, encodeColumn(appendColumnOf(output.columns.get(col)!, column), g));
      });
  };

  /** The cached index files of `job`'s partition with the columns of `pfs`, if all are kept. */
  const filesOf = (job: { j: number; p: number; part: Partition }, pfs: readonly PassFeature[]) => {
    const { plan, entry } = opened[job.j]!;
    return (
      entry?.files(
        job.p,
        job.part,
        pfs.map((pf) => ({
          col: pf.col,
          key: columnKey(pf),
          family: columnFamily(pf),
          dict: plan.dicts.get(pf.col)?.strings ?? null,
        })),
      ) ?? null
    );
  };
  interface Job {
    j: number;
    p: number;
    part: Partition;
    /** The pass's features this job sweeps (all, or half: see `laneSplit`). */
    pfs: PassFeature[];
    feats: SweepFeature[];
    single: boolean;
  }
  const jobs: Job[] = [];
  for (const [j, { pass, plan }] of opened.entries()) {
    const feats: SweepFeature[] = pass.features.map((pf) => ({
      col: pf.col,
      aggregation: pf.feature.aggregation,
      windowMs: pf.feature.windowMs,
      hopMs: pf.feature.hopMs,
      ttlMs: pf.feature.windowMs === null ? pf.view.ttlMs : null,
      ...(pf.feature.aggregation === 'last_n'
        ? { n: pf.feature.n, distinct: pf.feature.distinct }
        : {}),
      ...(pf.feature.sequence
        ? {
            sequence: {
              previous: pf.feature.sequence.previous,
              gapMs: pf.feature.sequence.gapMs,
              ttlMs: pf.view.ttlMs,
            },
          }
        : {}),
    }));
    const single = plan.partitions.length === 1;
    for (const pf of pass.features) {
      const kind = pf.feature.aggregation;
      // With one partition the sweep's own result arrays are used (see below).
      const values = single ? new Float64Array(0) : sharedFloat64(rows);
      const zero = isSequenceKind(kind)
        ? emptySequenceValue(kind) === 0
        : kind === 'count' || kind === 'sum' || kind === 'count_distinct';
      if (!zero) values.fill(NaN);
      columns.set(pf.col, {
        values,
        type: pf.feature.type,
        aggregation: kind,
        // A sequence feature's dictionary encodes its input; its values are numbers.
        dict:
          kind === 'count_distinct' || isSequenceKind(kind)
            ? null
            : (plan.dicts.get(pf.col) ?? null),
        ...(kind === 'last_n'
          ? { lists: { offsets: new Int32Array(rows + 1), items: new Float64Array(0) } }
          : {}),
      });
    }
    plan.partitions.forEach((part, p) =>
      jobs.push({ j, p, part, pfs: pass.features, feats, single }),
    );
  }
  // A pass much heavier than the rest is swept in two halves of its features, one per worker,
  // when that ends the sweeps sooner (`sweep-lanes.ts`); only a single-partition pass whose
  // index is fully cached, so neither half builds it.
  const split = laneSplit(
    jobs.map((job) => ({
      events: job.part.events,
      rows,
      features: job.feats,
      splittable: job.single && filesOf(job, job.pfs) !== null,
    })),
    req.pool.size,
  );
  if (split >= 0) {
    const job = jobs[split]!;
    const halves = splitFeatures(job.feats, job.part.events, rows).map((at) => ({
      ...job,
      pfs: at.map((i) => job.pfs[i]!),
      feats: at.map((i) => job.feats[i]!),
    }));
    jobs.splice(split, 1, ...halves);
  }
  // Largest first, one lane per worker: a lane loads its next index while the other sweeps, and
  // holds at most one partition's index at a time.
  jobs.sort((a, b) => b.part.events - a.part.events);
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    for (let job = jobs[next++]; job; job = jobs[next++]) {
      const { pass, plan, entry } = opened[job.j]!;
      const { part, single } = job;
      const partRows = entity.then(({ codes: all, ts }) => ({
        codes: single ? all[job.j]! : shift(all[job.j]!, part.from, part.to),
        ts,
      }));
      // A fully cached index is read by the worker itself; else loaded or built here.
      const files = filesOf(job, job.pfs);
      let res: Map<string, SweepResult> | null = null;
      if (files)
        res = await req.pool.sweep({ files }, job.feats, partRows).catch((e: unknown) => {
          if (e instanceof IndexFileError) return null;
          throw e;
        });
      if (!res) {
        const tr = (m: string) =>
          req.trace &&
          console.error(`[t ${performance.now().toFixed(0)}] job ${job.j}/${job.p} ${m}`);
        tr('open');
        const { index, save } = await openIndex(
          req,
          { ...pass, features: job.pfs },
          plan,
          entry,
          job.p,
          part,
          withDuckDB,
        );
        // A built index in shared memory is kept in the cache while a worker sweeps it (the
        // files of a 10M-event pass are hundreds of MB); any other is kept first (a
        // transferred array is no longer readable here).
        const shared = sharedIndex(index);
        if (!shared) save();
        const sweeping = req.pool.sweep({ index }, job.feats, partRows);
        sweeping.catch(() => undefined); // awaited below
        if (shared) {
          // The sweep is posted first (once the rows are coded: their promise settled).
          await new Promise<void>((resolve) => setImmediate(resolve));
          save();
        }
        res = await sweeping;
      }
      const { codes } = await partRows;
      for (const [col, r] of res) {
        const c = columns.get(col)!;
        if (single) {
          c.values = r.values;
          if (r.lists) c.lists = r.lists;
        } else if (r.lists) {
          c.lists = mergeLists(c.lists!, r.lists, codes);
        } else {
          const { values } = r;
          for (let i = 0; i < rows; i++) if (codes[i]! >= 0) c.values[i] = values[i]!;
        }
      }
      done += Math.round(
        (((rows * (part.to - part.from)) / Math.max(1, plan.keyCount)) * job.pfs.length) /
          Math.max(1, pass.features.length),
      );
      req.onProgress?.(done);
      if (single)
        encodeLater(
          job.pfs.flatMap((pf) =>
            req.output?.columns.has(pf.col) ? [{ col: pf.col, column: columns.get(pf.col)! }] : [],
          ),
        );
    }
  };
  await Promise.all(Array.from({ length: Math.min(req.pool.size, jobs.length) }, lane));
  await encoding;
  return { columns, ts: (await entity).ts, encoded, groups: await groups };
}

/**
 * A swept column as the Parquet writer takes it (strings as codes into their dictionary, a
 * list column as a Parquet LIST of its row lists).
 */
export function appendColumnOf(name: string, c: SweptColumn): AppendColumn {
  if (c.lists) {
    if (!isListType(c.type)) throw new Error(`sweep: list column ${name} has type ${c.type}`);
    const element = listElement(c.type);
    if (element === 'bool' || (element === 'string') !== (c.dict !== null))
      throw new Error(`sweep: list column ${name} of ${element} cannot be written`);
    const { offsets, items } = c.lists;
    return {
      name,
      type: 'list',
      element,
      offsets,
      items,
      ...(c.dict ? { dict: c.dict.strings } : {}),
    };
  }
  if (c.dict) return { name, type: 'string', codes: c.values, dict: c.dict.strings };
  if (c.type === 'string') throw new Error(`sweep: string column ${name} has no dictionary`);
  if (isListType(c.type)) throw new Error(`sweep: list column ${name} is not a swept column`);
  return { name, type: c.type, values: c.values };
}

/** The pass's key dictionary and string dictionaries: from the cache, else built (and kept). */
async function openPlan(
  req: SweepPassesRequest,
  pass: Pass,
  entry: IndexCacheEntry | null,
): Promise<PassPlan> {
  const { client, name } = req;
  let plan = entry ? await entry.loadPlan(client, name('keys')) : null;
  const cached = new Map<string, ValueDict>();
  const missing: PassFeature[] = [];
  const byKey = new Map<string, ValueDict>();
  for (const pf of pass.features) {
    if (!needsDict(pass, pf)) continue;
    const key = columnKey(pf);
    const known = byKey.get(key);
    if (known) {
      cached.set(pf.col, known);
      continue;
    }
    const strings = entry?.loadDict(key);
    if (strings) {
      const d = await dictTable(client, name, strings);
      byKey.set(key, d);
      cached.set(pf.col, d);
    } else missing.push(pf);
  }
  if (!plan) {
    // The missing string dictionaries come from the key dictionary's scan (of the events staged
    // for the index build when that scan decodes a map).
    plan = await planPass(client, pass, name, req.partitionEvents, missing, pass.features);
    await entry?.savePlan(client, plan);
  }
  for (const [col, d] of cached) plan.dicts.set(col, d);
  await addDicts(client, pass, plan, missing, name);
  for (const pf of missing) entry?.saveDict(columnKey(pf), plan.dicts.get(pf.col)!.strings);
  return plan;
}

/** Partition `p`'s index: cached columns as they are, the missing ones built (and kept). */
async function openIndex(
  req: SweepPassesRequest,
  pass: Pass,
  plan: PassPlan,
  entry: IndexCacheEntry | null,
  p: number,
  part: Partition,
  withDuckDB: <R>(fn: () => Promise<R>) => Promise<R>,
): Promise<{ index: PassIndex; save: () => void }> {
  const base = entry?.loadBase(p, part) ?? null;
  const columns = new Map<string, SweepColumn>();
  const missing: PassFeature[] = [];
  for (const pf of pass.features) {
    const col = base
      ? entry!.loadColumn(
          p,
          part,
          {
            key: columnKey(pf),
            family: columnFamily(pf),
            dict: plan.dicts.get(pf.col)?.strings ?? null,
          },
          base.ts,
        )
      : null;
    if (col) columns.set(pf.col, col);
    else missing.push(pf);
  }
  const none = (): void => undefined;
  if (base && missing.length === 0)
    return { index: { keyCount: part.to - part.from, ...base, columns }, save: none };
  const built = await withDuckDB(() =>
    buildPassIndex(req.client, pass, plan, part, base ? missing : pass.features),
  );
  if (built.ts.length !== part.events)
    throw new Error(
      `sweep index: partition ${p} has ${built.ts.length} events, its key dictionary counts ${part.events}`,
    );
  for (const pf of missing) columns.set(pf.col, built.columns.get(pf.col)!);
  /** Keeps what was built in the cache. */
  const save = (): void => {
    if (!base) entry?.saveBase(p, built);
    for (const pf of missing)
      entry?.saveColumn(p, columnKey(pf), built.columns.get(pf.col)!, base?.ts ?? built.ts);
  };
  return {
    index: base ? { keyCount: part.to - part.from, ...base, columns } : { ...built, columns },
    save,
  };
}

/**
 * The lists of `into`, with those of the rows a partition swept (`codes[i] >= 0`) taken from
 * its result `part` instead.
 */
function mergeLists(into: RowLists, part: RowLists, codes: Int32Array): RowLists {
  const rows = codes.length;
  const pick = (i: number): RowLists => (codes[i]! >= 0 ? part : into);
  const offsets = new Int32Array(rows + 1);
  for (let i = 0; i < rows; i++) {
    const l = pick(i);
    offsets[i + 1] = offsets[i]! + l.offsets[i + 1]! - l.offsets[i]!;
  }
  const items = new Float64Array(offsets[rows]!);
  for (let i = 0; i < rows; i++) {
    const l = pick(i);
    items.set(l.items.subarray(l.offsets[i]!, l.offsets[i + 1]!), offsets[i]!);
  }
  return { offsets, items };
}

/** Codes of one partition `[from, to)`, relative to `from`; -1 outside it. */
function shift(codes: Int32Array, from: number, to: number): Int32Array {
  const out = new Int32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    out[i] = c >= from && c < to ? c - from : -1;
  }
  return out;
}
