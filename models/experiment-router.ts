import type { ExperimentSpec } from '../definitions/spec.ts';

/** 32-bit FNV-1a over UTF-8 bytes: stable across processes, platforms and restarts. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The arm a key (user id) is assigned to: a stable hash of `experiment:key` into 10,000
 * buckets, split by the arms' percentages in declaration order. Sticky per key; changing the
 * percentages moves only the keys near the boundaries.
 */
export function assignArm(exp: ExperimentSpec, key: string): ExperimentSpec['arms'][number] {
  const bucket = (fnv1a32(`${exp.name}:${key}`) % 10_000) / 100;
  let upper = 0;
  for (const arm of exp.arms) {
    upper += arm.percent;
    if (bucket < upper) return arm;
  }
  return exp.arms[exp.arms.length - 1] as ExperimentSpec['arms'][number];
}
