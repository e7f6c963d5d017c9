/**
 * Conversions between Feast's `feast.types.Value` messages (as proto-loader decodes them) and JS
 * scalars, and a retrieval response as a `GetOnlineFeaturesResponse` message.
 */
import type { ValueType } from '../../core/types.ts';
import type { OnlineFeaturesResponse } from '../../retrieval/index.ts';

/** A decoded Value: `{ val: 'int64_val', int64_val: 3 }` (oneofs: true). */
export type ProtoValue = Record<string, unknown> & { val?: string };

/** The scalar of a Value; null for an unset or null_val Value. Lists are returned as arrays. */
export function fromProtoValue(v: ProtoValue | null | undefined): unknown {
  if (!v || !v.val || v.val === 'null_val') return null;
  const x = v[v.val];
  if (x && typeof x === 'object') return (x as { val?: unknown[] }).val ?? [];
  return x ?? null;
}

/**
 * A Value for a value of a declared type (null → an empty Value, as Feast sends). Lists are
 * Feast's `string_list_val` / `int64_list_val` / `double_list_val` (`{ val: [...] }`).
 */
export function toProtoValue(v: unknown, type: ValueType | null): ProtoValue {
  if (v === null || v === undefined) return {};
  switch (type ?? inferType(v)) {
    case 'string_list':
      return { string_list_val: { val: (v as unknown[]).map(String) } };
    case 'int64_list':
      return { int64_list_val: { val: v as number[] } };
    case 'float64_list':
      return { double_list_val: { val: v as number[] } };
    case 'string':
      return { string_val: String(v) };
    case 'int64':
      return { int64_val: v as number };
    case 'float64':
      return { double_val: v as number };
    case 'bool':
      return { bool_val: v as boolean };
  }
}

function inferType(v: unknown): ValueType {
  if (Array.isArray(v))
    return v.every((x) => typeof x === 'number')
      ? v.every(Number.isInteger)
        ? 'int64_list'
        : 'float64_list'
      : 'string_list';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return 'string';
}

/** Epoch ms → google.protobuf.Timestamp. */
export const toProtoTimestamp = (ms: number | null): { seconds: number; nanos: number } =>
  ms === null
    ? { seconds: 0, nanos: 0 }
    : { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };

/**
 * A `GetOnlineFeaturesResponse` message (as proto-loader encodes it) for a retrieval response:
 * one result per column, join keys first.
 *
 * @example
 * toProtoResponse(res).metadata.feature_names.val; // ['user_id', 'page_views_1h', ...]
 */
export function toProtoResponse(res: OnlineFeaturesResponse): {
  metadata: { feature_names: { val: string[] } };
  results: {
    values: ProtoValue[];
    statuses: readonly string[];
    event_timestamps: { seconds: number; nanos: number }[];
  }[];
} {
  return {
    metadata: { feature_names: { val: res.columns.map((c) => c.name) } },
    results: res.columns.map((c) => ({
      values: c.values.map((v) => toProtoValue(v, c.type)),
      statuses: c.statuses,
      event_timestamps: c.eventTs.map(toProtoTimestamp),
    })),
  };
}
