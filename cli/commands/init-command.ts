/**
 * `larder init [DIR]`: scaffolds a feature repository that `apply`, `materialize` and `serve`
 * run on at once — `larder.config.ts`, `features/` (an entity, a batch source and a push source
 * over it, a view, a service), sample orders under `data/raw/orders/` stamped relative to now,
 * a README and a `.gitignore` (`.larder/`).
 */
import type { Command } from 'commander';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { LarderError } from '../../core/errors.ts';
import { HOUR_MS } from '../../core/duration.ts';

/** The sample orders: customer, hours before `larder init` ran, amount. */
export const SAMPLE_ORDERS: readonly (readonly [string, number, number])[] = [
  ['c1', 2, 30],
  ['c1', 5, 12.5],
  ['c1', 30, 40],
  ['c1', 240, 99],
  ['c2', 3, 8],
  ['c2', 50, 20],
  ['c3', 200, 55],
];

const CONFIG = `import { defineConfig } from 'larder/config';

// Every field can be overridden by the environment (LARDER_HOME, LARDER_ONLINE_STORE, ...).
export default defineConfig({
  repo: 'features',
  home: '.larder',
  dataDir: 'data',
  offlineStore: { type: 'duckdb' },
  onlineStore: { type: 'sqlite', path: '.larder/online.sqlite' },
});
`;

const ENTITIES = `import { entity } from 'larder';

export const customer = entity({
  name: 'customer',
  joinKey: 'customer_id',
  description: 'Someone who places orders.',
});
`;

const SOURCES = `import { z } from 'zod';
import { batchSource, pushSource } from 'larder';

/** JSON Lines (or Parquet) files under <dataDir>/raw/orders. */
export const orders = batchSource({
  name: 'orders',
  path: 'raw/orders',
  schema: z
    .object({
      orderId: z.string(),
      customerId: z.string(),
      amount: z.number(),
      ts: z.number().int(),
    })
    .strict(),
  timestampField: 'ts',
  idField: 'orderId',
  description: 'Order history.',
});

/** Pushes (POST /push, or push() of openFeatureStore) go online and/or into orders' files. */
export const ordersPush = pushSource({ name: 'orders_push', batchSource: orders });
`;

const VIEWS = `import { col, count, featureView, last, sum } from 'larder';
import { customer } from './entities.ts';
import { ordersPush } from './sources.ts';

export const customerOrders = featureView({
  name: 'customer_orders',
  entities: [customer],
  source: ordersPush,
  keys: { customer_id: col('customerId') },
  ttl: '30d',
  description: 'What a customer ordered recently.',
  features: {
    orders_24h: count({ window: '24h' }),
    spend_7d: sum(col('amount'), { window: '7d' }),
    last_amount: last(col('amount')),
  },
});
`;

const SERVICES = `import { featureService } from 'larder';
import { customerOrders } from './views.ts';

export const customerStats = featureService({
  name: 'customer_stats',
  description: 'Every feature of customer_orders.',
  features: [customerOrders],
});
`;

const README = `# A Larder feature repository

Made by \`larder init\`. \`larder.config.ts\` names the folders: definitions in \`features/\`,
raw data in \`data/\` (sample orders in \`data/raw/orders/orders.jsonl\`, stamped relative to when
\`larder init\` ran), the registry and the SQLite online store in \`.larder/\`.

\`\`\`sh
npx larder plan                      # what apply would change
npx larder apply                     # write the registry
npx larder materialize --end now     # load the online store from data/
npx larder serve --no-grpc           # REST on http://127.0.0.1:8566
curl -s localhost:8566/get-online-features -H 'content-type: application/json' \\
  -d '{"feature_service":"customer_stats","entities":{"customer_id":["c1","c2","c3"]}}'
\`\`\`
`;

/** The files `larder init` writes, by path relative to DIR; sample times are relative to `now`. */
export function scaffoldFiles(now: number): Record<string, string> {
  const orders = SAMPLE_ORDERS.map(([customerId, hoursAgo, amount], i) =>
    JSON.stringify({ orderId: `o${i + 1}`, customerId, amount, ts: now - hoursAgo * HOUR_MS }),
  );
  return {
    'larder.config.ts': CONFIG,
    'features/entities.ts': ENTITIES,
    'features/sources.ts': SOURCES,
    'features/views.ts': VIEWS,
    'features/services.ts': SERVICES,
    'data/raw/orders/orders.jsonl': `${orders.join('\n')}\n`,
    'README.md': README,
    '.gitignore': '.larder/\n',
  };
}

/** What a fresh npm project holds besides the scaffold: they do not make a folder non-empty. */
export const PROJECT_FILES: readonly string[] = [
  '.git',
  'node_modules',
  'package.json',
  'package-lock.json',
];

/**
 * Writes the scaffold into `dir`; refuses a file, and a folder holding anything but
 * {@link PROJECT_FILES} unless `force`.
 */
export function initRepository(
  dir: string,
  opts: { force?: boolean; now?: number } = {},
): string[] {
  const root = resolve(dir);
  if (existsSync(root)) {
    if (!statSync(root).isDirectory())
      throw new LarderError('LARDER_BAD_REQUEST', `${dir} is a file, not a folder`, {
        hint: 'name a new or empty folder: larder init DIR',
        detail: { reason: 'invalid_value' },
      });
    const others = readdirSync(root).filter((name) => !PROJECT_FILES.includes(name));
    if (!opts.force && others.length > 0)
      throw new LarderError('LARDER_BAD_REQUEST', `${dir} is not empty (${others[0]})`, {
        hint: 'name a new or empty folder, or pass --force to write over the scaffold files there',
        detail: { reason: 'confirmation_required' },
      });
  }
  const files = scaffoldFiles(opts.now ?? Date.now());
  for (const [name, text] of Object.entries(files)) {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return Object.keys(files);
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description(
      'scaffold a feature repository (config, entity, sources with sample data, view, service) in DIR',
    )
    .argument('[dir]', 'folder to write (default: the working directory)', '.')
    .option('--force', 'write into a non-empty folder, replacing the scaffold files there')
    .action((dir: string, o: { force?: boolean }) => {
      const written = initRepository(dir, { force: o.force ?? false });
      const at = relative(process.cwd(), resolve(dir)) || '.';
      console.log(`larder: wrote a feature repository in ${at}:`);
      for (const f of written) console.log(`  ${f}`);
      const cd = at === '.' ? '' : `cd ${at} && `;
      console.log(`next: ${cd}larder apply && larder materialize --end now && larder serve`);
    });
}
