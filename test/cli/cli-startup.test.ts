/**
 * Every `larder` process loads the whole command tree (cli/program.ts) before it parses its
 * arguments, so the tree loads no heavy client library: a command imports the Kafka client,
 * prom-client and the like when it runs (`--help`, a usage mistake and `plan` never need them).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KAFKA_LOG_LEVEL } from '../../cli/log-level.ts';

const run = promisify(execFile);

// The packages a fresh process has loaded (CommonJS ones: kafkajs, prom-client, ioredis, …)
// after building the command tree the way cli/main.ts does, with the project's plugins.
const LOADED = `
import { createRequire } from 'node:module';
import { register } from 'tsx/esm/api';
register();
const { buildProgram } = await import('./cli/program.ts');
const { loadCommandPlugins } = await import('./cli/plugin.ts');
buildProgram(await loadCommandPlugins(process.cwd()));
const packages = Object.keys(createRequire(import.meta.url).cache)
  .map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1])
  .filter(Boolean);
console.log(JSON.stringify([...new Set(packages)].sort()));
`;

describe('the CLI command tree', () => {
  it('loads no client library until a command runs', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', LOADED]);
    const loaded = JSON.parse(stdout) as string[];
    for (const heavy of [
      'kafkajs',
      'prom-client',
      'ioredis',
      '@grpc/grpc-js',
      '@google-cloud/bigquery',
      '@duckdb/node-api',
      'fastify',
      'better-sqlite3',
    ])
      expect(loaded, `${heavy} is loaded by the command tree`).not.toContain(heavy);
    expect(loaded).toContain('commander'); // the check sees CommonJS packages at all
  }, 60_000);

  it("writes out kafkajs's log levels exactly (cli/log-level.ts)", () => {
    expect(KAFKA_LOG_LEVEL).toEqual({
      NOTHING: logLevel.NOTHING,
      ERROR: logLevel.ERROR,
      WARN: logLevel.WARN,
      INFO: logLevel.INFO,
      DEBUG: logLevel.DEBUG,
    });
  });
});
