/** Value types a feature can have. They map to Feast's ValueType (INT64, DOUBLE, STRING, BOOL). */
export const VALUE_TYPES = ['int64', 'float64', 'string', 'bool'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** The TypeScript type a feature value of a given ValueType has at run time (null = missing). */
export type ValueOf<T extends ValueType> = T extends 'int64' | 'float64'
  ? number
  : T extends 'string'
    ? string
    : T extends 'bool'
      ? boolean
      : never;

/** A scalar feature value. int64 values are JS numbers: epoch-ms timestamps and counts fit in 2^53. */
export type Scalar = number | string | boolean;

/** Aggregations a windowed feature can use (`last` is also the lifetime aggregation). */
export const AGGREGATION_KINDS = ['count', 'sum', 'avg', 'min', 'max', 'last', 'mode'] as const;
export type AggregationKind = (typeof AGGREGATION_KINDS)[number];
