/**
 * Builds the native JSON Lines validator (`native/jsonl-validate`, `cargo build --release`).
 * `npm run build:native` fails when it cannot; the `postinstall` runs it with `--optional`, which
 * never fails the install: without cargo (or when the build fails) it prints one line, and
 * DuckDB validates JSON Lines as without the executable (offline/duckdb/native-validate.ts).
 */
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import process from 'node:process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const optional = process.argv.includes('--optional');
const manifest = join(dirname(fileURLToPath(import.meta.url)), 'jsonl-validate', 'Cargo.toml');

/** cargo on the PATH, else rustup's default place. */
function cargo() {
  if (process.env.CARGO) return process.env.CARGO;
  if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status === 0) return 'cargo';
  const home = join(process.env.CARGO_HOME ?? join(homedir(), '.cargo'), 'bin', 'cargo');
  return existsSync(home) ? home : null;
}

function give(message) {
  console.log(`larder: ${message}; DuckDB validates JSON Lines instead (slower first runs)`);
  process.exit(optional ? 0 : 1);
}

const exe = cargo();
if (!exe) give('cargo not found, so the native JSON Lines validator is not built');
const r = spawnSync(exe, ['build', '--release', '--quiet', '--manifest-path', manifest], {
  stdio: 'inherit',
});
if (r.status !== 0)
  give(
    `building the native JSON Lines validator failed (${r.error?.message ?? `exit ${r.status}`})`,
  );
