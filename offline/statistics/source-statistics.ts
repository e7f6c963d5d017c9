/**
 * `sourceStatistics` as SQL both offline stores run where the source lives (DuckDB over the
 * validated records it loads, BigQuery over the source table): a few aggregate queries in the
 * small common dialect below, and the assembly of their rows into {@link SourceStatistics}.
 */
import type { ValueType } from '../../core/types.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import {
  STATISTICS_QUANTILES,
  type SourceStatistics,
  type SourceStatisticsRequest,
  type ValueStatistics,
} from '../offline-store.ts';

/** What differs between the stores' SQL. */
export interface StatisticsDialect {
  ident(name: string): string;
  string(text: string): string;
  /** The SQL types of a 64-bit float, a 64-bit integer and a string. */
  double: string;
  bigint: string;
  text: string;
  /** An expression of the values at `STATISTICS_QUANTILES` of `expr`, as an array. */
  quantiles(expr: string): string;
  /** Reads `quantiles(...)`'s result value into numbers, one per quantile. */
  readQuantiles(value: unknown): number[];
  /** A predicate true for good records (DuckDB: not rejected), and rejected ones, if any. */
  good: string;
  rejected: string | null;
  /** The reason column of rejected records, when `rejected` is set. */
  reason: string | null;
  /** Runs a query and returns its rows. */
  all(sql: string): Promise<Record<string, unknown>[]>;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const TOP = 10;

function literal(d: StatisticsDialect, v: string | number | boolean): string {
  return typeof v === 'string' ? d.string(v) : String(v);
}

/** Statistics of `spec`'s records in `table`; see {@link SourceStatisticsRequest}. */
export async function sourceStatisticsSql(
  d: StatisticsDialect,
  table: string,
  spec: BatchSourceSpec,
  req: SourceStatisticsRequest,
): Promise<SourceStatistics> {
  const ts = d.ident(spec.timestampField);
  const inRange = `${d.good} AND ${ts} >= ${req.start} AND ${ts} < ${req.end}`;
  const where = `FROM ${table} WHERE ${inRange}`;
  const types = new Map<string, ValueType>();
  for (const f of req.fields) {
    const t = spec.schema.fields[f.name];
    if (!t || !['string', 'int64', 'float64', 'bool'].includes(t.kind))
      throw new Error(`"${f.name}" is not a top-level scalar field of "${spec.name}"`);
    types.set(f.name, t.kind as ValueType);
  }
  const isNum = (name: string): boolean => ['int64', 'float64'].includes(types.get(name)!);
  const count = (pred: string): string => `COALESCE(SUM(CASE WHEN ${pred} THEN 1 ELSE 0 END), 0)`;
  const cols: string[] = ['COUNT(*) AS n', `MIN(${ts}) AS oldest`, `MAX(${ts}) AS newest`];
  req.fields.forEach((f, i) => {
    const c = d.ident(f.name);
    cols.push(`${count(`${c} IS NULL`)} AS nulls${i}`, `COUNT(DISTINCT ${c}) AS distinct${i}`);
    if (isNum(f.name)) {
      const x = `CAST(${c} AS ${d.double})`;
      cols.push(
        `MIN(${x}) AS min${i}`,
        `MAX(${x}) AS max${i}`,
        `AVG(${x}) AS mean${i}`,
        `${d.quantiles(x)} AS q${i}`,
      );
    }
    if (f.allowed)
      cols.push(
        `${count(`${c} IS NOT NULL AND ${c} NOT IN (${f.allowed.map((v) => literal(d, v)).join(', ')})`)} AS bad${i}`,
      );
  });
  const main = (await d.all(`SELECT ${cols.join(', ')} ${where}`))[0] ?? {};
  const rows = num(main.n) ?? 0;

  const fields: ValueStatistics[] = [];
  const bins = req.bins ?? 20;
  for (const [i, f] of req.fields.entries()) {
    const c = d.ident(f.name);
    const type = types.get(f.name)!;
    const stats: ValueStatistics = {
      name: f.name,
      type,
      rows,
      nulls: num(main[`nulls${i}`]) ?? 0,
      distinct: num(main[`distinct${i}`]) ?? 0,
      min: null,
      max: null,
      mean: null,
      quantiles: [],
      histogram: [],
      top: [],
      ...(f.allowed ? { notAllowed: num(main[`bad${i}`]) ?? 0 } : {}),
    };
    if (isNum(f.name)) {
      stats.min = num(main[`min${i}`]);
      stats.max = num(main[`max${i}`]);
      stats.mean = num(main[`mean${i}`]);
      if (stats.min !== null) {
        const qs = d.readQuantiles(main[`q${i}`]);
        stats.quantiles = STATISTICS_QUANTILES.map((q, j) => ({ q, value: qs[j]! }));
        stats.histogram = await histogram(d, where, c, stats.min, stats.max!, bins);
      }
    } else {
      const top = await d.all(
        `SELECT CAST(${c} AS ${d.text}) AS v, COUNT(*) AS n ${where} AND ${c} IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT ${TOP}`,
      );
      stats.top = top.map((r) => ({ value: String(r.v), count: Number(r.n) }));
    }
    fields.push(stats);
  }

  const periods: SourceStatistics['periods'] = [];
  if (req.periodMs !== undefined) {
    const p = req.periodMs;
    const got = new Map<number, number>();
    for (const r of await d.all(
      `SELECT CAST(FLOOR(${ts} / ${p}) AS ${d.bigint}) AS k, COUNT(*) AS n ${where} GROUP BY k`,
    ))
      got.set(Number(r.k), Number(r.n));
    for (let k = Math.ceil(req.start / p); (k + 1) * p <= req.end; k++)
      periods.push({ start: k * p, rows: got.get(k) ?? 0 });
  }

  let rejected = 0;
  let rejects: SourceStatistics['rejects'] = [];
  if (d.rejected && d.reason) {
    const r = await d.all(
      `SELECT ${d.reason} AS reason, COUNT(*) AS n FROM ${table} WHERE ${d.rejected} GROUP BY reason ORDER BY n DESC, reason`,
    );
    rejects = r.map((x) => ({ reason: String(x.reason), count: Number(x.n) }));
    rejected = rejects.reduce((n, x) => n + x.count, 0);
  }
  const all = await d.all(`SELECT COUNT(*) AS n FROM ${table} WHERE ${d.good}`);
  return {
    source: spec.name,
    start: req.start,
    end: req.end,
    rows,
    rejected,
    sourceRows: Number(all[0]?.n ?? 0),
    rejects,
    oldestEventMs: num(main.oldest),
    newestEventMs: num(main.newest),
    periods,
    fields,
  };
}

/** Equal-width bins over [min, max] (one bin when they are equal). */
async function histogram(
  d: StatisticsDialect,
  where: string,
  c: string,
  min: number,
  max: number,
  bins: number,
): Promise<ValueStatistics['histogram']> {
  const n = max > min ? bins : 1;
  const width = (max - min) / n;
  const x = `CAST(${c} AS ${d.double})`;
  const bin =
    n === 1 ? '0' : `LEAST(CAST(FLOOR((${x} - ${min}) / ${width}) AS ${d.bigint}), ${n - 1})`;
  const got = new Map<number, number>();
  for (const r of await d.all(
    `SELECT ${bin} AS b, COUNT(*) AS n ${where} AND ${c} IS NOT NULL GROUP BY b`,
  ))
    got.set(Number(r.b), Number(r.n));
  return Array.from({ length: n }, (_, b) => ({
    lo: min + b * width,
    hi: b === n - 1 ? max : min + (b + 1) * width,
    count: got.get(b) ?? 0,
  }));
}
