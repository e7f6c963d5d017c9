/**
 * Feast's JSON for a GetOnlineFeaturesResponse, as its feature server prints it
 * (`MessageToDict(response.proto, preserving_proto_field_name=True)` with Feast's proto_json
 * patch): values as bare JSON scalars (null for a missing value), statuses as enum names, event
 * timestamps in RFC 3339 UTC (`"1970-01-01T00:00:00Z"` when there is none), one result per
 * column, join keys first.
 */
import type { OnlineFeaturesResponse } from '../../online/get-online-features.ts';

const EPOCH = '1970-01-01T00:00:00Z';

/** Epoch ms → protobuf Timestamp JSON: fraction digits only when non-zero (3 for ms). */
export function timestampJson(ms: number | null): string {
  if (ms === null || ms === 0) return EPOCH;
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? `${iso.slice(0, 19)}Z` : iso;
}

/** JSON for a feature value: non-finite doubles print as protobuf does ("NaN", "Infinity"). */
function valueJson(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v))
    return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return v ?? null;
}

export interface FeastOnlineResponse {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
}

/**
 * The Feast JSON object of a response.
 *
 * @example
 * toFeastJson(res).results[0].event_timestamps[0]; // '1970-01-01T00:00:00Z' (a join key)
 */
export function toFeastJson(res: OnlineFeaturesResponse): FeastOnlineResponse {
  const names: string[] = new Array(res.columns.length);
  const results: FeastOnlineResponse['results'] = new Array(res.columns.length);
  for (let c = 0; c < res.columns.length; c++) {
    const col = res.columns[c]!;
    names[c] = col.name;
    const n = col.values.length;
    const values = new Array<unknown>(n);
    const ts = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      values[i] = valueJson(col.values[i]);
      ts[i] = timestampJson(col.eventTs[i] ?? null);
    }
    results[c] = { values, statuses: col.statuses, event_timestamps: ts };
  }
  return { metadata: { feature_names: names }, results };
}
