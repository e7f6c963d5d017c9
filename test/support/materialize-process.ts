/**
 * One `materialize-incremental` in its own process, for the race tests: with `pause`, it stops
 * as its first view starts (after it read the registry, before it reads the offline store or
 * writes a tile) until a byte arrives on stdin, having printed "paused". Then prints its JSON
 * summary (views run, views it found overlapped) and exits 0.
 *   node --import tsx test/support/materialize-process.ts ROOT REPO CONFIG_JSON END VIEWS [pause]
 * (VIEWS: a comma-separated list)
 */
import { readSync, writeSync } from 'node:fs';
import { openFeatureStore } from '../../store/feature-store.ts';

const [root, repo, config, end, views, pause] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string | undefined,
];
const store = await openFeatureStore({ root, repo, config: JSON.parse(config) as object });
let waiting = pause === 'pause';
const overlapped: unknown[] = [];
const results = await store.materialize({
  end: Number(end),
  incremental: true,
  views: views.split(','),
  onViewStart: () => {
    if (!waiting) return;
    waiting = false;
    writeSync(1, 'paused\n');
    readSync(0, Buffer.alloc(1)); // blocks this process until the test writes
  },
  onOverlap: (o) => overlapped.push(o),
});
await store.close();
writeSync(1, `${JSON.stringify({ views: results.map((r) => r.view), overlapped })}\n`);
