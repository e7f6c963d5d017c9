/**
 * Worker thread of the sweep pool (`sweep-pool.ts`), run as plain JavaScript: the pool bundles
 * this file and what it imports with esbuild when it starts. Messages:
 * - `{ type: 'load', id, files }`: read a cached index now (the sweep's rows follow);
 * - `{ type: 'sweep', id, features, rows, index?, encode? }`: sweep the index sent along or
 *   loaded for `id`, answering `{ id, results }` (result arrays transferred) or `{ id, error,
 *   indexFile? }`; with `encode` (the output file's row groups and templates of the columns to
 *   encode), the results come in shared memory, then `{ id, encoded }` once encoded;
 * - `{ type: 'encode', id, column, groups }`: encode one column, answering `{ id, encoded }`;
 * - `{ type: 'drop', id }`: forget a loaded index whose rows will not come.
 */
import { parentPort } from 'node:worker_threads';
import { IndexFileError, readIndexFiles, type IndexFiles } from './index-files.ts';
import type { PassIndex } from './pass-index.ts';
import { sweepFeatures, type SweepFeature, type SweepRows } from './sweep.ts';
import { encodeColumn, type AppendColumn } from '../parquet/append-columns.ts';
import { fillTemplate, shareResults, type EncodeRequest } from './sweep-output.ts';

type Message =
  | { type: 'load'; id: number; files: IndexFiles }
  | { type: 'drop'; id: number }
  | { type: 'encode'; id: number; column: AppendColumn; groups: number[] }
  | {
      type: 'sweep';
      id: number;
      features: SweepFeature[];
      rows: SweepRows;
      index?: PassIndex;
      encode?: EncodeRequest;
    };

const failure = (id: number, e: unknown) => ({
  id,
  error: e instanceof Error ? e.message : String(e),
  indexFile: e instanceof IndexFileError,
});

const port = parentPort!;
const loaded = new Map<number, PassIndex | Error>();

port.on('message', (msg: Message) => {
  if (msg.type === 'load') {
    try {
      loaded.set(msg.id, readIndexFiles(msg.files));
    } catch (e) {
      loaded.set(msg.id, e instanceof Error ? e : new Error(String(e)));
    }
    return;
  }
  if (msg.type === 'encode') {
    try {
      port.postMessage({ id: msg.id, encoded: encodeColumn(msg.column, msg.groups) });
    } catch (e) {
      port.postMessage(failure(msg.id, e));
    }
    return;
  }
  const index = msg.type === 'sweep' && msg.index ? msg.index : loaded.get(msg.id);
  loaded.delete(msg.id);
  if (msg.type === 'drop') return;
  let results;
  try {
    if (index === undefined) throw new Error(`no index for sweep ${msg.id}`);
    if (index instanceof Error) throw index;
    results = sweepFeatures(index, msg.features, msg.rows);
  } catch (e) {
    port.postMessage(failure(msg.id, e));
    return;
  }
  const { encode } = msg;
  if (!encode) {
    const transfer = [...results.values()].flatMap((r) => [
      r.values.buffer as ArrayBuffer,
      ...(r.lists
        ? [r.lists.offsets.buffer as ArrayBuffer, r.lists.items.buffer as ArrayBuffer]
        : []),
    ]);
    port.postMessage({ id: msg.id, results }, transfer);
    return;
  }
  // Shared, so the main thread can read them while they are encoded here.
  const shared = shareResults(results);
  port.postMessage({ id: msg.id, results: shared });
  try {
    const encoded = new Map(
      encode.columns.map(([col, t]) => [
        col,
        encodeColumn(fillTemplate(t, shared.get(col)!), encode.groups),
      ]),
    );
    port.postMessage({ id: msg.id, encoded });
  } catch (e) {
    port.postMessage(failure(msg.id, e));
  }
});
port.postMessage({ ready: true });
