/**
 * Worker thread of the sweep pool (`sweep-pool.ts`), run as plain JavaScript: the pool bundles
 * this file and what it imports with esbuild when it starts. Messages:
 * - `{ type: 'load', id, files }`: read a cached index now (the sweep's rows follow);
 * - `{ type: 'sweep', id, features, rows, index? }`: sweep the index sent along or loaded for
 *   `id`, answering `{ id, results }` (result arrays shared or transferred) or
 *   `{ id, error, indexFile? }`;
 * - `{ type: 'drop', id }`: forget a loaded index whose rows will not come.
 */
import { parentPort } from 'node:worker_threads';
import { IndexFileError, readIndexFiles, type IndexFiles } from './index-files.ts';
import type { PassIndex } from './pass-index.ts';
import { sweepFeatures, type SweepFeature, type SweepRows } from './sweep.ts';

type Message =
  | { type: 'load'; id: number; files: IndexFiles }
  | { type: 'drop'; id: number }
  | { type: 'sweep'; id: number; features: SweepFeature[]; rows: SweepRows; index?: PassIndex };

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
  const index = msg.type === 'sweep' && msg.index ? msg.index : loaded.get(msg.id);
  loaded.delete(msg.id);
  if (msg.type === 'drop') return;
  try {
    if (index === undefined) throw new Error(`no index for sweep ${msg.id}`);
    if (index instanceof Error) throw index;
    const results = sweepFeatures(index, msg.features, msg.rows);
    // Arrays in shared memory are shared as they are, the others transferred.
    const transfer = [...results.values()]
      .flatMap((r) => [
        r.values.buffer,
        ...(r.lists ? [r.lists.offsets.buffer, r.lists.items.buffer] : []),
      ])
      .filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
    port.postMessage({ id: msg.id, results }, transfer);
  } catch (e) {
    port.postMessage({
      id: msg.id,
      error: e instanceof Error ? e.message : String(e),
      indexFile: e instanceof IndexFileError,
    });
  }
});
port.postMessage({ ready: true });
