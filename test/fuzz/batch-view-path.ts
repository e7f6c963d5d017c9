/**
 * The batch view of a case (`batch-plan.ts`) on every path that computes it — the export with
 * the sweep and the SQL engine at the case's export times, and the snapshot `materialize` writes
 * at now (`batchSnapshot`) — against a brute force of the spec's rule: at t the snapshot D =
 * floor((t − offset) / every) · every + offset applies, over the good records passing the filter
 * with D − window <= ts < D; an entity without rows in it, or any entity once t >= D + ttl, has
 * null features.
 */
import type { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import type { Repository } from '../../definitions/repository.ts';
import { refEval, refKeep } from '../../reference/reference-expr.ts';
import type { EntityRow } from '../../reference/index.ts';
import { toExpr } from './definitions.ts';
import { acceptedCase, entityRows, recordsOf, sameValue, type Mismatch } from './differential.ts';
import type { FuzzCase } from './fuzz-case.ts';
import type { BatchPlan } from './batch-plan.ts';

type Values = Record<'n' | 'mx' | 'mn' | 'nd', number | string | null>;

const MINUTE = 60_000;
const NULLS: Values = { n: null, mx: null, mn: null, nd: null };

/** Code-point order (SQL's for UTF-8 strings), not JavaScript's UTF-16 code units. */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The snapshot time that applies at `t`. */
export function snapshotAt(b: BatchPlan, t: number): number {
  const every = b.everyMinutes * MINUTE;
  const offset = b.offsetMinutes * MINUTE;
  return Math.floor((t - offset) / every) * every + offset;
}

/** Every entity's values in the snapshot at `d` (brute force over the accepted records). */
function snapshot(b: BatchPlan, c: FuzzCase, d: number): Map<string, Values> {
  const key = toExpr(b.key).node;
  const num = toExpr(b.num).node;
  const str = toExpr(b.str).node;
  const filter = b.filter ? toExpr(b.filter).node : null;
  const lo = b.windowMinutes === null ? -Infinity : d - b.windowMinutes * MINUTE;
  const groups = new Map<string, { n: number; mx: number | null; strs: string[] }>();
  for (const r of recordsOf(acceptedCase(c), b.source)) {
    const ts = r.timestamp as number;
    if (!(ts >= lo && ts < d) || !refKeep(filter, r)) continue;
    const k = refEval(key, r);
    if (k === null) continue;
    const g = groups.get(String(k)) ?? { n: 0, mx: null, strs: [] };
    groups.set(String(k), g);
    g.n++;
    const x = refEval(num, r);
    if (typeof x === 'number' && (g.mx === null || x > g.mx)) g.mx = x;
    const y = refEval(str, r);
    if (typeof y === 'string') g.strs.push(y);
  }
  const out = new Map<string, Values>();
  for (const [k, g] of groups) {
    const sorted = [...g.strs].sort(byCodePoint);
    out.set(k, { n: g.n, mx: g.mx, mn: sorted[0] ?? null, nd: new Set(g.strs).size });
  }
  return out;
}

/** The reference values of `b` for an entity row. */
function valuesAt(b: BatchPlan, c: FuzzCase, row: EntityRow, key: string): Values {
  const t = row.event_timestamp;
  const d = snapshotAt(b, t);
  if (t >= d + b.ttlMinutes * MINUTE) return NULLS;
  return snapshot(b, c, d).get(String(row[key])) ?? NULLS;
}

const same = (got: unknown, want: unknown): boolean => sameValue(got ?? null, want);

/** The batch view's export (both engines) and the snapshot at now vs the brute force. */
export async function checkBatchView(
  path: string,
  stores: { sweep: DuckDBOfflineStore; sql: DuckDBOfflineStore },
  repo: Repository,
  c: FuzzCase,
): Promise<Mismatch[]> {
  const b = c.batch;
  if (!b) return [];
  const key = b.entity === 'user' ? 'user_id' : 'product_id';
  const out: Mismatch[] = [];
  const rows = entityRows(c, c.exportRows);
  const names = ['n', 'mx', 'mn', 'nd'] as const;
  for (const [engine, store] of Object.entries(stores)) {
    const got = await store.exportPointInTime({
      repo,
      features: repo.resolveFeatures({ features: names.map((f) => `b:${f}`) }),
      entities: { type: 'rows', rows },
      out: { type: 'memory' },
    });
    rows.forEach((row, i) => {
      const want = valuesAt(b, c, row, key);
      for (const f of names)
        if (!same(got.data![i]![f], want[f]))
          out.push({
            path: `${path}: export (${engine})`,
            feature: `b__${f}`,
            key: String(row[key]),
            t: row.event_timestamp,
            got: got.data![i]![f],
            want: want[f],
          });
    });
  }
  // What materialize writes at --end = now: the snapshot that applies at now (`batchSnapshot`
  // takes its time D), every entity.
  const d = snapshotAt(b, c.now);
  const snap = await stores.sweep.batchSnapshot({ repo, view: 'b', at: d });
  const want = snapshot(b, c, d);
  const seen = new Set<string>();
  for (const r of snap.rows) {
    const k = String(r.key[0]);
    seen.add(k);
    const w = want.get(k) ?? NULLS;
    for (const f of names)
      if (!same(r.values[f], w[f]))
        out.push({
          path: `${path}: snapshot at now`,
          feature: `b__${f}`,
          key: k,
          t: d,
          got: r.values[f],
          want: w[f],
        });
  }
  for (const k of want.keys())
    if (!seen.has(k))
      out.push({
        path: `${path}: snapshot at now`,
        feature: '(row)',
        key: k,
        t: d,
        got: null,
        want: want.get(k),
      });
  return out;
}
