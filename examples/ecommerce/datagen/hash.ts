/**
 * Stateless, seeded integer hashing (murmur3's finalizer), for attributes that must not cost
 * memory per entity: a user's platform, IP address or currency is a pure function of
 * (seed, user index, attribute), so a run with a million users keeps no per-user table.
 */

/** A 32-bit unsigned hash of up to three integers. */
export function hash32(a: number, b: number, c = 0): number {
  let h = Math.imul(a ^ 0x2545f491, 0x9e3779b1);
  h = fmix(h ^ Math.imul(b, 0x85ebca6b));
  h = fmix(h ^ Math.imul(c + 0x165667b1, 0xc2b2ae35));
  return h >>> 0;
}

/** {@link hash32} as a float in [0, 1). */
export function hashUnit(a: number, b: number, c = 0): number {
  return hash32(a, b, c) / 4294967296;
}

function fmix(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
