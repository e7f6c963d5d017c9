import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/support/slow-first-sequencer.ts';

// Two groups: `unit` needs nothing but Node; `integration` (*.redis.test.ts, *.kafka.test.ts,
// *.services.test.ts) needs the real Redis and Kafka that `npm run services:up` starts.
// Two test files at a time, even on 2 cores (vitest's default would be one): most integration
// files wait on Kafka, Redis, the BigQuery emulator or child processes, so the suite takes
// ~10 minutes instead of ~18 here; every file is written to pass beside another. The slowest
// files start first (test/support/slow-first-sequencer.ts), so none runs alone at the end.
// No test reaches Google Cloud: the BigQuery client's look-up of a GCE metadata server costs
// 1–2 s in every process that opens one (the emulator tests and their `larder` children).
// Set by the environment, it wins (e.g. a live BigQuery run on GCE).
process.env.METADATA_SERVER_DETECTION ||= 'none';

export default defineConfig({
  test: {
    maxWorkers: 2,
    minWorkers: 1,
    // Worker processes are reused from file to file; each project says whether its files share
    // the modules they import. vitest then starts the files project by project: the
    // integration files first (the sequencer's first file is one), then the unit files.
    poolOptions: { forks: { isolate: false } },
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.{redis,kafka,services}.test.ts'],
          testTimeout: 30_000,
          // The unit files share their worker's modules: a module a file imports stays loaded
          // for the next file (each test file itself runs afresh, and restores the mocks and
          // timers it changes). Importing DuckDB, the API server and the definitions again for
          // every file was most of their CPU: test/api 34 → 12 CPU s, test/offline 190 → 150.
          poolOptions: { forks: { isolate: false } },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.{redis,kafka,services}.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each integration file imports Larder's modules afresh (packages from node_modules
          // stay loaded in the reused process, as they do for the unit files).
          poolOptions: { forks: { isolate: true } },
        },
      },
    ],
  },
});
