/**
 * `computeTiles` (materialization) of sequence features on DuckDB: the pass's events of
 * `[start, end)` with each feature's `where` flag and compared field (`sequenceEventsSql`),
 * streamed from DuckDB and folded by `offline/sequence-tile-fold.ts` (the aggregation library's
 * sequence states) — the rows of one bucket of entities at a time (`duckdb-offline-store.ts`).
 */
import { sequenceTiles } from '../../aggregation/index.ts';
import type { SequenceKind } from '../../core/sequence.ts';
import type { Scalar } from '../../core/types.ts';
import { hopIndexSql } from './sql/hops-sql.ts';
import type { FeatureSpec } from '../../definitions/spec.ts';
import type { Pass } from '../export/pass.ts';
import type { DuckDBClient } from '../local/duckdb-client.ts';
import { SequenceTileFolder, type TileRecords } from '../sequence-tile-fold.ts';
import { eventsSql } from './sql/feature-pass.ts';
import { renderExpr } from './sql/render-expr.ts';

export { tileRecordId, type TileRecords } from '../sequence-tile-fold.ts';

/**
 * The sequence features' events of `[start, end)`: the keys `__k<i>`, `__ts`, `__id`, then per
 * feature `j` its `where` flag `__m<j>` (1 or 0) and compared field `__v<j>`.
 */
export function sequenceEventsSql(
  pass: Pass,
  features: readonly FeatureSpec[],
  start: number,
  end: number,
): string {
  const extra = features.flatMap((f, j) => [
    `CAST(${f.where ? `(${renderExpr(pass.schema, f.where)}) IS TRUE` : 'TRUE'} AS INTEGER) AS __m${j}`,
    `${f.input ? renderExpr(pass.schema, f.input) : 'NULL'} AS __v${j}`,
  ]);
  return `SELECT * FROM (${eventsSql(pass, extra, null)}) WHERE __ts >= ${start} AND __ts < ${end}`;
}

/** The hop sizes of the features' sequence state tiles (each event lands in one tile of each). */
export function sequenceHops(features: readonly FeatureSpec[], ttlMs: number): number[] {
  const hops = features.flatMap((f) =>
    sequenceTiles({ ...f, aggregation: f.aggregation as SequenceKind }, ttlMs).map((t) => t.hopMs),
  );
  return [...new Set(hops)];
}

/**
 * The events of `sequenceEventsSql` the fold can use, as a filter (`WHERE …`, or `QUALIFY …`
 * with a window function), or '' when it needs every one. Per hop size of the features'
 * states: with `firstHops`, only the events of its first serving hop on (the fold leaves the
 * others out of every tile); when every state of that hop size is `latestOnly` (the
 * `count_previous` `~last` states), only the events with the latest timestamp of their entity
 * and hop, ties kept. An event is kept when some hop size keeps it, so each tile gets the same
 * state as from every event, and the same tiles exist.
 */
export function sequenceEventsFilter(
  features: readonly FeatureSpec[],
  ttlMs: number,
  nk: number,
  firstHops?: ReadonlyMap<number, number>,
): string {
  const byHop = new Map<number, boolean>();
  for (const f of features)
    for (const t of sequenceTiles({ ...f, aggregation: f.aggregation as SequenceKind }, ttlMs))
      byHop.set(t.hopMs, (byHop.get(t.hopMs) ?? true) && t.latestOnly);
  const keys = Array.from({ length: nk }, (_, i) => `__k${i}`).join(', ');
  const conds: string[] = [];
  let window = false;
  for (const [h, latestOnly] of byHop) {
    const hop = `(${hopIndexSql('__ts', h)})`;
    const first = firstHops?.get(h);
    const from = first === undefined ? null : `${hop} >= ${first}`;
    if (!latestOnly) {
      if (from === null) return '';
      conds.push(from);
      continue;
    }
    window = true;
    const latest = `__ts = max(__ts) OVER (PARTITION BY ${keys}, ${hop})`;
    conds.push(from === null ? latest : `(${from} AND ${latest})`);
  }
  return conds.length === 0 ? '' : ` ${window ? 'QUALIFY' : 'WHERE'} ${conds.join(' OR ')}`;
}

/**
 * Folds the rows of `sql` (columns as `sequenceEventsSql`'s, more columns after them ignored;
 * `nk` keys) into `into`, leaving out the tiles before `firstHops` (`ComputeTilesRequest`).
 */
export async function foldSequenceEvents(
  client: DuckDBClient,
  sql: string,
  nk: number,
  features: readonly FeatureSpec[],
  ttlMs: number,
  into: TileRecords,
  firstHops?: ReadonlyMap<number, number>,
): Promise<void> {
  const folder = new SequenceTileFolder(features, ttlMs, into, firstHops);
  const n = features.length;
  // Only `count_previous` states keep event ids (session runs hold times and flags): the ids
  // are decoded only for those.
  const ids = features.some((f) => f.aggregation === 'count_previous');
  // Cell by cell (`streamRaw`): only the columns the fold reads are converted, the `where`
  // flags read from their INTEGER arrays.
  // One row object, refilled (`addRow` keeps none of it), and one key array per entity: the
  // rows come in key order, so a row whose key cells hold the previous row's text (compared
  // in DuckDB's bytes, `sameText`) takes its array without decoding them.
  const row = {
    ts: 0,
    id: '',
    values: new Array<Scalar | null>(n).fill(null),
    matches: new Array<boolean>(n).fill(false),
  };
  let key: Scalar[] | null = null;
  for await (const chunk of client.streamRaw(sql)) {
    const flags = Array.from({ length: n }, (_, j) => chunk.numbers(nk + 2 + 2 * j));
    for (let r = 0; r < chunk.size; r++) {
      let same = key !== null && r > 0;
      for (let i = 0; same && i < nk; i++) same = chunk.sameText(i, r, r - 1);
      if (!same) {
        const next = Array.from({ length: nk }, (_, i) => chunk.value(i, r)) as Scalar[];
        if (key === null || next.some((v, i) => v !== key![i])) key = next;
      }
      for (let j = 0; j < n; j++) {
        const raw = chunk.value(nk + 2 + 2 * j + 1, r);
        row.values[j] = raw === undefined ? null : (raw as Scalar | null);
        row.matches[j] = flags[j]![r] === 1;
      }
      row.ts = Number(chunk.value(nk, r));
      row.id = ids ? String(chunk.value(nk + 1, r)) : '';
      folder.addRow(key!, row);
    }
  }
}
