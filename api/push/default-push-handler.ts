/**
 * The built-in push path: rows → records of the source's batch source, validated with its zod
 * schema (the first bad row is a 400 naming the row and field), then applied to every feature
 * view fed by the source (`streaming/apply-records.ts`) and/or appended as JSON Lines to
 * `$LARDER_DATA_DIR/<batch source path>/push-<YYYY-MM-DD>.jsonl`.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LarderError } from '../../registry/errors.ts';
import { applyRecords, type ApplyObserver } from '../../streaming/apply-records.ts';
import type { BatchSourceDef } from '../../registry/dsl/sources.ts';
import type { Repository } from '../../registry/repository.ts';
import type { PushHandler, PushRequest, PushResult } from './push-handler.ts';
import type { ServingSnapshot } from '../serving-state.ts';
import { parseSourceRecord } from '../../registry/source-record.ts';

const bad = (field: string, message: string, hint?: string): LarderError =>
  new LarderError('LARDER_BAD_REQUEST', message, hint ? { field, hint } : { field });

function batchSourceOf(repo: Repository, name: string): BatchSourceDef {
  const s = repo.pushSources.get(name) ?? repo.streamSources.get(name);
  if (s) return s.batch;
  throw new LarderError('LARDER_NOT_FOUND', `unknown push source "${name}"`, {
    field: 'push_source_name',
    hint: `pushable sources (push and stream sources): ${[...repo.pushSources.keys(), ...repo.streamSources.keys()].join(', ') || '(none)'}`,
  });
}

/** Column-wise `df` → row records; ragged columns are a 400. */
export function rowsOf(
  columns: Readonly<Record<string, readonly unknown[]>>,
): Record<string, unknown>[] {
  const names = Object.keys(columns);
  const n = names.length === 0 ? 0 : columns[names[0]!]!.length;
  for (const k of names)
    if (columns[k]!.length !== n)
      throw bad(
        `df.${k}`,
        `ragged columns: "${k}" has ${columns[k]!.length} values but "${names[0]}" has ${n}`,
      );
  const rows: Record<string, unknown>[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r: Record<string, unknown> = {};
    for (const k of names) r[k] = columns[k]![i];
    rows[i] = r;
  }
  return rows;
}

/**
 * @example
 * const handler = new DefaultPushHandler(config.dataDir);
 * await handler.push(state.current, { source: 'user_events', columns, to: 'online' });
 */
export class DefaultPushHandler implements PushHandler {
  readonly #dataDir: string;
  readonly #clock: () => number;

  constructor(dataDir: string, clock: () => number = Date.now) {
    this.#dataDir = dataDir;
    this.#clock = clock;
  }

  async push(
    snapshot: ServingSnapshot,
    req: PushRequest,
    observer?: ApplyObserver,
  ): Promise<PushResult> {
    const batch = batchSourceOf(snapshot.repo, req.source);
    const rows = rowsOf(req.columns);
    const records: Record<string, unknown>[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = parseSourceRecord(batch.recordSchema, batch.spec.schema, rows[i]);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        const path = issue.path.join('.') || '(row)';
        throw bad(
          `df.${path}[${i}]`,
          `row ${i}: ${path}: ${issue.message}`,
          `records of "${req.source}" follow the schema of batch source "${batch.spec.name}"`,
        );
      }
      records[i] = r.data as Record<string, unknown>;
    }
    let views: string[] = [];
    let file: string | null = null;
    if (req.to !== 'offline' && records.length > 0) {
      const res = await applyRecords(
        snapshot.repo,
        snapshot.store,
        req.source,
        records,
        batch.spec,
        observer,
      );
      views = res.views;
    }
    if (req.to !== 'online' && records.length > 0) {
      const dir = join(this.#dataDir, batch.spec.path);
      mkdirSync(dir, { recursive: true });
      file = join(dir, `push-${new Date(this.#clock()).toISOString().slice(0, 10)}.jsonl`);
      appendFileSync(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    }
    return { rows: records.length, views, file };
  }
}
