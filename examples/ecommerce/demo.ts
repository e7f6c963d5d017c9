/**
 * `npm run demo`: the main job on embedded defaults (DuckDB offline, SQLite online; no Redis or
 * Kafka): generate a week of e-commerce history, apply examples/ecommerce/features/, check its
 * data-quality expectations (one deliberately strict one fails, reported), materialize it, export a
 * point-in-time training set (recommendation_v1, and the batch views of batch_v1), start `larder serve` with the dashboard,
 * read the logged service `recommendation_v1_logged` and report its training/serving skew
 * (`larder skew`, also in the dashboard), and keep feeding live events through `POST /push` so
 * features visibly change. Ctrl-C stops everything. The repository applied is
 * examples/ecommerce/demo-features/: the example's plus that one logged service.
 *
 *   npm run demo                       # embedded
 *   npm run demo -- --services         # Redis + Kafka (npm run services:up) with the stream worker
 *   npm run demo -- --exit-after 30    # stop by itself (tests, CI)
 *   npm run demo -- --port 8566        # HTTP port (default 8566)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateRecords, produceToKafka } from './datagen/index.ts';
import type { GeneratedRecord } from './datagen/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const LARDER = resolve(ROOT, 'bin/larder.js');
const { values: args } = parseArgs({
  options: {
    services: { type: 'boolean', default: false },
    'exit-after': { type: 'string' },
    // Not Feast's 6566: browsers (and fetch) refuse that port (it is on the Fetch standard's
    // "bad ports" list), and the dashboard must open in a browser.
    port: { type: 'string', default: '8566' },
    rate: { type: 'string', default: '40' },
    // Scale of the generated week (smaller for the end-to-end test).
    events: { type: 'string', default: '300000' },
    users: { type: 'string', default: '1000' },
    products: { type: 'string', default: '500' },
  },
});
const PORT = Number(args.port);
const RATE = Number(args.rate);
// The example plus `recommendation_v1_logged` (every read logged), for the skew report.
const LOGGED = 'recommendation_v1_logged';
const env: NodeJS.ProcessEnv = {
  ...process.env,
  LARDER_REPO: resolve(ROOT, 'examples/ecommerce/demo-features'),
};
if (args.services) {
  env.LARDER_ONLINE_STORE ??= 'redis://127.0.0.1:6379/0';
  env.LARDER_NAMESPACE ??= 'demo';
}
const home = resolve(env.LARDER_HOME ?? '.larder');
const dataDir = resolve(env.LARDER_DATA_DIR ?? 'data');
const children: ChildProcess[] = [];
let stopping = false;

function step(title: string, cmd: string[]): void {
  console.log(`\n▶ ${title}\n  $ larder ${cmd.join(' ')}`);
  const r = spawnSync(process.execPath, [LARDER, ...cmd], { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`\n✖ demo stopped: \`larder ${cmd.join(' ')}\` exited with ${r.status}`);
    process.exit(r.status ?? 1);
  }
}

/** A step that may fail without stopping the demo: its exit code is reported, not fatal. */
function tryStep(title: string, cmd: string[]): number {
  console.log(`\n▶ ${title}\n  $ larder ${cmd.join(' ')}`);
  const r = spawnSync(process.execPath, [LARDER, ...cmd], { stdio: 'inherit', env });
  return r.status ?? 1;
}

function start(title: string, cmd: string[]): ChildProcess {
  console.log(`\n▶ ${title}\n  $ larder ${cmd.join(' ')}`);
  const child = spawn(process.execPath, [LARDER, ...cmd], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env,
  });
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`✖ \`larder ${cmd[0]}\` exited with ${code}; stopping the demo`);
      void shutdown(1);
    }
  });
  children.push(child);
  return child;
}

async function waitReady(url: string, seconds = 60): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not become ready within ${seconds}s`);
}

async function shutdown(code = 0): Promise<never> {
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(
    children.map((c) =>
      c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r)),
    ),
  );
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

console.log(
  `Larder demo — ${args.services ? 'Redis online store + Kafka stream worker' : 'embedded: DuckDB offline, SQLite online, no services needed'}.`,
);
if (args.services) {
  const up = spawnSync('bash', [resolve(ROOT, 'scripts/services.sh'), 'up'], { stdio: 'inherit' });
  if (up.status !== 0) process.exit(up.status ?? 1);
}
const now = Math.floor(Date.now() / 60_000) * 60_000;
const end = new Date(now).toISOString();
step(
  `Generate a week of e-commerce history (${args.users} users, ${args.products} products, ${args.events} events)`,
  [
    'gen-data',
    '--users',
    args.users!,
    '--products',
    args.products!,
    '--days',
    '7',
    '--events',
    args.events!,
    '--seed',
    '42',
    '--end',
    end,
  ],
);
step(
  'Validate and apply the feature repository (examples/ecommerce/features/, plus the logged recommendation_v1_logged of examples/ecommerce/demo-features/)',
  ['apply'],
);
if (args.services) {
  // Before any producer can auto-create them with the broker's default partition count. The
  // demo's local topics are disposable, so an older layout is repartitioned and reconfigured.
  step('Create the declared Kafka topics (user-events 24 partitions, transactions 12)', [
    'topics',
    'apply',
    '--allow-repartition',
    '--alter-config',
  ]);
}
// The example declares a deliberately strict expectation (user_events_batch: userId not null;
// anonymous visitors have none): the gate fails, the report shows why, and the demo goes on.
const validation = tryStep(
  'Check the data-quality expectations of the clickstream (one is deliberately strict)',
  [
    'validate',
    '--source',
    'user_events_batch',
    '--start',
    new Date(now - 7 * 86_400_000).toISOString(),
    '--end',
    end,
  ],
);
console.log(
  validation === 0
    ? '  (every expectation passed)'
    : `  ↳ the gate failed (exit ${validation}) as intended: see ${resolve(home, 'validation/validation.html')}; the demo goes on`,
);
step('Materialize the history into the online store', ['materialize', '--end', end]);
mkdirSync(resolve(dataDir, 'training'), { recursive: true });
const spine = resolve(dataDir, 'training/spine.parquet');
const training = resolve(dataDir, 'training/recommendation_v1.parquet');
step('Label a training spine (page views → cart or purchase within the hour)', [
  'label',
  '--out',
  spine,
  '--start',
  new Date(now - 86_400_000).toISOString(),
  '--limit',
  '20000',
]);
step('Export a point-in-time training set of recommendation_v1', [
  'export',
  '--features',
  'recommendation_v1',
  '--entities',
  spine,
  '--out',
  training,
]);
step('Export recommendation_v2 (recent products, distinct counts, user × product, sessions)', [
  'export',
  '--features',
  'recommendation_v2',
  '--entities',
  spine,
  '--out',
  resolve(dataDir, 'training/recommendation_v2.parquet'),
]);
step('Export the daily SQL snapshots of batch_v1 (user segments, product popularity) beside it', [
  'export',
  '--features',
  'batch_v1',
  '--entities',
  spine,
  '--out',
  resolve(dataDir, 'training/batch_v1.parquet'),
]);

const base = `http://127.0.0.1:${PORT}`;
start('Serve features, models and the dashboard', [
  'serve',
  '--port',
  String(PORT),
  '--no-grpc',
  // One process: the dashboard's live charts are the answering worker's own statistics.
  '--workers',
  '1',
  ...(args.services ? ['--stream-metrics-url', 'http://127.0.0.1:9464/metrics.json'] : []),
]);
if (args.services) {
  start('Stream worker: Kafka → online store', ['stream', '--metrics-port', '9464']);
}
await waitReady(`${base}/ready`).catch((e: unknown) => {
  console.error(`✖ ${(e as Error).message}`);
  return shutdown(1);
});

// Feature logging and skew: three reads of the logged service (20 user × product rows each),
// flushed by the server within a second, then recomputed offline by `larder skew`. Before them,
// one page view each of u00001 and u00002 reaches the online store only (`to: online`), so the
// report has a difference to find: their rows' page-view counts.
const readsFrom = Date.now();
const pad = (n: number): string => String(n).padStart(5, '0');
const onlineOnly = await fetch(`${base}/push`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    push_source_name: 'user_events',
    to: 'online',
    df: {
      eventId: ['evt-skew-1', 'evt-skew-2'],
      userId: ['u00001', 'u00002'],
      sessionId: ['s-skew-1', 's-skew-2'],
      eventType: ['page_view', 'page_view'],
      timestamp: [readsFrom - 1_000, readsFrom - 1_000],
      properties: [1, 2].map(() => ({
        productId: `p${pad(Number(args.products))}`,
        category: 'electronics',
        price: '9.99',
      })),
      context: [1, 2].map(() => ({
        userAgent: 'demo',
        ip: '127.0.0.1',
        platform: 'desktop',
        referrer: null,
      })),
    },
  }),
});
if (!onlineOnly.ok)
  console.error(`online-only push failed: ${onlineOnly.status} ${await onlineOnly.text()}`);
console.log(
  `\n▶ Read ${LOGGED} (every read logged to ${join(dataDir, 'logs', LOGGED)}/)\n  $ curl -s ${base}/get-online-features -d '{"feature_service": "${LOGGED}", ...}' × 3`,
);
for (let i = 0; i < 3; i++) {
  const res = await fetch(`${base}/get-online-features`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      feature_service: LOGGED,
      entities: {
        user_id: Array.from(
          { length: 20 },
          (_, j) => `u${pad(1 + ((i * 20 + j) % Number(args.users)))}`,
        ),
        product_id: Array.from(
          { length: 20 },
          (_, j) => `p${pad(1 + ((i * 7 + j) % Number(args.products)))}`,
        ),
      },
    }),
  });
  if (!res.ok) console.error(`read of ${LOGGED} failed: ${res.status} ${await res.text()}`);
}
const logDir = join(dataDir, 'logs', LOGGED);
const logged = (): boolean =>
  existsSync(logDir) && readdirSync(logDir).some((f) => f.endsWith('.parquet'));
for (let i = 0; i < 40 && !logged(); i++) await new Promise((r) => setTimeout(r, 250));
// The buffer is flushed every second: one more flush writes any rows a first file missed.
await new Promise((r) => setTimeout(r, 1_200));
const skew = tryStep(`Training/serving skew of the logged reads of ${LOGGED}`, [
  'skew',
  '--service',
  LOGGED,
  '--start',
  new Date(readsFrom - 60_000).toISOString(),
  '--end',
  new Date(Date.now() + 60_000).toISOString(),
  '--examples',
  '1',
]);
const skewReport = resolve(home, 'skew', `${LOGGED}.json`);
console.log(
  skew === 0
    ? `  ↳ the share of served values the offline recomputation disagrees with, per feature: ${skewReport} (dashboard: Serving tab)`
    : `  ↳ larder skew exited with ${skew}; the demo goes on`,
);

// Live traffic: the generator's sessions, re-timed to now, fed through /push (embedded) or Kafka.
const live = generateRecords({
  users: Number(args.users),
  products: Number(args.products),
  days: 30,
  events: 10_000_000,
  seed: 4242,
  end: now + 30 * 86_400_000,
});
const next = (n: number): GeneratedRecord[] => {
  const out: GeneratedRecord[] = [];
  for (let i = 0; i < n; i++) {
    const r = live.next();
    if (r.done) break;
    r.value.record.timestamp = Date.now();
    out.push(r.value);
  }
  return out;
};
let pushed = 0;
async function feedOnce(): Promise<void> {
  const batch = next(Math.max(1, Math.round(RATE / 4)));
  if (args.services) {
    await produceToKafka({
      brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
      topics: {
        user_events: env.LARDER_TOPIC_USER_EVENTS ?? 'user-events',
        transactions: env.LARDER_TOPIC_TRANSACTIONS ?? 'transactions',
      },
      rate: 0,
      records: batch,
    });
  } else {
    for (const source of ['user_events', 'transactions'] as const) {
      const rows = batch
        .filter((b) => b.topic === source)
        .map((b) => b.record as unknown as Record<string, unknown>);
      if (rows.length === 0) continue;
      const df: Record<string, unknown[]> = {};
      for (const k of Object.keys(rows[0]!)) df[k] = rows.map((r) => r[k]);
      const res = await fetch(`${base}/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ push_source_name: source, df, to: 'online_and_offline' }),
      });
      if (!res.ok) console.error(`push failed: ${res.status} ${await res.text()}`);
    }
  }
  pushed += batch.filter((b) => b.topic === 'user_events').length;
}

const sample = await fetch(`${base}/get-online-features`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    features: ['user_activity:events_24h'],
    entities: { user_id: ['u00001'] },
  }),
});
console.log(`
✔ Larder is running.
  Dashboard:      ${base}/ui
  API docs:       ${base}/docs
  Raw history:    ${dataDir}/raw/{user_events,transactions}
  Training set:   ${training}
  Skew report:    ${skewReport} (logged reads of ${LOGGED})
  Registry:       ${home}/registry.json
  Online store:   ${env.LARDER_ONLINE_STORE ?? `sqlite:${home}/online.sqlite`}
  Live events:    ~${RATE}/s through ${args.services ? 'Kafka (stream worker)' : 'POST /push'} — features change as you watch.
  (sample read: HTTP ${sample.status})

Try:
  curl -s ${base}/get-online-features -H 'content-type: application/json' \\
    -d '{"feature_service": "recommendation_v1", "entities": {"user_id": ["u00001"], "product_id": ["p00001"]}}'

  curl -s ${base}/v1/models/ranker_v1/rank -H 'content-type: application/json' \\
    -d '{"user_id": "u00001", "candidates": ["p00001", "p00002", "p00003", "p00004"], "top_k": 3}'

  curl -s ${base}/push -H 'content-type: application/json' \\
    -d '{"push_source_name": "user_events", "to": "online", "df": {"eventId": ["evt-demo-1"], "userId": ["u00001"], "sessionId": ["s-demo"], "eventType": ["page_view"], "timestamp": [${Date.now()}], "properties": [{"productId": "p00001", "category": "electronics", "price": "19.99"}], "context": [{"userAgent": "curl", "ip": "127.0.0.1", "platform": "desktop", "referrer": null}]}}'

Ctrl-C stops everything.`);

const timer = setInterval(() => {
  feedOnce().catch((e: unknown) => console.error(`live feed: ${(e as Error).message}`));
}, 250);
const report = setInterval(
  () => console.log(`  live: ${pushed.toLocaleString('en-US')} events fed`),
  15_000,
);
report.unref();
if (args['exit-after']) {
  setTimeout(
    () => {
      clearInterval(timer);
      void shutdown(0);
    },
    Number(args['exit-after']) * 1000,
  );
}
if (!existsSync(training)) console.error('warning: the training set was not written');
