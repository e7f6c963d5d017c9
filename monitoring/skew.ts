/**
 * Training/serving skew (Chronon's consistency metric): the logged rows of a service are
 * recomputed offline at their logged timestamps by the export engine (the logged entity keys and
 * request data as entity rows, `event_timestamp` = the read's evaluation time), and each
 * feature's share of rows whose served value differs from the offline one is reported, with
 * examples (docs/monitoring.md "Skew").
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LarderConfig } from '../config/config.ts';
import { LarderError } from '../core/errors.ts';
import type { Repository } from '../definitions/repository.ts';
import { createOfflineStore } from '../offline/create-offline-store.ts';
import { DuckDBClient } from '../offline/local/duckdb-client.ts';
import { createLogTableClient, logTableOf } from './bigquery-log-sink.ts';
import { readBigQueryLoggedRows } from './bigquery-logged-rows.ts';
import type { LoggedRow } from './feature-log.ts';
import { valuesEqual } from './values-equal.ts';

export type { LoggedRow } from './feature-log.ts';

export interface SkewExample {
  requestId: string;
  row: number;
  /** The read's evaluation time, ISO-8601. */
  at: string;
  entities: Record<string, unknown>;
  served: unknown;
  status: string;
  offline: unknown;
}

export interface FeatureSkew {
  /** The served output name. */
  feature: string;
  /** Logged rows that served the feature. */
  compared: number;
  differing: number;
  /** `differing / compared` (0 when nothing was compared). */
  share: number;
  examples: SkewExample[];
}

export interface SkewReport {
  service: string;
  /** The window of logged reads, `[start, end)`, ISO-8601. */
  start: string;
  end: string;
  /** Logged rows recomputed. */
  rows: number;
  features: FeatureSkew[];
  generatedAt: string;
}

/** Where `larder skew` keeps the newest report of a service: `$LARDER_HOME/skew/<service>.json`. */
export const skewReportPath = (home: string, service: string): string =>
  join(home, 'skew', `${service}.json`);

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The logged rows of a service with `start ≤ ts < end`, in log order. */
export async function readLoggedRows(
  logDir: string,
  service: string,
  start: number,
  end: number,
): Promise<LoggedRow[]> {
  const dir = join(logDir, service);
  if (!existsSync(dir)) return [];
  const db = await DuckDBClient.open({ threads: '1' });
  try {
    const rows = await db.all(
      `SELECT request_id, row, epoch_ms(ts) AS t, entities, features, statuses
       FROM read_parquet(${sqlString(join(dir, '*.parquet'))}, filename = true)
       WHERE ts >= make_timestamp(${Math.trunc(start)} * 1000) AND ts < make_timestamp(${Math.trunc(end)} * 1000)
       ORDER BY filename, request_id, row`,
    );
    return rows.map((r) => ({
      requestId: r.request_id as string,
      row: Number(r.row),
      t: Number(r.t),
      entities: JSON.parse(r.entities as string) as Record<string, unknown>,
      values: JSON.parse(r.features as string) as Record<string, unknown>,
      statuses: JSON.parse(r.statuses as string) as Record<string, string>,
    }));
  } catch (e) {
    // No file yet matches the glob: nothing was logged.
    if (/No files found/i.test((e as Error).message)) return [];
    throw e;
  } finally {
    db.close();
  }
}

/**
 * Compares logged rows with the offline values of the same rows (`offline[i]` for `logged[i]`,
 * keyed by the served output names).
 */
export function compareSkew(
  logged: readonly LoggedRow[],
  offline: readonly Record<string, unknown>[],
  maxExamples = 5,
): Omit<SkewReport, 'service' | 'start' | 'end' | 'generatedAt'> {
  const byFeature = new Map<string, FeatureSkew>();
  logged.forEach((row, i) => {
    const off = offline[i] ?? {};
    for (const [name, served] of Object.entries(row.values)) {
      let f = byFeature.get(name);
      if (!f)
        byFeature.set(
          name,
          (f = { feature: name, compared: 0, differing: 0, share: 0, examples: [] }),
        );
      f.compared++;
      const value = off[name] ?? null;
      if (valuesEqual(served, value)) continue;
      f.differing++;
      if (f.examples.length < maxExamples)
        f.examples.push({
          requestId: row.requestId,
          row: row.row,
          at: new Date(row.t).toISOString(),
          entities: row.entities,
          served,
          status: row.statuses[name] ?? 'NOT_FOUND',
          offline: value,
        });
    }
  });
  const features = [...byFeature.values()].map((f) => ({
    ...f,
    share: f.compared === 0 ? 0 : f.differing / f.compared,
  }));
  return { rows: logged.length, features };
}

/**
 * Where a service's rows are logged: the destinations of its own `logging` and of the models on
 * it that declare `logging` (empty: the service is not logged).
 */
export function logDestinations(repo: Repository, service: string): Set<string> {
  const out = new Set<string>(repo.services.get(service)?.spec.logging?.destinations ?? []);
  for (const m of repo.models.values())
    if (m.spec.service === service) for (const d of m.spec.logging?.destinations ?? []) out.add(d);
  return out;
}

/**
 * The logged rows of a service with `start ≤ ts < end`, from where they are kept: the BigQuery
 * log table when the offline store is BigQuery and the service (or a model on it) logs to
 * `'bigquery'`, otherwise the Parquet files under `$LARDER_DATA_DIR/logs/` (docs/monitoring.md
 * "Skew"). Used by `larder skew` and by `larder drift --current logs`.
 */
export async function readServiceLogs(
  config: Pick<LarderConfig, 'dataDir'> & Partial<Pick<LarderConfig, 'offlineStore'>>,
  repo: Repository,
  service: string,
  start: number,
  end: number,
): Promise<LoggedRow[]> {
  const store = config.offlineStore;
  return store?.type === 'bigquery' && logDestinations(repo, service).has('bigquery')
    ? await readBigQueryLoggedRows(
        createLogTableClient(store),
        logTableOf(store),
        service,
        start,
        end,
      )
    : await readLoggedRows(join(config.dataDir, 'logs'), service, start, end);
}

/**
 * Recomputes a service's logged rows of `[start, end)` offline and reports the skew per feature.
 *
 * @example
 * const report = await skewReport({ config, repo, service: 'recommendation_v1', start, end });
 * report.features[0]; // { feature: 'clicks_1h', compared: 120, differing: 3, share: 0.025, examples }
 */
export async function skewReport(opts: {
  config: Pick<LarderConfig, 'offlineStore' | 'dataDir' | 'home'> &
    Partial<Pick<LarderConfig, 'ingest' | 'trace'>>;
  repo: Repository;
  service: string;
  start: number;
  end: number;
  maxExamples?: number;
}): Promise<SkewReport> {
  const { repo, service, start, end } = opts;
  const features = repo.resolveFeatures({ service });
  const destinations = logDestinations(repo, service);
  if (destinations.size === 0)
    throw new LarderError('LARDER_BAD_REQUEST', `feature service "${service}" is not logged`, {
      hint: 'declare logging: { sample: 1 } on the service (or a model on it), apply, and serve it first',
      detail: { reason: 'invalid_option' },
    });
  const logged = await readServiceLogs(opts.config, repo, service, start, end);
  const frame = {
    service,
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    generatedAt: new Date().toISOString(),
  };
  if (logged.length === 0) return { ...frame, rows: 0, features: [] };
  const offline = createOfflineStore(opts.config);
  await offline.init();
  let data: Record<string, unknown>[];
  try {
    const out = await offline.exportPointInTime({
      repo,
      features,
      entities: {
        type: 'rows',
        rows: logged.map((r) => ({ ...r.entities, event_timestamp: r.t })),
      },
      out: { type: 'memory' },
      fullFeatureNames: true,
    });
    data = out.data ?? [];
  } finally {
    await offline.close();
  }
  // The export names columns view__feature; the log names them as served (short, or full
  // with full_feature_names).
  const recomputed = data.map((d) => {
    const o: Record<string, unknown> = {};
    for (const f of features) {
      const v = d[`${f.view}__${f.feature}`] ?? null;
      o[f.feature] = v;
      o[`${f.view}__${f.feature}`] = v;
    }
    return o;
  });
  return { ...frame, ...compareSkew(logged, recomputed, opts.maxExamples) };
}
