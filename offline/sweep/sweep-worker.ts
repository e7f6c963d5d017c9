/**
 * Worker thread of the sweep pool (`sweep-pool.ts`), run as plain JavaScript: the pool bundles
 * this file and what it imports with esbuild when it starts. Answers `{ id, index, features,
 * rows }` messages with `{ id, results }` (or `{ id, error }`), transferring the result arrays
 * back.
 */
import { parentPort } from 'node:worker_threads';
import { sweepFeatures, type SweepFeature, type SweepRows } from './sweep.ts';
import type { PassIndex } from './pass-index.ts';

interface SweepMessage {
  id: number;
  index: PassIndex;
  features: SweepFeature[];
  rows: SweepRows;
}

const port = parentPort!;
port.on('message', (msg: SweepMessage) => {
  try {
    const results = sweepFeatures(msg.index, msg.features, msg.rows);
    const transfer = [...results.values()].map((r) => r.values.buffer as ArrayBuffer);
    port.postMessage({ id: msg.id, results }, transfer);
  } catch (e) {
    port.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
port.postMessage({ ready: true });
