/** Scalar value types. They map to Feast's ValueType (INT64, DOUBLE, STRING, BOOL). */
export const SCALAR_TYPES = ['int64', 'float64', 'string', 'bool'] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];

/**
 * List value types (what `lastN` produces), named `<element>_list`. They map to Feast's
 * INT64_LIST, DOUBLE_LIST and STRING_LIST; the spec writes them `list<int64>` and so on.
 */
export const LIST_TYPES = ['string_list', 'int64_list', 'float64_list'] as const;
export type ListType = (typeof LIST_TYPES)[number];

/** Value types a feature can have: a scalar or a list of scalars. */
export const VALUE_TYPES = [...SCALAR_TYPES, ...LIST_TYPES] as const;
export type ValueType = ScalarType | ListType;

/** Whether a value type is a list type. */
export const isListType = (t: string): t is ListType =>
  (LIST_TYPES as readonly string[]).includes(t);

/** The element type of a list type (`string_list` → `string`). */
export const listElement = (t: ListType): ScalarType => t.slice(0, -'_list'.length) as ScalarType;

/** The list type of an element type, or null when there is none (`bool`). */
export function listOf(t: ScalarType): ListType | null {
  const l = `${t}_list`;
  return isListType(l) ? l : null;
}

/** The TypeScript type a feature value of a given ValueType has at run time (null = missing). */
export type ValueOf<T extends ValueType> = T extends 'int64' | 'float64'
  ? number
  : T extends 'string'
    ? string
    : T extends 'bool'
      ? boolean
      : T extends 'int64_list' | 'float64_list'
        ? number[]
        : T extends 'string_list'
          ? string[]
          : never;

/** A scalar feature value. int64 values are JS numbers: epoch-ms timestamps and counts fit in 2^53. */
export type Scalar = number | string | boolean;

/** A feature value: a scalar, or a list of scalars of one type (never null inside a list). */
export type FeatureValue = Scalar | Scalar[];

/** Aggregations a windowed feature can use (`last` is also the lifetime aggregation). */
export const AGGREGATION_KINDS = [
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'last',
  'mode',
  'count_distinct',
  'last_n',
] as const;
export type AggregationKind = (typeof AGGREGATION_KINDS)[number];

/** Parameters of the aggregations that take any (`last_n`: `n` and `distinct`). */
export interface AggregationParams {
  /** `last_n`: how many values to keep, 1..{@link MAX_LAST_N}. */
  readonly n?: number;
  /** `last_n`: each value once, at the position of its newest occurrence. */
  readonly distinct?: boolean;
}

/** The greatest `n` of `last_n`: bounds its state (n values per tile and per read). */
export const MAX_LAST_N = 100;
