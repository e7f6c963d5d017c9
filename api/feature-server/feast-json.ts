/**
 * Feast's JSON for a GetOnlineFeaturesResponse, as its feature server prints it
 * (`MessageToDict(response.proto, preserving_proto_field_name=True)` with Feast's proto_json
 * patch): values as bare JSON scalars (null for a missing value), statuses as enum names, event
 * timestamps in RFC 3339 UTC (`"1970-01-01T00:00:00Z"` when there is none), one result per
 * column, join keys first.
 */
import type { OnlineFeaturesResponse } from '../../retrieval/index.ts';

const EPOCH = '1970-01-01T00:00:00Z';

/** Formatted timestamps by epoch ms: event times repeat (hop starts, lifetime event times). */
const tsCache = new Map<number, string>();
const TS_CACHE_MAX = 65_536;

function formatTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? `${iso.slice(0, 19)}Z` : iso;
}

/** Epoch ms → protobuf Timestamp JSON: fraction digits only when non-zero (3 for ms). */
export function timestampJson(ms: number | null): string {
  if (ms === null || ms === 0) return EPOCH;
  let s = tsCache.get(ms);
  if (s === undefined) {
    s = formatTimestamp(ms);
    // Bounded: cleared when full (the working set is a few windows' worth of hop starts).
    if (tsCache.size >= TS_CACHE_MAX) tsCache.clear();
    tsCache.set(ms, s);
  }
  return s;
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

/** Quoted timestamps (`"…Z"`), cached like {@link timestampJson}. */
const quotedTsCache = new Map<number, string>();
const QUOTED_EPOCH = `"${EPOCH}"`;

function quotedTimestamp(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms === 0) return QUOTED_EPOCH;
  let s = quotedTsCache.get(ms);
  if (s === undefined) {
    s = `"${formatTimestamp(ms)}"`;
    if (quotedTsCache.size >= TS_CACHE_MAX) quotedTsCache.clear();
    quotedTsCache.set(ms, s);
  }
  return s;
}

const quotedStatus = new Map<string, string>();

function valueText(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return String(v); // same digits as JSON.stringify (-0 → "0")
    return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
  }
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  return JSON.stringify(v) ?? 'null';
}

/**
 * `JSON.stringify(toFeastJson(res))`, byte for byte, written directly: no intermediate object,
 * timestamps and statuses from caches of their quoted forms.
 *
 * @example
 * reply.type('application/json').send(feastJsonString(res));
 */
export function feastJsonString(res: OnlineFeaturesResponse): string {
  const cols = res.columns;
  let out = '{"metadata":{"feature_names":[';
  for (let c = 0; c < cols.length; c++) {
    if (c > 0) out += ',';
    out += JSON.stringify(cols[c]!.name);
  }
  out += ']},"results":[';
  for (let c = 0; c < cols.length; c++) {
    const col = cols[c]!;
    const n = col.values.length;
    out += c > 0 ? ',{"values":[' : '{"values":[';
    const values = col.values;
    for (let i = 0; i < n; i++) {
      if (i > 0) out += ',';
      out += valueText(values[i]);
    }
    out += '],"statuses":[';
    const statuses = col.statuses;
    for (let i = 0; i < statuses.length; i++) {
      if (i > 0) out += ',';
      const st = statuses[i]!;
      let q = quotedStatus.get(st);
      if (q === undefined) quotedStatus.set(st, (q = JSON.stringify(st)));
      out += q;
    }
    out += '],"event_timestamps":[';
    const ts = col.eventTs;
    for (let i = 0; i < n; i++) {
      if (i > 0) out += ',';
      out += quotedTimestamp(ts[i]);
    }
    out += ']}';
  }
  return out + ']}';
}
