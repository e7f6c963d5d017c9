// Worker thread of the sweep pool (sweep-pool.ts): loads the TypeScript sweep through tsx, then
// answers { id, index, features, rows } messages with { id, results } (or { id, error }),
// transferring the result arrays back.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { sweepFeatures } = await import('./sweep.ts');

parentPort.on('message', (msg) => {
  try {
    const results = sweepFeatures(msg.index, msg.features, msg.rows);
    const transfer = [...results.values()].map((r) => r.values.buffer);
    parentPort.postMessage({ id: msg.id, results }, transfer);
  } catch (e) {
    parentPort.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
parentPort.postMessage({ ready: true });
