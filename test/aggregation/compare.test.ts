import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  compareCodePoints,
  compareScalars,
  floatsEqual,
  normalizeInput,
} from '../../aggregation/index.ts';

/** The obviously-correct (slow) definition: compare arrays of code points. */
function byCodePointArrays(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

describe('compareCodePoints', () => {
  it('orders ASCII like plain comparison and is never locale-aware', () => {
    expect(compareCodePoints('a', 'b')).toBeLessThan(0);
    expect(compareCodePoints('b', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('abc', 'abc')).toBe(0);
    expect(compareCodePoints('Z', 'a')).toBeLessThan(0); // locale would put 'a' first
    expect(compareCodePoints('é', 'f')).toBeGreaterThan(0); // U+00E9 > U+0066
    expect(compareCodePoints('', 'a')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
  });

  it('puts astral characters after U+E000..U+FFFF, unlike UTF-16 code unit order', () => {
    const astral = '\u{1F600}'; // surrogate pair D83D DE00
    const bmpHigh = '\uFF5E'; // a single code unit above the surrogates
    expect(astral < bmpHigh).toBe(true); // what plain JS comparison says
    expect(compareCodePoints(astral, bmpHigh)).toBeGreaterThan(0);
    expect(compareCodePoints(bmpHigh, astral)).toBeLessThan(0);
    expect(compareCodePoints('x\u{10000}', 'x\uFFFF')).toBeGreaterThan(0);
    expect(compareCodePoints('\u{1F600}', '\u{1F601}')).toBeLessThan(0);
    expect(compareCodePoints('\uD7FF', '\u{10000}')).toBeLessThan(0);
  });

  it('compares a lone surrogate as its own number', () => {
    expect(compareCodePoints('\uD800', '\uFF5E')).toBeLessThan(0);
    expect(compareCodePoints('\uD800x', '\u{10000}')).toBeLessThan(0);
    expect(compareCodePoints('\uDC00', '\uD800\uDC00')).toBeLessThan(0);
  });

  it('agrees with comparing code point arrays, is antisymmetric and consistent with equality', () => {
    // Mostly a small alphabet around the surrogate range so prefixes collide; sometimes anything.
    const tricky = fc.constantFrom(
      'a',
      '\uD7FF',
      '\uE000',
      '\uFF5E',
      '\uFFFF',
      '\u{10000}',
      '\u{1F600}',
      '\u{1F601}',
      '\uD800',
    );
    const str = fc.oneof(
      fc.string({ unit: tricky, maxLength: 5 }),
      fc.string({ unit: 'binary', maxLength: 6 }),
    );
    fc.assert(
      fc.property(str, str, (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(byCodePointArrays(a, b)));
        expect(Math.sign(compareCodePoints(a, b)) + Math.sign(compareCodePoints(b, a))).toBe(0);
        expect(compareCodePoints(a, b) === 0).toBe(a === b);
      }),
      { seed: 20240601, numRuns: 3000 },
    );
  });
});

describe('compareScalars', () => {
  it('compares numbers numerically, not as strings', () => {
    expect(compareScalars(9, 10)).toBeLessThan(0);
    expect(compareScalars(-1, -2)).toBeGreaterThan(0);
    expect(compareScalars(2.5, 2.5)).toBe(0);
  });

  it('compares strings by code point', () => {
    expect(compareScalars('10', '9')).toBeLessThan(0);
    expect(compareScalars('\u{1F600}', '\uFF5E')).toBeGreaterThan(0);
  });

  it('orders booleans false < true and mixed types booleans < numbers < strings', () => {
    expect(compareScalars(false, true)).toBeLessThan(0);
    expect(compareScalars(true, true)).toBe(0);
    expect(compareScalars(true, 0)).toBeLessThan(0);
    expect(compareScalars(1e9, '')).toBeLessThan(0);
  });
});

describe('floatsEqual', () => {
  it('accepts summation-order differences and rejects real differences', () => {
    expect(0.1 + 0.2 === 0.3).toBe(false);
    expect(floatsEqual(0.1 + 0.2, 0.3)).toBe(true);
    expect(floatsEqual(1e15 + 0.1, 1e15)).toBe(true); // relative 1e-16
    expect(floatsEqual(1, 1.000001)).toBe(false);
    expect(floatsEqual(1e6, 1e6 + 1)).toBe(false);
  });

  it('treats magnitudes below 1 as 1, and non-finite values as equal only to themselves', () => {
    expect(floatsEqual(1e-12, -1e-12)).toBe(true);
    expect(floatsEqual(0.001, 0.002)).toBe(false);
    expect(floatsEqual(Infinity, Infinity)).toBe(true);
    expect(floatsEqual(Infinity, 1e308)).toBe(false);
    expect(floatsEqual(NaN, NaN)).toBe(false);
  });
});

describe('normalizeInput', () => {
  it('maps null, undefined and non-finite numbers to null and -0 to 0', () => {
    expect(normalizeInput(null)).toBeNull();
    expect(normalizeInput(undefined)).toBeNull();
    expect(normalizeInput(NaN)).toBeNull();
    expect(normalizeInput(Infinity)).toBeNull();
    expect(normalizeInput(-Infinity)).toBeNull();
    expect(Object.is(normalizeInput(-0), 0)).toBe(true);
    expect(normalizeInput('')).toBe('');
    expect(normalizeInput(false)).toBe(false);
    expect(normalizeInput(0)).toBe(0);
  });
});
