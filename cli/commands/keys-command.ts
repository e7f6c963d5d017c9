import type { Command } from 'commander';
import { KeyStore, SCOPES, type Scope } from '../../api/auth/key-store.ts';
import { LarderError } from '../../core/errors.ts';
import { cliConfig, type GlobalOptions } from '../context.ts';
import { info, table } from '../output.ts';

function parseScopes(text: string): Scope[] {
  const scopes = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of scopes)
    if (!(SCOPES as readonly string[]).includes(s))
      throw new LarderError('LARDER_BAD_REQUEST', `unknown scope "${s}"`, {
        hint: `scopes: ${SCOPES.join(', ')}`,
        detail: { reason: 'invalid_option' },
      });
  if (scopes.length === 0)
    throw new LarderError('LARDER_BAD_REQUEST', '--scopes is empty', {
      hint: `e.g. --scopes read,push`,
      detail: { reason: 'invalid_option' },
    });
  return scopes as Scope[];
}

function parseRate(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(text.trim());
  if (!m || Number(m[1]) <= 0)
    throw new LarderError('LARDER_BAD_REQUEST', `--rate ${text}: write N/s, e.g. 100/s`, {
      detail: { reason: 'invalid_option' },
    });
  return Number(m[1]);
}

/** `larder keys create|list|revoke`: API keys of the feature server ($LARDER_HOME/keys.json). */
export function registerKeysCommand(program: Command, globals: () => GlobalOptions): void {
  const keys = program
    .command('keys')
    .description('manage API keys of `larder serve` (auth is on once a key exists)');
  keys
    .command('create')
    .description('create an API key; prints the key once')
    .requiredOption('--scopes <list>', `comma-separated: ${SCOPES.join(',')}`)
    .option('--name <name>', 'a label for the key')
    .option('--rate <N/s>', 'rate limit in requests per second')
    .action(async (opts: { scopes: string; name?: string; rate?: string }) => {
      const config = await cliConfig(globals());
      const store = new KeyStore(config.home);
      const { key, record } = store.create({
        scopes: parseScopes(opts.scopes),
        name: opts.name,
        rate: parseRate(opts.rate),
      });
      info(
        `created key ${record.id} (${record.name}) with scopes ${record.scopes.join(',')}; store it now, it is not shown again:`,
      );
      process.stdout.write(`${key}\n`);
    });
  keys
    .command('list')
    .description('list API keys (never their secrets)')
    .action(async () => {
      const config = await cliConfig(globals());
      const rows = new KeyStore(config.home)
        .list()
        .map((k) => [
          k.id,
          k.name,
          k.scopes.join(','),
          k.rate === null ? '-' : `${k.rate}/s`,
          k.createdAt,
          k.revokedAt ? `revoked ${k.revokedAt}` : 'active',
        ]);
      process.stdout.write(
        `${rows.length ? table(rows, ['ID', 'NAME', 'SCOPES', 'RATE', 'CREATED', 'STATUS']) : 'No API keys: the server runs without auth.'}\n`,
      );
    });
  keys
    .command('revoke <id>')
    .description('revoke an API key (takes effect in a running server within a second)')
    .action(async (id: string) => {
      const config = await cliConfig(globals());
      const rec = new KeyStore(config.home).revoke(id);
      info(`revoked key ${rec.id} (${rec.name})`);
    });
}
