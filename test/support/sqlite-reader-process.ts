/**
 * A separate reader process for the SQLite multi-process test: reads `clicks_1h` of `u1` every
 * few ms until it has seen `target`, printing each new value, then exits 0 (1 on any error).
 *   node --import tsx test/support/sqlite-reader-process.ts PATH NAMESPACE T TARGET
 */
import { createOnlineStore } from '../../online/create-online-store.ts';
import { activity, TEST_VIEWS } from '../online/test-views.ts';

const [path, namespace, t, target] = process.argv.slice(2) as [string, string, string, string];
const store = createOnlineStore({ type: 'sqlite', path }, { namespace, views: TEST_VIEWS });
await store.init();
let last = -1;
const deadline = performance.now() + 30_000;
while (last < Number(target) && performance.now() < deadline) {
  const r = await store.readFeatures({
    view: activity,
    features: ['clicks_1h'],
    entityKeys: ['u1'],
    t: Number(t),
  });
  const v = Number(r.rows[0]![0]!.value ?? 0);
  if (v !== last) {
    process.stdout.write(`${v}\n`);
    last = v;
  }
  await new Promise((res) => setTimeout(res, 2));
}
await store.close();
process.exit(last === Number(target) ? 0 : 1);
