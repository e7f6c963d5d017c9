/**
 * The point-in-time export, the same for every offline store: plan → engine → on-demand →
 * writer.
 *
 * 1. Plan (`export-plan.ts`): the view features needed, output names, sources and passes; the
 *    engine says where each source is read from (and reports its bad records).
 * 2. Entity rows (`entity-rows.ts`) into the local DuckDB: a file, rows, or a time grid over the
 *    keys the engine finds.
 * 3. The engine (`export-engine.ts`) computes every pass feature for the entity rows: as SQL
 *    over local tables (DuckDB SQL, BigQuery) or as the finished Parquet file (the sweep).
 * 4. On-demand features, column-wise per result chunk (`on-demand.ts`), into a local table.
 * 5. The writer (`write-output.ts`): Parquet, Arrow, CSV, JSON Lines, or rows in memory.
 */
import { closeSync, existsSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { LarderError } from '../../core/errors.ts';
import type { ValueType } from '../../core/types.ts';
import { ident, sqlString, type DuckDBClient } from '../local/duckdb-client.ts';
import { sqlValueType } from '../local/column-types.ts';
import type { LocalDatabase } from '../local/local-database.ts';
import type { ExportColumn, ExportRequest, ExportSummary, RejectReport } from '../offline-store.ts';
import { loadEntities } from './entity-rows.ts';
import type {
  ExportEngine,
  ExportJob,
  ExportProgressFn,
  SqlFeatureValues,
} from './export-engine.ts';
import { planExport, planPasses, planSources, type ExportPlan } from './export-plan.ts';
import { applyOnDemand } from './on-demand.ts';
import {
  addBatchSources,
  batchJoinKeys,
  batchKeyPasses,
  batchViewsOf,
  batchViewStep,
} from './batch-views.ts';
import type { PassSource } from './pass.ts';
import { outputFormat } from './output-format.ts';
import { readRows, writeOutput } from './write-output.ts';

export interface ExportPipelineOptions {
  /**
   * A Parquet-writing engine's Parquet export is rewritten through DuckDB with zstd instead of
   * being renamed into place (the DuckDB store's `compactParquet`).
   */
  compactParquet?: boolean;
}

/**
 * Runs a point-in-time export in `db` (the local DuckDB) with `engine`; see {@link ExportRequest}.
 *
 * @example
 * const summary = await exportPointInTime(db, new DuckDBSqlEngine(sources), request);
 */
export async function exportPointInTime(
  db: LocalDatabase,
  engine: ExportEngine,
  req: ExportRequest,
  options: ExportPipelineOptions = {},
): Promise<ExportSummary> {
  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  if (req.out.type === 'file') {
    const folder = dirname(resolve(req.out.path));
    if (!existsSync(folder) || !statSync(folder).isDirectory())
      throw new LarderError(
        'LARDER_NOT_FOUND',
        `the output folder ${dirname(req.out.path)} (of ${req.out.path}) does not exist`,
        { hint: `create it first (mkdir -p ${dirname(req.out.path)}) or write elsewhere` },
      );
    if (existsSync(req.out.path) && statSync(req.out.path).isDirectory())
      throw new LarderError('LARDER_BAD_REQUEST', `the output ${req.out.path} is a folder`, {
        detail: { reason: 'invalid_option' },
        hint: 'name the file to write, e.g. train.parquet',
      });
    // The output is written to a temporary file next to it and renamed: a folder no file can be
    // created in (no permission, a read-only mount, /proc) is refused now, not after the work.
    const probe = `${resolve(req.out.path)}.${randomUUID()}.probe`;
    try {
      closeSync(openSync(probe, 'wx'));
      rmSync(probe);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        `cannot create files in the output folder ${dirname(req.out.path)} (of ${req.out.path}): ${code}`,
        {
          detail: { reason: 'permission_denied' },
          hint: 'write elsewhere, or make the folder writable',
          cause: e,
        },
      );
    }
  }
  const client = await db.connect();
  engine.begin?.();
  const name = (prefix: string): string => db.name(prefix);
  const progress: ExportProgressFn = (phase, rowsDone, rowsTotal) =>
    req.onProgress?.({ phase, rowsDone, rowsTotal, elapsedSeconds: elapsed() });

  // 1. The plan: features, output names, sources, passes.
  const plan = planExport(req);
  const { features, outNames, columnOf } = plan;
  progress('reading sources', 0, 0);
  const rejects: RejectReport[] = [];
  const sources = new Map<string, PassSource>();
  const toRead = planSources(plan);
  addBatchSources(plan, toRead);
  // Every source's new raw files validated together first (one pool over all of them), when
  // the engine can; each source then reads its validated entries.
  await engine.validateSources?.(
    client,
    [...toRead.values()].map((r) => r.spec),
    (names, v) => progress(`validating ${names.join(', ')}`, v.rowsDone, v.rowsTotal),
  );
  for (const [source, { spec, paths }] of toRead)
    sources.set(
      source,
      await engine.source(client, spec, paths, rejects, (v) =>
        progress(`validating ${source}`, v.rowsDone, v.rowsTotal),
      ),
    );
  const { passes, joinKeys: passKeys } = planPasses(plan, sources);
  const batch = batchViewsOf(plan);
  const joinKeys = [...new Set([...passKeys, ...batchJoinKeys(plan)])];

  // 2. Entity rows.
  const ent = await loadEntities(
    { client, name, tmpDir: db.tmpDir, gridKeys: (c, p, n) => engine.gridKeys(c, p, n) },
    req.entities,
    joinKeys.filter((k) => !plan.requestFields.includes(k)),
    [...passes, ...batchKeyPasses(plan, sources)],
    plan.requestFields.map((name) => ({ name, type: requestFieldType(plan.repo, name) })),
    joinKeyTypes(plan.repo),
  );
  const [{ n: total }] = (await client.all(`SELECT count(*) AS n FROM ${ent.table}`)) as [
    { n: number },
  ];
  const entityCols = ent.columns.map((c) => c.name);
  for (const out of outNames) {
    if (entityCols.includes(out))
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        `feature column "${out}" clashes with a column of the entity rows`,
        {
          detail: { reason: 'duplicate' },
          hint: req.fullFeatureNames
            ? 'rename the entity column'
            : 'pass --full-feature-names, or rename the entity column',
        },
      );
  }

  // 3. The engine.
  progress('aggregating', 0, total);
  const job: ExportJob = {
    client,
    plan,
    passes,
    entTable: ent.table,
    entityCols,
    joinKeys,
    total,
    name,
    tmpDir: db.tmpDir,
    progress,
  };
  const format = req.out.type === 'file' ? (req.out.format ?? outputFormat(req.out.path)) : null;
  /** The Parquet engine's output: a Parquet file with every output column, in row order. */
  let parquetFile: string | null = null;
  // A Parquet engine's Parquet export is written next to its destination and renamed into
  // place; any other output (or a compact Parquet one, rewritten with zstd) is one scan of a
  // temp file.
  let inPlace = false;
  let values: SqlFeatureValues | null = null;
  const batchStep = (into: SqlFeatureValues): Promise<void> =>
    batchViewStep(
      { client, plan, engine, sources, entTable: ent.table, name, tmpDir: db.tmpDir },
      into,
    );
  // Only batch views: no pass for the Parquet engine to write, their values are joined as SQL.
  if (engine.output === 'parquet' && !(passes.length === 0 && batch.size > 0)) {
    inPlace =
      req.out.type === 'file' &&
      format === 'parquet' &&
      !options.compactParquet &&
      batch.size === 0;
    parquetFile =
      inPlace && req.out.type === 'file'
        ? `${req.out.path}.${randomUUID()}.tmp`
        : join(db.tmpDir, `${name('feat')}.parquet`);
    try {
      await engine.writeParquet(job, {
        path: parquetFile,
        columns: features.flatMap((f, i) =>
          f.batch ? [] : [{ col: columnOf(f.view, f.feature), name: outNames[i]! }],
        ),
      });
      if (batch.size > 0) await batchStep((values = { joins: [], valueOf: new Map() }));
    } catch (e) {
      rmSync(parquetFile, { force: true });
      throw e;
    }
  } else {
    values =
      engine.output === 'sql' && !(passes.length === 0 && batch.size > 0)
        ? await engine.aggregate(job)
        : { joins: [], valueOf: new Map() };
    await batchStep(values);
    // 4. On-demand features.
    if (plan.odfvs.length > 0)
      await onDemandStep(client, plan, ent.table, values, total, name, progress);
  }

  // 5. Output.
  progress('writing', 0, total);
  const finalSql =
    parquetFile && batch.size > 0
      ? `SELECT ${[
          ...entityCols.map((c) => `p.${ident(c)}`),
          ...features.map((f, i) =>
            f.batch
              ? `${values!.valueOf.get(columnOf(f.view, f.feature))} AS ${ident(outNames[i]!)}`
              : `p.${ident(outNames[i]!)}`,
          ),
        ].join(
          ', ',
        )} FROM read_parquet(${sqlString(parquetFile)}, file_row_number = true) p JOIN ${ent.table} e ON e.__rid = p.file_row_number ${values!.joins.join(' ')} ORDER BY e.__rid`
      : parquetFile
        ? `SELECT * FROM read_parquet(${sqlString(parquetFile)})`
        : `SELECT ${[
            ...entityCols.map((c) => `e.${ident(c)}`),
            ...features.map(
              (f, i) =>
                `${values!.valueOf.get(columnOf(f.view, f.feature))} AS ${ident(outNames[i]!)}`,
            ),
          ].join(', ')} FROM ${ent.table} e ${values!.joins.join(' ')} ORDER BY e.__rid`;
  const columns: ExportColumn[] = [
    ...entityCols.map((c) => ({ name: c, type: 'entity' as const })),
    ...features.map((f, i) => ({ name: outNames[i]!, type: f.type })),
  ];
  const summary: ExportSummary = { rows: total, seconds: 0, rowsPerSecond: 0, columns, rejects };
  try {
    if (req.out.type === 'memory') summary.data = await readRows(client, finalSql);
    else if (inPlace) renameSync(parquetFile!, req.out.path);
    else
      await writeOutput(client, finalSql, req.out.path, format!, columns, ent.columns, total, (d) =>
        progress('writing', d, total),
      );
  } finally {
    if (parquetFile) rmSync(parquetFile, { force: true });
  }
  summary.seconds = elapsed();
  summary.rowsPerSecond = summary.seconds > 0 ? total / summary.seconds : 0;
  progress('done', total, total);
  await db.dropTemps(client);
  return summary;
}

/**
 * The on-demand views' features over the engine's values, column-wise per result chunk,
 * appended to a local temp table that `values` then joins (their value expressions added).
 */
async function onDemandStep(
  client: DuckDBClient,
  plan: ExportPlan,
  entTable: string,
  values: SqlFeatureValues,
  total: number,
  name: (prefix: string) => string,
  progress: ExportProgressFn,
): Promise<void> {
  const { repo, odfvs, columnOf } = plan;
  const base = `FROM ${entTable} e ${values.joins.join(' ')}`;
  const od = name('odfv');
  const outCols = odfvs.flatMap((view) =>
    repo.onDemandViews
      .get(view)!
      .spec.features.map((f) => ({ col: columnOf(view, f.name), type: f.type })),
  );
  await client.run(
    `CREATE TEMP TABLE ${od} (__rid BIGINT${outCols.map((c) => `, ${ident(c.col)} ${sqlValueType(c.type)}`).join('')})`,
  );
  const inCols = [...plan.columns.entries()]
    .filter(([k]) => !odfvs.includes(k.split(':')[0]!))
    .map(([, c]) => c);
  const sel = [
    `e.__rid`,
    `e.__t`,
    ...inCols.map((c) => `${values.valueOf.get(c)} AS ${ident(c)}`),
    ...plan.requestFields.map((f) => `e.${ident(f)}`),
  ];
  let done = 0;
  // Results are buffered and appended once the stream is exhausted: appending on the
  // connection while its streaming result is still open corrupts the rows read after the
  // first chunk (caught by test/offline/on-demand-large-export.test.ts).
  const buffered: unknown[][] = [[], ...outCols.map(() => [])];
  for await (const chunk of client.stream(`SELECT ${sel.join(', ')} ${base} ORDER BY e.__rid`)) {
    const cols: Record<string, unknown[]> = {};
    chunk.names.forEach((n, i) => (cols[n] = chunk.columns[i]!));
    const outs = applyOnDemand(repo, odfvs, cols, chunk.size, cols.__t as number[], columnOf);
    // applyOnDemand's outputs are checked: each value is null or of its feature's type.
    const parts = [cols.__rid!, ...outCols.map((c) => outs[c.col]!)];
    parts.forEach((p, i) => {
      const into = buffered[i]!;
      for (const v of p) into.push(v);
    });
    done += chunk.size;
    progress('on-demand features', done, total);
  }
  await client.appendColumns(od, buffered);
  values.joins.push(`LEFT JOIN ${od} ON ${od}.__rid = e.__rid`);
  for (const c of outCols) values.valueOf.set(c.col, `${od}.${ident(c.col)}`);
}

/** The declared type of the request field `name` (the first on-demand view's that reads it). */
/** Each entity's join key → its declared key type. */
function joinKeyTypes(repo: ExportPlan['repo']): Map<string, ValueType> {
  return new Map([...repo.entities.values()].map((e) => [e.spec.joinKey, e.spec.valueType]));
}

function requestFieldType(repo: ExportPlan['repo'], name: string): ValueType {
  for (const od of repo.onDemandViews.values())
    for (const i of Object.values(od.spec.inputs))
      if (i.from === 'request' && i.field === name) return i.type;
  return 'string';
}
