/**
 * Identifier formats of generated records. Numbers are zero-padded to a fixed width so that
 * string order equals numeric order (the spec breaks `last` ties by comparing ids as strings).
 */

/** Zero-pads `n` to `width` digits. */
export function pad(n: number, width: number): string {
  const s = `${n}`;
  return s.length >= width ? s : ZEROS.slice(0, width - s.length) + s;
}

const ZEROS = '0000000000000000';

/** The digit width used for ids numbered 0..count-1 (at least `min`). */
export function idWidth(count: number, min: number): number {
  return Math.max(min, String(Math.max(0, count - 1)).length);
}

/** Picks a stride coprime with `n`, so `(k * stride + offset) % n` is a permutation of 0..n-1. */
export function coprimeStride(n: number, h: number): number {
  if (n <= 2) return 1;
  let s = (h % (n - 1)) + 1;
  while (gcd(s, n) !== 1) s = s + 1 >= n ? 1 : s + 1;
  return s;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}
