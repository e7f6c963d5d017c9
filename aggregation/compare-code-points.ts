/**
 * Compares two strings by Unicode code point, the order the spec uses for ids and values
 * (and what SQL engines use for plain `VARCHAR` comparison with a binary collation).
 *
 * JavaScript's `<` / `>` compare UTF-16 code units, which disagrees with code point order when
 * a character outside the Basic Multilingual Plane (stored as a surrogate pair, U+D800–U+DFFF)
 * meets one in U+E000–U+FFFF: `'\u{1F600}' < '\uFF5E'` is `true` by code units, but U+1F600 is
 * the larger code point. Never locale-aware. A lone surrogate (ill-formed UTF-16)
 * compares as the code point of the same number, as `[...s].map(c => c.codePointAt(0))` would.
 *
 * @returns a negative number when `a` sorts first, 0 when equal, a positive number otherwise.
 *
 * @example
 * compareCodePoints('\u{1F600}', '\uFF5E') > 0 // true, although '\u{1F600}' < '\uFF5E'
 * ['b', 'a'].sort(compareCodePoints) // ['a', 'b']
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(a, i, x) - rank(b, i, y);
  }
  return a.length - b.length;
}

const isLead = (u: number): boolean => u >= 0xd800 && u <= 0xdbff;
const isTrail = (u: number): boolean => u >= 0xdc00 && u <= 0xdfff;

/**
 * The sort key of the first differing code unit (the prefixes before it are equal): a unit of a
 * surrogate pair stands for a code point above U+FFFF, so it is lifted above every BMP unit while
 * keeping its order among pairs; any other unit, a lone surrogate included, is its own code point.
 */
function rank(s: string, i: number, unit: number): number {
  if (isLead(unit) && isTrail(s.charCodeAt(i + 1))) return unit + 0x10000;
  if (isTrail(unit) && i > 0 && isLead(s.charCodeAt(i - 1))) return unit + 0x10000;
  return unit;
}
