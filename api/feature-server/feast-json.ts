/**
 * Feast's JSON for a GetOnlineFeaturesResponse, as its feature server prints it
 * (`MessageToDict(response.proto, preserving_proto_field_name=True)` with Feast's proto_json
 * patch): values as bare JSON scalars (null for a missing value), statuses as enum names, event
 * timestamps in RFC 3339 UTC (`"1970-01-01T00:00:00Z"` when there is none), one result per
 * column, join keys first.
 */
import type { OnlineColumn, OnlineFeaturesResponse } from '../../retrieval/index.ts';

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
  results: { values: unknown[]; statuses: readonly string[]; event_timestamps: string[] }[];
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

/** `"PRESENT","PRESENT",…` and `"1970-01-01T00:00:00Z",…` lists of n items, by item and n. */
const repeated = new Map<string, string>();
const REPEATED_MAX = 4096;

function repeatedList(item: string, n: number): string {
  const key = `${n}\u0000${item}`;
  let s = repeated.get(key);
  if (s === undefined) {
    s = `[${new Array<string>(n).fill(item).join(',')}]`;
    if (repeated.size >= REPEATED_MAX) repeated.clear();
    repeated.set(key, s);
  }
  return s;
}

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

/** `[item,item,…]`, n items. */
function repeatText(item: string, n: number): string {
  return bracketJoin(new Array<string>(n).fill(item));
}

/** `[a,b,…]` of `parts` (at least one), joined once: the brackets ride on the end parts. */
function bracketJoin(parts: string[]): string {
  const last = parts.length - 1;
  parts[0] = `[${parts[0]}`;
  parts[last] = `${parts[last]}]`;
  return parts.join(',');
}

/**
 * A column's values: JSON.stringify of the whole array (native, one call) unless a value is a
 * non-finite number, which protobuf's JSON prints as a string (JSON.stringify as null). One
 * value in every row (a column of an entity shared by the rows, as a user's features in a
 * request of 1 user × N products) is converted once and repeated.
 */
function valuesText(values: readonly unknown[]): string {
  const n = values.length;
  if (n > 1) {
    const first = values[0];
    let i = 1;
    while (i < n && values[i] === first) i++;
    if (i === n) return repeatText(valueText(first), n);
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'number' && !Number.isFinite(v)) {
      let out = '[';
      for (let j = 0; j < n; j++) out += j > 0 ? `,${valueText(values[j])}` : valueText(values[j]);
      return `${out}]`;
    }
  }
  return JSON.stringify(values);
}

/**
 * The text of a frozen list (retrieval's shared lists of one status, or of no event time, in
 * every row: `OnlineColumn`), by the list: a frozen list never changes.
 */
const frozenTexts = new WeakMap<readonly unknown[], string>();

function statusesText(statuses: readonly string[]): string {
  if (Object.isFrozen(statuses)) {
    let s = frozenTexts.get(statuses);
    if (s === undefined) frozenTexts.set(statuses, (s = JSON.stringify(statuses)));
    return s;
  }
  const n = statuses.length;
  if (n === 0) return '[]';
  const first = statuses[0]!;
  for (let i = 1; i < n; i++) if (statuses[i] !== first) return JSON.stringify(statuses);
  return repeatedList(JSON.stringify(first), n);
}

function timestampsText(ts: readonly (number | null | undefined)[], n: number): string {
  if (ts.length === n && Object.isFrozen(ts)) {
    let s = frozenTexts.get(ts);
    if (s === undefined) frozenTexts.set(ts, (s = timestampsOf(ts, n)));
    return s;
  }
  return timestampsOf(ts, n);
}

function timestampsOf(ts: readonly (number | null | undefined)[], n: number): string {
  let none = true;
  for (let i = 0; i < n; i++) {
    const t = ts[i];
    if (t !== null && t !== undefined && t !== 0) {
      none = false;
      break;
    }
  }
  if (none) return n === 0 ? '[]' : repeatedList(QUOTED_EPOCH, n);
  let last: number | null | undefined = ts[0];
  let same = 1;
  while (same < n && ts[same] === last) same++;
  if (same === n) return repeatedList(quotedTimestamp(last), n);
  // A row's timestamp is often the previous row's (one entity's column, a shared hop start):
  // looked up once per run of equal times.
  const parts = new Array<string>(n);
  let text = quotedTimestamp(last);
  for (let i = 0; i < n; i++) {
    const t = ts[i];
    if (t !== last) {
      last = t;
      text = quotedTimestamp(t);
    }
    parts[i] = text;
  }
  return bracketJoin(parts);
}

const quotedStatus = new Map<string, string>();

/** `],"statuses":["<status>"],"event_timestamps":["<ts>"]}` of a one-row column, by status and ts. */
const oneRowTails = new Map<string, Map<number, string>>();

/** One row's column, item by item (the one-row request: no per-list work pays off). */
function oneRowColumn(col: OnlineColumn): string {
  const st = col.statuses;
  const value = valueText(col.values[0]);
  const t = col.eventTs[0];
  const ms = t === null || t === undefined ? 0 : t;
  if (st.length === 1) {
    let byTs = oneRowTails.get(st[0]!);
    if (byTs === undefined) oneRowTails.set(st[0]!, (byTs = new Map()));
    let tail = byTs.get(ms);
    if (tail === undefined) {
      tail = `],"statuses":[${JSON.stringify(st[0])}],"event_timestamps":[${quotedTimestamp(ms)}]}`;
      if (byTs.size >= TS_CACHE_MAX) byTs.clear();
      byTs.set(ms, tail);
    }
    return `{"values":[${value}${tail}`;
  }
  let statuses = '';
  for (let i = 0; i < st.length; i++) {
    let q = quotedStatus.get(st[i]!);
    if (q === undefined) quotedStatus.set(st[i]!, (q = JSON.stringify(st[i])));
    statuses += i > 0 ? `,${q}` : q;
  }
  return `{"values":[${value}],"statuses":[${statuses}],"event_timestamps":[${quotedTimestamp(t)}]}`;
}

/**
 * The pieces of `JSON.stringify(toFeastJson(res))` in order: the metadata, then per column
 * its values, statuses and event timestamps, each list one string (values by one native
 * JSON.stringify, repeated statuses and timestamps from caches of whole lists).
 */
function feastJsonPieces(res: OnlineFeaturesResponse): string[] {
  const cols = res.columns;
  const names = new Array<string>(cols.length);
  for (let c = 0; c < cols.length; c++) names[c] = cols[c]!.name;
  const out: string[] = [`{"metadata":{"feature_names":${JSON.stringify(names)}},"results":[`];
  for (let c = 0; c < cols.length; c++) {
    const col = cols[c]!;
    if (col.values.length === 1) {
      out.push(c > 0 ? `,${oneRowColumn(col)}` : oneRowColumn(col));
      continue;
    }
    out.push(
      c > 0 ? ',{"values":' : '{"values":',
      valuesText(col.values),
      ',"statuses":',
      statusesText(col.statuses),
      ',"event_timestamps":',
      timestampsText(col.eventTs, col.values.length),
      '}',
    );
  }
  out.push(']}');
  return out;
}

/**
 * `JSON.stringify(toFeastJson(res))`, byte for byte, written directly: no intermediate object.
 *
 * @example
 * reply.type('application/json').send(feastJsonString(res));
 */
export function feastJsonString(res: OnlineFeaturesResponse): string {
  const cols = res.columns;
  for (let c = 0; c < cols.length; c++)
    if (cols[c]!.values.length !== 1) return feastJsonPieces(res).join('');
  // One row: its few short pieces concatenated as they come.
  const names = new Array<string>(cols.length);
  for (let c = 0; c < cols.length; c++) names[c] = cols[c]!.name;
  let out = `{"metadata":{"feature_names":${JSON.stringify(names)}},"results":[`;
  for (let c = 0; c < cols.length; c++) {
    if (c > 0) out += ',';
    out += oneRowColumn(cols[c]!);
  }
  return `${out}]}`;
}

/** Where {@link feastJsonBytes} writes before its one copy out (grown as needed, kept). */
let scratch = Buffer.allocUnsafe(1 << 16);

/**
 * {@link feastJsonString}'s UTF-8 bytes, each piece written into one Buffer: a large answer
 * (100 rows: ≈ 110 KB) is neither joined into one string nor encoded again by the socket.
 *
 * @example
 * feastJsonBytes(res).toString('utf8') === feastJsonString(res); // true
 */
export function feastJsonBytes(res: OnlineFeaturesResponse): Buffer {
  const pieces = feastJsonPieces(res);
  let n = 0;
  for (const p of pieces) n += p.length;
  return piecesBytes(pieces, n);
}

/** `pieces` (`units` UTF-16 units in all) as UTF-8 bytes. */
function piecesBytes(pieces: readonly string[], units: number): Buffer {
  const room = 3 * units; // UTF-8: at most 3 bytes per UTF-16 unit
  if (scratch.length < room) scratch = Buffer.allocUnsafe(Math.max(room, 2 * scratch.length));
  const buf = scratch;
  let o = 0;
  for (const p of pieces) o += buf.write(p, o, 'utf8');
  const out = Buffer.allocUnsafe(o);
  buf.copy(out, 0, 0, o);
  return out;
}

/** Answers of at least this many UTF-16 units go out as bytes ({@link feastJsonPayload}). */
const BYTES_FROM = 16 * 1024;

/**
 * The answer to send: a string when small (a server writes it with its head in one string),
 * else {@link feastJsonBytes}.
 *
 * @example
 * socket.write(feastJsonPayload(res));
 */
export function feastJsonPayload(res: OnlineFeaturesResponse): string | Buffer {
  const cols = res.columns;
  if (cols.length === 0 || cols[0]!.values.length === 1) return feastJsonString(res);
  const pieces = feastJsonPieces(res);
  let n = 0;
  for (const p of pieces) n += p.length;
  return n < BYTES_FROM ? pieces.join('') : piecesBytes(pieces, n);
}
