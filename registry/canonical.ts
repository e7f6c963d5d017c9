import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal specs serialize (and hash) identically. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

export const contentHash = (v: unknown): string =>
  createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 16);
