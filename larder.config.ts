import { defineConfig } from './config/config.ts';

// The project's defaults; every field can be overridden by env (see config/config.ts).
export default defineConfig({
  repo: 'examples/ecommerce/features',
  // The example's own commands: larder gen-data, larder label.
  commands: ['examples/ecommerce/cli/commands.ts'],
  home: '.larder',
  dataDir: 'data',
  offlineStore: { type: 'duckdb' },
});
