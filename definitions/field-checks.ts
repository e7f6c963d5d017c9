/**
 * The zod checks of a source schema that every ingest path applies: the stream and `/push`
 * through zod itself (`definitions/source-record.ts`) and its compiled fast path
 * (`definitions/source-record-fast-path.ts`), batch files through the JS validator
 * (`offline/validate-record.ts`) and the DuckDB SQL (`offline/duckdb/sql/field-checks-sql.ts`).
 * `describeZod` stores them in a field's {@link FieldChecks} (JSON, part of the registry spec).
 *
 * Supported, and only these: `z.string()` `.min` / `.max` / `.length` (UTF-16 code units, as
 * zod counts), `z.number()` `.int` (the field is an int64), `.min`/`.gte`/`.nonnegative`/…,
 * `.max`/`.lte`/`.gt`/`.lt`/`.positive`/`.negative`/… and `.finite`, `z.array()` `.min` / `.max`
 * / `.length` / `.nonempty`.
 */

/** A field's checks; absent keys check nothing (a field without checks has no `checks`). */
export interface FieldChecks {
  /** Strings: at least this many UTF-16 code units. */
  minLength?: number;
  /** Strings: at most this many UTF-16 code units. */
  maxLength?: number;
  /** Numbers: at least this (more than it when `minExclusive`). */
  min?: number;
  minExclusive?: true;
  /** Numbers: at most this (less than it when `maxExclusive`). */
  max?: number;
  maxExclusive?: true;
  /** Numbers: not ±Infinity. */
  finite?: true;
  /** Arrays: at least this many items. */
  minItems?: number;
  /** Arrays: at most this many items. */
  maxItems?: number;
}

/** The slice of a zod node's `_def` read here (read by shape: repositories load their own zod). */
export interface ZodCheckDef {
  checks?: { kind: string; value?: unknown; inclusive?: boolean }[];
  exactLength?: { value: number } | null;
  minLength?: { value: number } | null;
  maxLength?: { value: number } | null;
}

/** What {@link stringChecks} / {@link numberChecks} found: the checks, and zod checks beyond them. */
export interface ExtractedChecks {
  checks: FieldChecks;
  /** Kinds of zod checks not in {@link FieldChecks} (`regex`, `email`, `multipleOf`, …). */
  other: string[];
}

const tighterMin = (c: FieldChecks, key: 'minLength' | 'minItems', v: number): void => {
  if (c[key] === undefined || v > c[key]) c[key] = v;
};
const tighterMax = (c: FieldChecks, key: 'maxLength' | 'maxItems', v: number): void => {
  if (c[key] === undefined || v < c[key]) c[key] = v;
};

/** A zod string's length checks. */
export function stringChecks(def: ZodCheckDef): ExtractedChecks {
  const checks: FieldChecks = {};
  const other: string[] = [];
  for (const c of def.checks ?? []) {
    const v = c.value;
    if (c.kind === 'min' && typeof v === 'number') tighterMin(checks, 'minLength', v);
    else if (c.kind === 'max' && typeof v === 'number') tighterMax(checks, 'maxLength', v);
    else if (c.kind === 'length' && typeof v === 'number') {
      tighterMin(checks, 'minLength', v);
      tighterMax(checks, 'maxLength', v);
    } else other.push(c.kind);
  }
  return { checks, other };
}

/** A zod number's bounds and `finite`; `int` tells whether it has `.int()`. */
export function numberChecks(def: ZodCheckDef): ExtractedChecks & { int: boolean } {
  const checks: FieldChecks = {};
  const other: string[] = [];
  let int = false;
  for (const c of def.checks ?? []) {
    const v = c.value;
    const exclusive = c.inclusive === false;
    if (c.kind === 'int') int = true;
    else if (c.kind === 'finite') checks.finite = true;
    else if (c.kind === 'min' && typeof v === 'number') {
      if (checks.min === undefined || v > checks.min || (v === checks.min && exclusive)) {
        checks.min = v;
        if (exclusive) checks.minExclusive = true;
        else delete checks.minExclusive;
      }
    } else if (c.kind === 'max' && typeof v === 'number') {
      if (checks.max === undefined || v < checks.max || (v === checks.max && exclusive)) {
        checks.max = v;
        if (exclusive) checks.maxExclusive = true;
        else delete checks.maxExclusive;
      }
    } else other.push(c.kind);
  }
  return { checks, other, int };
}

/** A zod array's length checks. */
export function arrayChecks(def: ZodCheckDef): FieldChecks {
  const checks: FieldChecks = {};
  if (def.minLength) tighterMin(checks, 'minItems', def.minLength.value);
  if (def.maxLength) tighterMax(checks, 'maxItems', def.maxLength.value);
  if (def.exactLength) {
    tighterMin(checks, 'minItems', def.exactLength.value);
    tighterMax(checks, 'maxItems', def.exactLength.value);
  }
  return checks;
}

/** `checks`, or undefined when it checks nothing (so fields without checks stay as they were). */
export const someChecks = (checks: FieldChecks): FieldChecks | undefined =>
  Object.keys(checks).length > 0 ? checks : undefined;

/**
 * The reasons of the checks, each `field "<label>": <what>`; the SQL mirror builds the same
 * strings from these functions.
 */
export const checkMessage = {
  minLength: (label: string, n: number): string => `field "${label}": string shorter than ${n}`,
  maxLength: (label: string, n: number): string => `field "${label}": string longer than ${n}`,
  min: (label: string, n: number, exclusive: boolean): string =>
    `field "${label}": number ${exclusive ? 'not greater than' : 'less than'} ${n}`,
  max: (label: string, n: number, exclusive: boolean): string =>
    `field "${label}": number ${exclusive ? 'not less than' : 'greater than'} ${n}`,
  finite: (label: string): string => `field "${label}": number not finite`,
  minItems: (label: string, n: number): string =>
    `field "${label}": array with fewer than ${n} items`,
  maxItems: (label: string, n: number): string =>
    `field "${label}": array with more than ${n} items`,
};

/**
 * The first check a value of the right JSON type breaks (`label` names the field), or null.
 * Order: string length min then max; number finite, min, max; array items min then max.
 */
export function checkProblem(
  checks: FieldChecks | undefined,
  v: unknown,
  label: string,
): string | null {
  if (!checks) return null;
  if (typeof v === 'string') {
    if (checks.minLength !== undefined && v.length < checks.minLength)
      return checkMessage.minLength(label, checks.minLength);
    if (checks.maxLength !== undefined && v.length > checks.maxLength)
      return checkMessage.maxLength(label, checks.maxLength);
  } else if (typeof v === 'number') {
    if (checks.finite && !Number.isFinite(v)) return checkMessage.finite(label);
    if (checks.min !== undefined && (checks.minExclusive ? v <= checks.min : v < checks.min))
      return checkMessage.min(label, checks.min, checks.minExclusive === true);
    if (checks.max !== undefined && (checks.maxExclusive ? v >= checks.max : v > checks.max))
      return checkMessage.max(label, checks.max, checks.maxExclusive === true);
  } else if (Array.isArray(v)) {
    if (checks.minItems !== undefined && v.length < checks.minItems)
      return checkMessage.minItems(label, checks.minItems);
    if (checks.maxItems !== undefined && v.length > checks.maxItems)
      return checkMessage.maxItems(label, checks.maxItems);
  }
  return null;
}
