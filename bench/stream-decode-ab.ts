/**
 * The stream worker's record decoder alone, A/B of two source trees in ONE process: the same
 * generated `user_events` and `transactions` (JSON, as `bench/stream-ab.ts` replays them) decoded
 * by each tree's stream sources (schema, fast path, ingest rules), in alternating blocks (A B,
 * B A, …). No Redis. Prints the medians per block of the decoder's CPU ms (`process.cpuUsage`),
 * the median of the paired ratios B / A and in how many pairs B was lower; it first checks that
 * both trees accept the same number of records. The decode step of `stream-ab` is a few tens of
 * milliseconds per block, within its noise; this one isolates it.
 *
 *   A=/work/main B=. npx tsx bench/stream-decode-ab.ts
 *   # env (defaults): EVENTS=50000 BLOCKS=12 SERVICE=recommendation_v1
 */
import { resolve } from 'node:path';
import { cpuMs, partitionedMessages, treeStreamSources } from './stream-replay.ts';

const env = process.env;
const here = resolve(import.meta.dirname, '..');
const A = resolve(env.A ?? here);
const B = resolve(env.B ?? here);
const BLOCKS = Number(env.BLOCKS ?? 12);
const SERVICE = env.SERVICE ?? 'recommendation_v1';
const NOW = Date.now();
const { parts } = partitionedMessages(Number(env.EVENTS ?? 50_000), NOW);

/** One tree's decoders; the returned block decodes every message once. */
async function tree(root: string): Promise<() => Promise<{ ms: number; ok: number }>> {
  const { byName } = await treeStreamSources(root, SERVICE, NOW);
  const lists = [...parts].map(([id, msgs]) => ({
    src: byName.get(id.split('\u0000')[0]!)!,
    msgs,
  }));
  return async () => {
    let ok = 0;
    const t = cpuMs();
    for (const { src, msgs } of lists) for (const m of msgs) if ((await src.decode(m)).ok) ok++;
    return { ms: cpuMs() - t, ok };
  };
}

const a = await tree(A);
const b = await tree(B);
const msA: number[] = [];
const msB: number[] = [];
const ratios: number[] = [];
for (let i = 0; i < BLOCKS; i++) {
  const first = i % 2 === 0 ? a : b;
  const second = i % 2 === 0 ? b : a;
  const r1 = await first();
  const r2 = await second();
  const [x, y] = i % 2 === 0 ? [r1, r2] : [r2, r1];
  if (x.ok !== y.ok) throw new Error(`A accepts ${x.ok} records, B ${y.ok}`);
  msA.push(x.ms);
  msB.push(y.ms);
  ratios.push(y.ms / x.ms);
}
const median = (v: number[]): number => {
  const s = [...v].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
console.log(
  `${SERVICE || 'every view'}, decoder CPU ms per block, medians of ${BLOCKS}: A ${median(msA).toFixed(0)} → B ${median(msB).toFixed(0)} (B / A ${median(ratios).toFixed(3)}, B lower ${ratios.filter((r) => r < 1).length}/${BLOCKS})`,
);
