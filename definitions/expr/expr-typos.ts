/**
 * Typos that type-check but mean something else: a comparison with a value an enum field
 * never takes (`col('eventType').eq('add_to_kart')`), and a map key the source does not
 * declare (`col('properties.product_id')` when `mapKeys` lists `productId`). Checked when
 * definitions are validated, next to type inference (which they do not change).
 */
import { formatExpr, type ExprNode } from './expr.ts';
import type { FieldType, RecordType } from '../record-schema.ts';

export interface Typo {
  message: string;
  hint: string;
}

/**
 * The field a path names (through records, maps and `[]` arrays), or null when it has none;
 * `onMapKey` sees every map key the path reads, with the map's declared keys (`mapKeys`) or
 * undefined when it declares none.
 */
function fieldAt(
  schema: RecordType,
  path: string,
  onMapKey?: (map: string, key: string, keys: readonly string[] | undefined) => void,
): FieldType | null {
  let cur: FieldType = schema;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const array = part.endsWith('[]');
    const name = array ? part.slice(0, -2) : part;
    if (cur.kind === 'record') {
      const next: FieldType | undefined = cur.fields[name];
      if (!next) return null;
      cur = next;
    } else if (cur.kind === 'map') {
      onMapKey?.(parts.slice(0, i).join('.').replaceAll('[]', ''), name, cur.keys);
      cur = cur.values;
    } else return null;
    if (array) {
      if (cur.kind !== 'array') return null;
      cur = cur.items;
    }
  }
  return cur;
}

const norm = (s: string): string => s.toLowerCase().replaceAll(/[_\-\s]/g, '');

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** The candidate a typo most likely meant (ignoring case, `_` and `-`; at most 2 edits). */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const w = norm(word);
  for (const c of candidates) {
    const d = distance(w, norm(c));
    if (d < bestD && d <= Math.min(2, Math.floor(w.length / 2))) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/**
 * Every typo in `node` against `schema` (whose map keys `mapKeys` of batch source `source`
 * declared), in the order they occur.
 */
export function exprTypos(schema: RecordType, node: ExprNode, source: string): Typo[] {
  const out: Typo[] = [];
  const enumOf = (n: ExprNode): { path: string; values: string[] } | null => {
    if (n.op !== 'col') return null;
    const f = fieldAt(schema, n.path);
    return f?.kind === 'string' && f.enum ? { path: n.path, values: f.enum } : null;
  };
  const checkValue = (e: { path: string; values: string[] }, v: unknown, whole: string): void => {
    if (typeof v !== 'string' || e.values.includes(v)) return;
    const near = closest(v, e.values);
    out.push({
      message: `${JSON.stringify(v)} is not a value of ${e.path}, so ${whole}`,
      hint: `${near ? `did you mean ${JSON.stringify(near)}? ` : ''}${e.path} is one of: ${e.values.join(', ')}`,
    });
  };
  const walk = (n: ExprNode): void => {
    switch (n.op) {
      case 'col':
        fieldAt(schema, n.path, (map, key, keys) => {
          if (!keys || keys.includes(key)) return;
          const near = closest(key, keys);
          out.push({
            message: `"${n.path}": ${map} has no declared key "${key}"`,
            hint: `${near ? `did you mean "${map}.${near}"? ` : ''}declared keys of ${map}: ${keys.join(', ')} (mapKeys of batch source "${source}")`,
          });
        });
        return;
      case 'lit':
        return;
      case 'in': {
        walk(n.arg);
        const e = enumOf(n.arg);
        if (e) for (const v of n.values) checkValue(e, v, `it never matches ${formatExpr(n)}`);
        return;
      }
      case 'and':
      case 'or':
      case 'coalesce':
        n.args.forEach(walk);
        return;
      case 'not':
      case 'isNull':
      case 'isNotNull':
      case 'toNumber':
        walk(n.arg);
        return;
      default: {
        walk(n.left);
        walk(n.right);
        if (n.op !== 'eq' && n.op !== 'ne') return;
        const outcome = n.op === 'eq' ? 'is never true' : 'is always true for non-null values';
        for (const [a, b] of [
          [n.left, n.right],
          [n.right, n.left],
        ] as const) {
          const e = enumOf(a);
          if (e && b.op === 'lit') checkValue(e, b.value, `${formatExpr(n)} ${outcome}`);
        }
      }
    }
  };
  walk(node);
  return out;
}

/** The column paths an expression reads. */
export function exprPaths(node: ExprNode): string[] {
  switch (node.op) {
    case 'col':
      return [node.path];
    case 'lit':
      return [];
    case 'and':
    case 'or':
    case 'coalesce':
      return node.args.flatMap(exprPaths);
    case 'in':
    case 'not':
    case 'isNull':
    case 'isNotNull':
    case 'toNumber':
      return exprPaths(node.arg);
    default:
      return [...exprPaths(node.left), ...exprPaths(node.right)];
  }
}

/** The keys `path` reads from maps whose keys are not declared (`mapKeys`), as `map` and `key`. */
export function undeclaredMapKeys(
  schema: RecordType,
  path: string,
): { map: string; key: string }[] {
  const out: { map: string; key: string }[] = [];
  fieldAt(schema, path, (map, key, keys) => {
    if (!keys) out.push({ map, key });
  });
  return out;
}

/** Two spellings of one key (`productId`, `product_id`): equal ignoring case, `_` and `-`. */
export const sameKey = (a: string, b: string): boolean => a !== b && norm(a) === norm(b);
