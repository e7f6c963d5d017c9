import { defineConfig } from './config/config.ts';

// The project's defaults; every field can be overridden by env (see config/config.ts).
export default defineConfig({
  repo: 'features',
  home: '.larder',
  dataDir: 'data',
  offlineStore: { type: 'duckdb' },
});
