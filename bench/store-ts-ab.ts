/**
 * The stream worker's fold and the TypeScript half of its store step, A/B of two source trees
 * in one process, without Redis: generated records decoded once per tree (batches of 5,000 per
 * partition), then rounds (A B B A …) of `foldRecords` over every batch, then `mergeOps` and
 * `mergeField` over its output, each field merged into nothing and then into the value that
 * gave (a stored tile or state). Prints the medians of each step's CPU ms per round, the
 * paired ratio B / A, and the stored JSON's length from each tree (equal when both store the
 * same text).
 *
 *   A=/work/main B=. npx tsx bench/store-ts-ab.ts    # env: EVENTS=20000 ROUNDS=10
 */
import { join, resolve } from 'node:path';
import type * as ApplyRecords from '../streaming/apply-records.ts';
import type * as WriteBatch from '../online/write-batch.ts';
import type * as Catalog from '../online/view-catalog.ts';
import {
  cpuMs,
  partitionedMessages,
  treeStreamSources,
  type ReplaySource,
} from './stream-replay.ts';

type Rec = Record<string, unknown>;

const env = process.env;
const here = resolve(import.meta.dirname, '..');
const EVENTS = Number(env.EVENTS ?? 20_000);
const ROUNDS = Number(env.ROUNDS ?? 10);
const NOW = Date.now();
const { parts } = partitionedMessages(EVENTS, NOW);

async function tree(root: string) {
  const imp = async <T>(p: string) => (await import(join(root, p))) as T;
  const apply = await imp<typeof ApplyRecords>('streaming/apply-records.ts');
  const wb = await imp<typeof WriteBatch>('online/write-batch.ts');
  const cat = await imp<typeof Catalog>('online/view-catalog.ts');
  const { repo, byName } = await treeStreamSources(root, env.SERVICE ?? '', NOW);
  const catalog = new cat.ViewCatalog([...repo.featureViews.values()].map((v) => v.spec));
  const decoded: { src: string; fields: ReplaySource['fields']; records: Rec[] }[] = [];
  for (const [id, msgs] of parts) {
    const src = byName.get(id.split('\u0000')[0]!)!;
    for (let i = 0; i < msgs.length; i += 5000) {
      const records: Rec[] = [];
      for (const m of msgs.slice(i, i + 5000)) {
        const d = await src.decode(m);
        if (d.ok) records.push(d.record);
      }
      decoded.push({ src: src.name, fields: src.fields, records });
    }
  }
  let bytes = 0;
  const round = (): { fold: number; store: number } => {
    let t = cpuMs();
    const batches = decoded.map((d) => apply.foldRecords(repo, d.src, d.records, d.fields));
    const fold = cpuMs() - t;
    t = cpuMs();
    bytes = 0;
    for (const b of batches) {
      const ops = wb.mergeOps(catalog, b.tiles, b.lifetime, NOW);
      for (const g of ops)
        for (const d of g.fields.values()) {
          const v = wb.mergeField(g.plan, null, d).value;
          bytes += v.length + wb.mergeField(g.plan, v, d).value.length;
        }
    }
    return { fold, store: cpuMs() - t };
  };
  return { round, bytes: () => bytes };
}

const A = await tree(resolve(env.A ?? here));
const B = await tree(resolve(env.B ?? here));
A.round();
B.round();
const t = {
  A: [] as { fold: number; store: number }[],
  B: [] as { fold: number; store: number }[],
};
for (let k = 0; k < ROUNDS * 2; k++) {
  const which = (k >> 1) % 2 === k % 2 ? 'A' : 'B'; // A B B A …
  t[which].push((which === 'A' ? A : B).round());
}
const median = (v: number[]): number => [...v].sort((p, q) => p - q)[v.length >> 1]!;
const cols = (['fold', 'store'] as const).map((st) => {
  const a = t.A.map((r) => r[st]);
  const b = t.B.map((r) => r[st]);
  const lower = b.filter((x, i) => x < a[i]!).length;
  const ratio = median(b.map((x, i) => x / a[i]!));
  return `${st} ${median(a).toFixed(1)} → ${median(b).toFixed(1)} ms (B / A ${ratio.toFixed(3)}, B lower ${lower}/${ROUNDS})`;
});
console.log(
  `${EVENTS} events, medians of ${ROUNDS} rounds, A → B: ${cols.join('; ')}; stored JSON characters A ${A.bytes()}, B ${B.bytes()}`,
);
process.exit(0);
