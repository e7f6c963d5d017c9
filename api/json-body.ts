/**
 * The JSON body parser of every route. A body that is not JSON is a 400 saying where it breaks;
 * a body holding a `__proto__` key, or a `constructor` object with a `prototype` key (prototype
 * poisoning), is a 400 naming that key — not "not valid JSON", which it is.
 */
import { LONE_SURROGATE_MESSAGE, loneSurrogateIn } from '../core/json-text.ts';
import { LarderError } from '../core/errors.ts';

/** Path of the first prototype-poisoning key of `v` (`df.__proto__`), or null. */
export function poisonedKey(v: unknown, path = ''): string | null {
  if (typeof v !== 'object' || v === null) return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = poisonedKey(v[i], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const here = path ? `${path}.${k}` : k;
    if (k === '__proto__') return here;
    const c = o[k];
    if (k === 'constructor' && typeof c === 'object' && c !== null && Object.hasOwn(c, 'prototype'))
      return `${here}.prototype`;
    const p = poisonedKey(c, here);
    if (p) return p;
  }
  return null;
}

/**
 * @example
 * parseJsonBody('{"features": ["v:f"]}'); // { features: ['v:f'] }
 * parseJsonBody('{"__proto__": {}}');      // throws LARDER_BAD_REQUEST, field "__proto__"
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '')
    throw new LarderError('LARDER_BAD_REQUEST', 'the body is empty', {
      field: '(body)',
      hint: 'send a JSON object, or no Content-Type: application/json',
      detail: { reason: 'malformed_body' },
    });
  let v: unknown;
  try {
    // JSON.parse makes "__proto__" an own property, never the prototype; checked below.
    v = JSON.parse(text);
  } catch (e) {
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `the body is not valid JSON: ${(e as Error).message}`,
      {
        field: '(body)',
        hint: 'send a valid JSON body',
        detail: { reason: 'malformed_body' },
      },
    );
  }
  if (loneSurrogateIn(text, v))
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `the body is not valid JSON: ${LONE_SURROGATE_MESSAGE}`,
      {
        field: '(body)',
        hint: 'send text as UTF-8 or whole \\u escape pairs',
        detail: { reason: 'malformed_body' },
      },
    );
  // The walk only when a poisoning key can be there (the hot route's bodies skip it).
  const key =
    text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')
      ? poisonedKey(v)
      : null;
  if (key)
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `the key "${key}" is refused: "__proto__" and "constructor.prototype" keys could rewrite object prototypes`,
      {
        field: key,
        hint: 'rename the key; no Larder field or column may be named so',
        detail: { reason: 'unsafe_key' },
      },
    );
  return v;
}
