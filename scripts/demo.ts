/**
 * `npm run demo`: the main job on embedded defaults (no Redis or Kafka needed). Each step is
 * the `larder` command a user would type, run in this process's working directory.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const larder = resolve(import.meta.dirname, '../bin/larder.js');

function step(title: string, args: string[]): void {
  console.log(`\n▶ ${title}\n  $ larder ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [larder, ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n✖ demo stopped: \`larder ${args.join(' ')}\` exited with ${r.status}`);
    process.exit(r.status ?? 1);
  }
}

console.log('Larder demo — embedded defaults (DuckDB offline, SQLite online), no services needed.');
step('Generate a week of e-commerce data (1k users, 500 products, 300k events)', [
  'gen-data',
  '--users',
  '1000',
  '--products',
  '500',
  '--days',
  '7',
  '--events',
  '300000',
  '--seed',
  '42',
]);
step('Validate and apply the feature repository in features/', ['apply']);
step('What the registry now holds', ['list']);
step('The recommendation_v1 service', ['describe', 'recommendation_v1']);
console.log(`
Done. Raw data: ${process.env.LARDER_DATA_DIR ?? 'data'}/raw · registry: ${process.env.LARDER_HOME ?? '.larder'}/registry.json
Next: \`npx larder describe user_activity\`, \`npx larder plan\` after editing features/.`);
