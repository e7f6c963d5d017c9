/**
 * Stream worker CPU, A/B of two source trees in ONE process (a paired comparison that a loaded
 * machine disturbs less than runs in turn): both trees' modules are imported side by side, the
 * same generated `user_events` and `transactions` (JSON, as the producer sends them, 3
 * partitions by key, batches of 5,000 per partition, partitions interleaved batch by batch) are
 * replayed through each tree's apply path as `bench/stream-cpu.ts` does (the record decoder,
 * `foldRecords`, `OnlineStore.applyStreamBatch` on Redis with the partition's checkpoint), each
 * block into a fresh namespace, in alternating blocks (A B B A …). Prints the medians per block
 * of the worker's CPU ms per 1,000 events for each step (`process.cpuUsage`) and of Redis's
 * (INFO cpu: use a Redis of the benchmark's own, or other clients' work counts), the median of
 * the paired ratios B / A, and `scripts`: Redis's own timing of the script calls per 1,000
 * events (INFO commandstats, `evalsha` and `eval` usec: wall time inside Redis, so above its
 * CPU when Redis waits for a core). Each tree's advisory key-sample writes, if it has them,
 * run in every block (a fresh store: its first writes of a view add to the sample). First it
 * checks that both trees store the same hashes, byte for byte, with the same expiries (every
 * field of every key of the namespace but the key samples; the store clock is pinned; one
 * checkpoint group).
 *
 *   A=/work/main B=. REDIS_URL=redis://127.0.0.1:6391/0 npx tsx bench/stream-ab.ts
 *   # env (defaults): EVENTS=20000 BLOCKS=6 SERVICE=(all views)
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { OnlineStore } from '../online/online-store.ts';
import type * as CreateOnlineStore from '../online/create-online-store.ts';
import type * as ApplyRecords from '../streaming/apply-records.ts';
import { partitionedMessages, replayBatches, treeStreamSources } from './stream-replay.ts';

const env = process.env;
const here = resolve(import.meta.dirname, '..');
const A = resolve(env.A ?? here);
const B = resolve(env.B ?? here);
const EVENTS = Number(env.EVENTS ?? 20_000);
const BLOCKS = Number(env.BLOCKS ?? 6);
const SERVICE = env.SERVICE ?? '';
const REDIS = env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const NOW = Date.now();
const { parts, events } = partitionedMessages(EVENTS, NOW);

interface Tree {
  name: string;
  /** One block: every batch into a fresh namespace; CPU ms per step and the namespace. */
  block(keep: boolean): Promise<{ decode: number; fold: number; store: number; ns: string }>;
}

async function tree(name: string, root: string): Promise<Tree> {
  const imp = async <T>(p: string) => (await import(join(root, p))) as T;
  const online = await imp<typeof CreateOnlineStore>('online/create-online-store.ts');
  const apply = await imp<typeof ApplyRecords>('streaming/apply-records.ts');
  const { repo, byName } = await treeStreamSources(root, SERVICE, NOW);
  const views = [...repo.featureViews.values()].map((v) => v.spec);
  return {
    name,
    async block(keep) {
      const ns = `streamab-${randomUUID()}`;
      const store: OnlineStore = online.createOnlineStore(
        { type: 'redis', url: REDIS },
        { namespace: ns, views, clock: () => NOW },
      );
      await store.init();
      const spent = await replayBatches({
        parts,
        sources: byName,
        fold: (source, records, fields) => apply.foldRecords(repo, source, records, fields),
        store,
        group: 'streamab-stream',
      });
      // The Redis store's advisory key sample is written after the batch returns.
      await new Promise((r) => setTimeout(r, 50));
      if (!keep) await store.teardown();
      await store.close();
      return { ...spent, ns };
    },
  };
}

const info = new Redis(REDIS);
const redisCpu = async (): Promise<number> => {
  const text = await info.info('cpu');
  const get = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(text)![1]);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
};
const evalUsec = async (): Promise<number> => {
  const text = await info.info('commandstats');
  let us = 0;
  for (const m of text.matchAll(/cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/g))
    us += Number(m[1]);
  return us;
};

/** Every hash of a namespace but the key sample: key → field → value, and its expiry. */
async function dump(ns: string): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  let cursor = '0';
  do {
    const [next, keys] = await info.scan(cursor, 'MATCH', `${ns}:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      if (k.includes(':__sample:')) continue;
      // The key's expiry (PEXPIRETIME) compared as one more field.
      const fields = await info.hgetall(k);
      fields['(expiry)'] = String(await info.pexpiretime(k));
      out.set(k.slice(ns.length), fields);
    }
  } while (cursor !== '0');
  return out;
}

async function drop(ns: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await info.scan(cursor, 'MATCH', `${ns}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await info.unlink(...keys);
  } while (cursor !== '0');
}

const a = await tree('A', A);
const b = await tree('B', B);

// Same hashes first.
const [ra, rb] = [await a.block(true), await b.block(true)];
const [da, db] = [await dump(ra.ns), await dump(rb.ns)];
let keysDiffer = 0;
let fieldsDiffer = 0;
let fields = 0;
for (const k of new Set([...da.keys(), ...db.keys()])) {
  const x = da.get(k) ?? {};
  const y = db.get(k) ?? {};
  let differ = false;
  for (const f of new Set([...Object.keys(x), ...Object.keys(y)])) {
    fields++;
    if (x[f] !== y[f]) {
      if (fieldsDiffer < Number(env.SHOW_DIFF ?? 0))
        console.log(`${k} ${f}:\n  A ${x[f] ?? '(absent)'}\n  B ${y[f] ?? '(absent)'}`);
      fieldsDiffer++;
      differ = true;
    }
  }
  if (differ) keysDiffer++;
}
await drop(ra.ns);
await drop(rb.ns);
console.log(
  `${SERVICE || 'all views'}, ${events} user_events: ${da.size} / ${db.size} keys stored by A / B; ` +
    `${keysDiffer} keys, ${fieldsDiffer} of ${fields} fields differ`,
);

const steps = ['decode', 'fold', 'store', 'redis', 'scripts', 'worker'] as const;
type Step = (typeof steps)[number];
const per = { A: [] as Record<Step, number>[], B: [] as Record<Step, number>[] };
for (let k = 0; k < BLOCKS * 2; k++) {
  const which = (k >> 1) % 2 === k % 2 ? 'A' : 'B'; // A B B A A B B A …
  const x = which === 'A' ? a : b;
  const [r0, e0] = [await redisCpu(), await evalUsec()];
  const s = await x.block(false);
  const [r1, e1] = [await redisCpu(), await evalUsec()];
  const k1 = 1000 / events;
  per[which].push({
    decode: s.decode * k1,
    fold: s.fold * k1,
    store: s.store * k1,
    worker: (s.decode + s.fold + s.store) * k1,
    redis: (r1 - r0) * k1,
    scripts: ((e1 - e0) / 1000) * k1,
  });
}
const median = (v: number[]): number => [...v].sort((p, q) => p - q)[v.length >> 1] ?? NaN;
const cols = steps.map((st) => {
  const ma = median(per.A.map((r) => r[st]));
  const mb = median(per.B.map((r) => r[st]));
  const ratio = median(per.B.map((r, i) => r[st] / per.A[i]![st]));
  const lower = per.B.filter((r, i) => r[st] < per.A[i]![st]).length;
  return `${st} ${ma.toFixed(1)} → ${mb.toFixed(1)} (B / A ${ratio.toFixed(2)}, B lower ${lower}/${BLOCKS})`;
});
console.log(`CPU ms per 1k events, medians of ${BLOCKS} blocks, A → B: ${cols.join('; ')}`);
info.disconnect();
process.exit(0);
