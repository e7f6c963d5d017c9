/**
 * The field-level differences between two versions of one registry object, for `larder plan`:
 * every changed path inside the object with its old and new value.
 *
 * Paths are dot-separated. Lists of named things are keyed by name (`features.clicks_1h.window`,
 * `projections.user_activity.features`, `arms.control.percent`), other lists compare as a whole.
 * A field ending in `Ms` is shown without the suffix and its value as a duration
 * (`windowMs` 3600000 → `window` `1h`, a negative one as `forever`); an expression is shown as `formatExpr` writes it.
 */
import { formatDuration } from '../core/duration.ts';
import { formatExpr, type ExprNode } from '../definitions/expr/expr.ts';
import { canonicalJson } from './canonical.ts';

/** One changed path. `before`/`after` are the raw spec values (null when absent). */
export interface FieldChange {
  /** `~` changed, `+` added (absent before), `-` removed (absent after). */
  op: '~' | '+' | '-';
  path: string;
  before: unknown;
  after: unknown;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isExpr = (v: unknown): v is ExprNode => isObj(v) && typeof v.op === 'string';

/** The key a list element is known by (`name`, else `view`), when every element has one. */
function keyOf(list: readonly unknown[]): string | null {
  for (const k of ['name', 'view'])
    if (list.length > 0 && list.every((e) => isObj(e) && typeof e[k] === 'string')) return k;
  return null;
}

function show(v: unknown, durationField: string | null): string {
  if (v === undefined) return '(none)';
  if (durationField !== null) {
    if (v === null) return durationField === 'windowMs' ? 'lifetime' : 'none';
    // A negative duration is "no limit" (a topic's `retentionMs` -1: forever).
    if ((v as number) < 0) return 'forever';
    return formatDuration(v as number);
  }
  if (isExpr(v)) return formatExpr(v);
  if (typeof v === 'string') return v === '' ? '""' : v;
  if (Array.isArray(v) && v.every((e) => typeof e === 'string')) return `[${v.join(', ')}]`;
  return canonicalJson(v);
}

/** A changed path with the line `plan` prints for it: `~ features.clicks_1h.window 1h → 2h`. */
export interface FieldDiff {
  change: FieldChange;
  text: string;
}

/** The changes from `a` to `b`, in the order of their fields; empty when they are equal. */
export function diffSpec(a: unknown, b: unknown): FieldDiff[] {
  const out: FieldDiff[] = [];
  walk(a, b, [], out);
  return out;
}

function walk(a: unknown, b: unknown, path: string[], out: FieldDiff[]): void {
  if (canonicalJson(a) === canonicalJson(b)) return;
  const last = path.at(-1) ?? '';
  const durationField =
    last.endsWith('Ms') &&
    [a, b].every((v) => v === undefined || v === null || typeof v === 'number')
      ? last
      : null;
  if (isObj(a) && isObj(b) && !isExpr(a) && !isExpr(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      walk(a[k], b[k], [...path, k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const key = keyOf([...a, ...b]);
    if (key) {
      const ma = new Map(a.map((e) => [(e as Obj)[key] as string, e]));
      const mb = new Map(b.map((e) => [(e as Obj)[key] as string, e]));
      for (const [n, e] of mb) walk(ma.get(n), e, [...path, n], out);
      for (const [n, e] of ma) if (!mb.has(n)) walk(e, undefined, [...path, n], out);
      return;
    }
  }
  const shown = durationField !== null ? [...path.slice(0, -1), last.slice(0, -2)] : path;
  const op = a === undefined ? '+' : b === undefined ? '-' : '~';
  const p = shown.join('.');
  // An added list element or object is named, not printed whole (`--json` has its value).
  const text =
    op === '+'
      ? isObj(b) && !isExpr(b)
        ? `+ ${p}`
        : `+ ${p} ${show(b, durationField)}`
      : op === '-'
        ? `- ${p}`
        : `~ ${p} ${show(a, durationField)} → ${show(b, durationField)}`;
  out.push({ change: { op, path: p, before: a ?? null, after: b ?? null }, text });
}
