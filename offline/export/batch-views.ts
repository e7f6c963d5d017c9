/**
 * The batch views of a point-in-time export, the same for every engine: their sources are read
 * with the passes', the engine computes their snapshots at the entity rows' snapshot times into
 * a local table, and each entity row at t is joined as-of with the snapshot D that applies at t
 * (the latest D <= t), its features null when the entity has no row in it or t >= D + ttl.
 */
import { LarderError } from '../../core/errors.ts';
import { exprPaths } from '../../definitions/expr/expr.ts';
import type { BatchViewDef } from '../../definitions/dsl/batch-view.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import { ident, type DuckDBClient } from '../local/duckdb-client.ts';
import { sqlValueType } from '../local/column-types.ts';
import { snapshotColumns } from '../batch/output-columns.ts';
import { SNAPSHOT_COLUMN } from '../batch/snapshot-sql.ts';
import type { ExportEngine, SqlFeatureValues } from './export-engine.ts';
import type { ExportPlan } from './export-plan.ts';
import type { Pass, PassSource } from './pass.ts';
import type { LocalDatabase } from '../local/local-database.ts';
import type { BatchSnapshot, BatchSnapshotRequest, RejectReport } from '../offline-store.ts';
import type { Scalar } from '../../core/types.ts';

/** The batch views an export asks for, with the features asked of each, first seen first. */
export function batchViewsOf(plan: ExportPlan): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of plan.features) {
    if (!f.batch) continue;
    if (!out.has(f.view)) out.set(f.view, new Set());
    out.get(f.view)!.add(f.feature);
  }
  return out;
}

/** Adds the sources of the export's batch views (and the paths their columns read) to `into`. */
export function addBatchSources(
  plan: ExportPlan,
  into: Map<string, { spec: BatchSourceSpec; paths: Set<string> }>,
): void {
  for (const name of batchViewsOf(plan).keys()) {
    const view = plan.repo.batchViews.get(name)!;
    const spec = view.batch.spec;
    const entry = into.get(spec.name) ?? { spec, paths: new Set<string>() };
    into.set(spec.name, entry);
    for (const node of [...Object.values(view.spec.columns), view.spec.filter])
      if (node) exprPaths(node).forEach((p) => entry.paths.add(p));
  }
}

/**
 * Key-only passes of the batch views (no features): what a time grid samples the entities of
 * when the export asks for batch view features (every entity with a record in the source).
 */
export function batchKeyPasses(plan: ExportPlan, sources: ReadonlyMap<string, PassSource>): Pass[] {
  return [...batchViewsOf(plan).keys()].map((name) => {
    const view = plan.repo.batchViews.get(name)!;
    const spec = view.batch.spec;
    const src = sources.get(spec.name)!;
    return {
      schema: spec.schema,
      srcTable: src.table,
      timestampField: spec.timestampField,
      idField: spec.idField,
      keys: view.entityDefs.map((e) => ({
        joinKey: e.spec.joinKey,
        expr: view.spec.columns[e.spec.joinKey]!,
      })),
      filter: view.spec.filter,
      features: [],
      ...(src.fingerprint ? { fingerprint: src.fingerprint } : {}),
    };
  });
}

/** The join keys of the export's batch views. */
export function batchJoinKeys(plan: ExportPlan): string[] {
  return [...batchViewsOf(plan).keys()].flatMap((name) =>
    plan.repo.batchViews.get(name)!.entityDefs.map((e) => e.spec.joinKey),
  );
}

/** SQL of the snapshot time D that applies at `t` (the latest D <= t). */
export function snapshotAtSql(view: BatchViewDef, t: string): string {
  const { everyMs, offsetMs } = view.spec.schedule;
  return `(CAST(floor((${t} - ${offsetMs}) / ${everyMs}) AS BIGINT) * ${everyMs} + ${offsetMs})`;
}

/**
 * Computes the batch views' snapshots for the entity rows in `entTable` and adds their joins
 * and feature values to `values` (by the plan's internal columns).
 */
export async function batchViewStep(
  ctx: {
    client: DuckDBClient;
    plan: ExportPlan;
    engine: ExportEngine;
    sources: ReadonlyMap<string, PassSource>;
    entTable: string;
    name: (prefix: string) => string;
    tmpDir: string;
  },
  values: SqlFeatureValues,
): Promise<void> {
  const { client, plan, engine } = ctx;
  let n = 0;
  for (const [name, feats] of batchViewsOf(plan)) {
    if (!engine.batchSnapshots)
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        `the ${engine.name} export engine cannot export batch view "${name}"`,
        { detail: { reason: 'unsupported_operation' } },
      );
    const view = plan.repo.batchViews.get(name)!;
    const at = snapshotAtSql(view, 'e.__t');
    const times = (
      await client.all(
        `SELECT DISTINCT ${at} AS d FROM ${ctx.entTable} e WHERE e.__t IS NOT NULL ORDER BY d`,
      )
    ).map((r) => Number(r.d));
    const cols = snapshotColumns(plan.repo, view.spec);
    const table = await engine.batchSnapshots({
      client,
      view,
      cols,
      source: view.batch.spec,
      src: ctx.sources.get(view.batch.spec.name)!,
      times,
      name: ctx.name,
      tmpDir: ctx.tmpDir,
    });
    const alias = `__bv${n++}`;
    const on = [
      `${alias}.${SNAPSHOT_COLUMN} = ${at}`,
      ...cols.keys.map(
        (k) =>
          `${alias}.${ident(k.name)} = TRY_CAST(e.${ident(k.name)} AS ${sqlValueType(k.type)})`,
      ),
    ];
    values.joins.push(`LEFT JOIN ${table} ${alias} ON ${on.join(' AND ')}`);
    for (const f of feats)
      values.valueOf.set(
        plan.columnOf(name, f),
        `CASE WHEN e.__t < ${alias}.${SNAPSHOT_COLUMN} + ${view.spec.ttlMs} THEN ${alias}.${ident(f)} END`,
      );
  }
}

/**
 * The snapshot of a batch view at `at` (a snapshot time), computed by `engine` like an export's:
 * one row per entity, its join keys then its features. What `materialize` writes online.
 */
export async function readSnapshot(
  db: LocalDatabase,
  engine: ExportEngine,
  req: BatchSnapshotRequest,
): Promise<BatchSnapshot> {
  const view = req.repo.batchViews.get(req.view);
  if (!view)
    throw new LarderError('LARDER_NOT_FOUND', `unknown batch view "${req.view}"`, {
      hint: `batch views: ${[...req.repo.batchViews.keys()].join(', ') || '(none)'}`,
    });
  if (!engine.batchSnapshots)
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `the ${engine.name} engine cannot compute batch view "${req.view}"`,
      { detail: { reason: 'unsupported_operation' } },
    );
  const client = await db.connect();
  try {
    const spec = view.batch.spec;
    const paths = new Set<string>();
    for (const node of [...Object.values(view.spec.columns), view.spec.filter])
      if (node) exprPaths(node).forEach((p) => paths.add(p));
    const rejects: RejectReport[] = [];
    const src = await engine.source(client, spec, paths, rejects);
    const cols = snapshotColumns(req.repo, view.spec);
    const table = await engine.batchSnapshots({
      client,
      view,
      cols,
      source: spec,
      src,
      times: [req.at],
      name: (p) => db.name(p),
      tmpDir: db.tmpDir,
    });
    const rows = await client.all(
      `SELECT ${[...cols.keys, ...cols.features].map((c) => ident(c.name)).join(', ')} FROM ${table}`,
    );
    return {
      at: req.at,
      rows: rows.map((r) => ({
        key: cols.keys.map((k) => r[k.name] as Scalar),
        values: Object.fromEntries(cols.features.map((f) => [f.name, r[f.name] as Scalar | null])),
      })),
      rejects,
    };
  } finally {
    await db.dropTemps(client);
  }
}
