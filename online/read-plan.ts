/**
 * Per-(view, feature list) read plans, built once and cached, and the evaluation of one
 * entity's stored fields into feature values at `t` with the shared aggregation library.
 * Only tiles inside the window of some requested feature are parsed, through a bounded cache of
 * parsed states keyed by their stored JSON.
 *
 * A plan is also the one place that says which stored fields a read at `t` needs
 * ({@link ReadPlan.fieldRanges}, {@link ReadPlan.fieldNames}): per hop size of the requested
 * features, the hops of their widest window at `t`, and the requested lifetime features. Stores
 * read those (SQLite: key ranges; Redis: HMGET), so the cost of a read follows the features
 * asked for, not the entity's history.
 */
import {
  aggregator,
  evaluateLifetime,
  windowHops,
  type Aggregator,
  type LastState,
} from '../aggregation/index.ts';
import { LarderError } from '../core/errors.ts';
import type { FeatureViewSpec } from '../definitions/spec.ts';
import type { FeatureValue as Value } from '../core/types.ts';
import { isLifetimeField, LIFETIME_PREFIX, lifetimeField } from './field-names.ts';
import type { FeatureValue, ReadRequest } from './online-store.ts';
import { tileKind } from '../aggregation/tile-kind.ts';
import { assertWindow } from '../aggregation/hop-window.ts';
import {
  emptySequenceValue,
  evaluateSequenceTiles,
  sequenceTiles,
  type SequenceFeatureShape,
} from '../aggregation/sequence-tiles.ts';
import { isSequenceKind } from '../core/sequence.ts';
import { tileExpiry, viewWritePlan, type ViewWritePlan } from './view-catalog.ts';

interface WindowedFeature {
  index: number;
  name: string;
  agg: Aggregator<unknown>;
  /** `count` / `sum`: numeric states merged by `+` (the aggregators' own merge). */
  numeric: boolean;
  windowMs: number;
  hopMs: number;
  /** First hop of this feature's window at the current `t`. */
  first: number;
}

interface HopGroup {
  hopMs: number;
  /** `"<hopMs>:"`, the prefix of this group's tile fields. */
  prefix: string;
  maxWindowMs: number;
  features: WindowedFeature[];
  /** Hop range of the widest requested window at the current `t`. */
  first: number;
  last: number;
  /**
   * The tiles' expiry at hop 0 (`tileExpiry(plan, hopMs, 0)`; hop `k` expires at
   * `k * hopMs + retainMs`).
   */
  retainMs: number;
  /**
   * The first hop read at the current `t` and `now`: `first`, or the first hop whose tile has not
   * expired at `now` (the store's clock) when that is later (a read at a past `t`).
   */
  from: number;
  /** Scratch: hop indices and parsed tiles of the entity being evaluated. */
  ks: number[];
  tiles: Record<string, unknown>[];
}

/** Stored field names `lo <= field <= hi` (binary string order), both inclusive. */
export interface FieldRange {
  lo: string;
  hi: string;
  /** Tiles (expire with `tileExpiry`) or lifetime states (expire at `ts + TTL + 1`). */
  kind: 'tiles' | 'lifetime';
}

/** Stored field names `lo <= field <= hi` (binary string order), both inclusive. */
export interface FieldSpan {
  lo: string;
  hi: string;
}

/** A sequence feature: read from its own states (`aggregation/sequence-tiles.ts`). */
interface SequenceFeature {
  index: number;
  shape: SequenceFeatureShape;
  /** `"<hopMs>:"` prefixes of the tile fields its states live in. */
  prefixes: string[];
}

interface LifetimeFeature {
  index: number;
  /** Position among the plan's lifetime features. */
  slot: number;
  field: string;
}

/**
 * One entity's answer as {@link ReadPlan.evaluateJoined} (or, for values of named fields,
 * {@link ReadPlan.evaluateSelectedJoined}) keeps it: the text, its `n` fields and
 * values, and per field what the plan does with it — `where`: a hop group's index (then `hops`
 * holds its hop), `LIFETIME_BASE - slot` for a requested lifetime state, `NOT_READ` for a field
 * the plan does not read — and its parsed state once needed (`UNPARSED` until then; parses are
 * shared and never mutated, as the parse cache's).
 */
interface ParsedRow {
  joined: string;
  /**
   * For a row of values only ({@link ReadPlan.evaluateSelectedJoined}): the
   * {@link ReadPlan.fieldNames} list its values were read for (null: a `field\nvalue` row).
   */
  names: readonly string[] | null;
  n: number;
  fields: string[];
  values: string[];
  where: number[];
  hops: number[];
  states: unknown[];
  /**
   * The row's features as last evaluated (null: not yet), at the plan's window epoch
   * `memoEpoch`, with its lifetime states by slot and what each gave (`memoCases`,
   * {@link lifetimeCase}): while the windows' hops and those cases are the same, the features
   * are the same (see {@link ReadPlan.evaluateJoined}).
   */
  memo: FeatureValue[] | null;
  memoEpoch: number;
  memoStates: (LastState | null)[];
  memoCases: number[];
}

const NOT_READ = -1;
const LIFETIME_BASE = -2;
const UNPARSED: unique symbol = Symbol('unparsed');
/**
 * A plan's cached rows: about this many bytes (the text, ~64 bytes of arrays per field, ~48 per
 * kept evaluated feature).
 */
const ROWS_MAX_BYTES = 4_000_000;
const ROW_FIELD_BYTES = 64;
/** A kept row's evaluated features (`memo`): about this many bytes per feature. */
const ROW_FEATURE_BYTES = 48;

function rowBytes(row: ParsedRow, features: number): number {
  return row.joined.length + ROW_FIELD_BYTES * row.n + ROW_FEATURE_BYTES * features;
}

export class ReadPlan {
  readonly view: FeatureViewSpec;
  readonly features: readonly string[];
  readonly #windowed: WindowedFeature[] = [];
  readonly #lifetime: LifetimeFeature[] = [];
  readonly #sequence: SequenceFeature[] = [];
  /** The view's groups of identical session states (`ViewWritePlan.sameStates`). */
  readonly #sameStates: ReadonlyMap<string, readonly string[]>;
  /** `"<hopMs>"` → group. */
  readonly #groups = new Map<string, HopGroup>();
  readonly #lifetimeByField = new Map<string, LifetimeFeature>();
  readonly #notFoundRow: FeatureValue[];
  readonly #groupList: HopGroup[] = [];
  readonly #lifetimeStates: (LastState | null)[] = [];
  #preparedT = NaN;
  /** The store clock's `now` that each group's `from` was computed for. */
  #preparedNow = -Infinity;
  readonly #writePlan: ViewWritePlan;
  /** Changes whenever a hop group's window hops do (`#prepare`): a row's memo is per epoch. */
  #windowEpoch = 0;
  #fieldsT = NaN;
  #ranges: FieldRange[] = [];
  #span: FieldSpan | null = null;
  /** {@link evaluateJoined}'s cache: entity key → its last answer, split and classified. */
  readonly #rows = new Map<string, ParsedRow>();
  /** Approximate bytes the cached rows hold (bounded by {@link ROWS_MAX_BYTES}). */
  #rowsSize = 0;
  /** Reads that missed since the cache was last found full (-1: not full since its last clear). */
  #fullMisses = -1;
  /** Reads that found their row cached with the same text, in that time. */
  #fullHits = 0;
  #names: string[] = [];
  /** Each group's `first, last` hops that `#ranges` and `#names` were built for. */
  #fieldsHops: number[] = [];

  constructor(view: FeatureViewSpec, features: readonly string[]) {
    this.view = view;
    this.features = features;
    this.#writePlan = viewWritePlan(view);
    this.#sameStates = this.#writePlan.sameStates;
    features.forEach((name, index) => {
      const f = view.features.find((x) => x.name === name);
      if (!f) {
        throw new LarderError(
          'LARDER_NOT_FOUND',
          `feature view "${view.name}" has no feature "${name}"`,
          { hint: `"${view.name}" has: ${view.features.map((x) => x.name).join(', ')}` },
        );
      }
      if (isSequenceKind(f.aggregation)) {
        const shape = { ...f, aggregation: f.aggregation };
        const prefixes = sequenceTiles(shape, view.ttlMs).map((x) => `${x.hopMs}:`);
        this.#sequence.push({ index, shape, prefixes: [...new Set(prefixes)] });
        return;
      }
      const kind = tileKind(f, 'the online store');
      if (f.windowMs === null || f.hopMs === null) {
        const lf = { index, slot: this.#lifetime.length, field: lifetimeField(name) };
        this.#lifetime.push(lf);
        this.#lifetimeByField.set(lf.field, lf);
        return;
      }
      assertWindow(f.windowMs, f.hopMs); // once here: `#prepare` derives each window's hops
      const wf: WindowedFeature = {
        index,
        name,
        agg: aggregator(kind, f),
        numeric: kind === 'count' || kind === 'sum',
        windowMs: f.windowMs,
        hopMs: f.hopMs,
        first: 0,
      };
      this.#windowed.push(wf);
      const key = String(f.hopMs);
      const g = this.#groups.get(key) ?? {
        hopMs: f.hopMs,
        prefix: `${key}:`,
        maxWindowMs: 0,
        features: [],
        first: 0,
        last: 0,
        retainMs: 0,
        from: 0,
        ks: [],
        tiles: [],
      };
      g.maxWindowMs = Math.max(g.maxWindowMs, f.windowMs);
      g.features.push(wf);
      this.#groups.set(key, g);
    });
    // An unknown entity has empty windows: count and sum are 0 there, as offline (one semantics).
    // count_distinct is 0 and last_n [] there for the same reason.
    this.#notFoundRow = features.map((name) => {
      const f = view.features.find((x) => x.name === name);
      const agg = f?.aggregation;
      if (agg !== undefined && isSequenceKind(agg))
        return { value: emptySequenceValue(agg), status: 'NOT_FOUND', eventTs: null };
      const windowed = f !== undefined && f.windowMs !== null;
      const value =
        windowed && (agg === 'count' || agg === 'sum' || agg === 'count_distinct')
          ? 0
          : windowed && agg === 'last_n'
            ? []
            : null;
      return { value, status: 'NOT_FOUND', eventTs: null };
    });
    this.#groupList.push(...this.#groups.values());
    for (const g of this.#groupList) g.retainMs = tileExpiry(this.#writePlan, g.hopMs, 0);
    this.#lifetimeStates.length = this.#lifetime.length;
  }

  /** Window ranges at `t`, computed once per evaluation time rather than per entity. */
  #prepare(t: number): void {
    const now = this.#preparedNow;
    for (const g of this.#groupList) {
      const r = windowHops(t, g.maxWindowMs, g.hopMs);
      const from = Math.max(r.first, liveFrom(g.hopMs, g.retainMs, now));
      if (from !== g.from || r.last !== g.last) this.#windowEpoch++;
      g.first = r.first;
      g.last = r.last;
      g.from = from;
      // windowHops(t, f.windowMs, f.hopMs).first, from the group's `last` (same hop size; the
      // window was validated when the plan was built).
      for (const f of g.features) f.first = r.last - f.windowMs / f.hopMs + 1;
    }
    this.#preparedT = t;
  }

  /**
   * The window ranges at `t` and the store clock's `now`: a tile that has expired at `now`
   * (`tileExpiry`) is gone, whatever `t` (docs/online-store-format.md, "Expiry is by the
   * store's clock"), so a read at a past `t` skips it even where a store still holds it.
   */
  #prepareAt(t: number, now: number): void {
    if (t !== this.#preparedT) this.#prepare(t);
    if (now === this.#preparedNow) return;
    this.#preparedNow = now;
    for (const g of this.#groupList) {
      const from = Math.max(g.first, liveFrom(g.hopMs, g.retainMs, now));
      if (from !== g.from) this.#windowEpoch++;
      g.from = from;
    }
  }

  /**
   * The stored fields a read at `t` needs, as ranges of field names: per hop size, the tiles
   * `"<H>:<first>"` … `"<H>:<last>"` of the widest requested window (the whole `"<H>:"` prefix
   * when `first` and `last` differ in digit count or `first` is negative: then string order is
   * not numeric order), and the requested lifetime fields. A range may hold other fields
   * (`"60000:1000"` sorts between `"60000:100"` and `"60000:199"`); `evaluate` skips them.
   */
  fieldRanges(t: number): readonly FieldRange[] {
    if (t !== this.#fieldsT) this.#prepareFields(t);
    return this.#ranges;
  }

  /**
   * One range holding every range of {@link fieldRanges}`(t)`: from the first needed field name
   * to the last (null when none is needed), for a store that reads a view's fields in one range
   * scan. It may also hold fields the read does not need — tiles of other hop sizes or outside
   * the windows, other lifetime states, expired tiles not yet deleted —, which `evaluate` skips:
   * at most the entity's other stored fields of the view.
   */
  fieldSpan(t: number): FieldSpan | null {
    if (t !== this.#fieldsT) this.#prepareFields(t);
    return this.#span;
  }

  /**
   * Whether {@link fieldNames} lists every field a read needs. False when sequence features are
   * requested: their retained tiles are not known by name, so a store reads the whole entity.
   */
  get readsByName(): boolean {
    return this.#sequence.length === 0;
  }

  /**
   * Exactly the stored field names a read at `t` needs (what {@link fieldRanges} covers), when
   * {@link readsByName}; otherwise the windowed and lifetime ones only.
   */
  fieldNames(t: number): readonly string[] {
    if (t !== this.#fieldsT) this.#prepareFields(t);
    return this.#names;
  }

  #prepareFields(t: number): void {
    if (t !== this.#preparedT) this.#prepare(t);
    // The names and ranges change only when a window's hops do (once per hop, not per
    // request): until then the lists built for an earlier `t` are the same.
    const groups = this.#groupList;
    const prev = this.#fieldsHops;
    let same = !Number.isNaN(this.#fieldsT);
    for (let i = 0; same && i < groups.length; i++) {
      const g = groups[i] as HopGroup;
      same = g.first === prev[2 * i] && g.last === prev[2 * i + 1];
    }
    if (same) {
      this.#fieldsT = t;
      return;
    }
    this.#fieldsHops = groups.flatMap((g) => [g.first, g.last]);
    const ranges: FieldRange[] = [];
    const names: string[] = [];
    // Sequence features read every retained tile of their hops (their evaluation keeps the hops
    // it needs): the whole "<H>:" prefix, and no exact list of names (see `readsByName`). A
    // windowed group of the same hop is covered by that range: ranges must not overlap, or a
    // store would return a field twice.
    const sequencePrefixes = new Set(this.#sequence.flatMap((sf) => sf.prefixes));
    for (const prefix of sequencePrefixes)
      ranges.push({ lo: prefix, hi: `${prefix.slice(0, -1)};`, kind: 'tiles' });
    for (const g of this.#groupList) {
      const lo = String(g.first);
      const hi = String(g.last);
      for (let k = g.first; k <= g.last; k++) names.push(g.prefix + k);
      if (sequencePrefixes.has(g.prefix)) continue;
      ranges.push(
        g.first >= 0 && lo.length === hi.length
          ? { lo: g.prefix + lo, hi: g.prefix + hi, kind: 'tiles' }
          : { lo: g.prefix, hi: `${g.hopMs};`, kind: 'tiles' }, // ';' follows ':': every "<H>:…"
      );
    }
    if (this.#lifetime.length === 1) {
      const f = (this.#lifetime[0] as LifetimeFeature).field;
      ranges.push({ lo: f, hi: f, kind: 'lifetime' });
    } else if (this.#lifetime.length > 1) {
      ranges.push({ lo: LIFETIME_PREFIX, hi: 'l;', kind: 'lifetime' });
    }
    for (const lf of this.#lifetime) names.push(lf.field);
    let span: FieldSpan | null = null;
    for (const r of ranges) {
      if (span === null) span = { lo: r.lo, hi: r.hi };
      if (r.lo < span.lo) span.lo = r.lo;
      if (r.hi > span.hi) span.hi = r.hi;
    }
    this.#ranges = ranges;
    this.#span = span;
    this.#names = names;
    this.#fieldsT = t;
  }

  /** A fresh NOT_FOUND row. */
  notFoundRow(): FeatureValue[] {
    return this.#notFoundRow.map((v) => ({ ...v }));
  }

  /**
   * Evaluates one entity at `t` from its stored fields (`fields[i]` → `values[i]`), or returns a
   * NOT_FOUND row when there are none. Synchronous, so the plan's scratch state is safe to share.
   *
   * Same result as `evaluateTiles` over the tiles of each feature's window (property-tested in
   * test/online/read-plan.test.ts), without its per-call allocations: the window ranges are
   * prepared once per `t`, field names are scanned without slicing, parsed tiles come from a
   * bounded cache of immutable parses, and states are merged straight from the tiles.
   */
  evaluate(
    t: number,
    fields: ArrayLike<string>,
    values: ArrayLike<string>,
    exists = fields.length > 0,
    now = -Infinity,
  ): FeatureValue[] {
    return this.#evaluate(t, now, fields.length, fields, 0, values, 0, 1, exists);
  }

  /** {@link evaluate} of a flat `field, value, field, value, …` array (a raw HGETALL reply). */
  evaluatePairs(t: number, pairs: ArrayLike<string>, now = -Infinity): FeatureValue[] {
    return this.#evaluate(t, now, pairs.length >> 1, pairs, 0, pairs, 1, 2, pairs.length > 0);
  }

  /**
   * {@link evaluate} of the values of {@link fieldNames}`(t)`, in that order from
   * `values[from]`, null or `""` where a field is absent (stored values are JSON text, never
   * empty: an HMGET reply, or a field group key's `lua/read-entities.lua` reply split). `exists`: the entity has
   * some field, needed or not (an entity with none of the needed fields reads as empty windows,
   * not NOT_FOUND).
   */
  evaluateSelected(
    t: number,
    values: ArrayLike<unknown>,
    from: number,
    exists: boolean,
    now = -Infinity,
  ): FeatureValue[] {
    const names = this.fieldNames(t);
    const fields: string[] = [];
    const present: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const v = values[from + i];
      if (typeof v !== 'string' || v === '') continue;
      fields.push(names[i] as string);
      present.push(v);
    }
    return this.#evaluate(t, now, fields.length, fields, 0, present, 0, 1, exists);
  }

  /** Field `i` is `fields[fOff + i * stride]`, its value `values[vOff + i * stride]`. */
  #evaluate(
    t: number,
    now: number,
    n: number,
    fields: ArrayLike<string>,
    fOff: number,
    values: ArrayLike<string>,
    vOff: number,
    stride: number,
    exists: boolean,
  ): FeatureValue[] {
    if (!exists) return this.notFoundRow();
    this.#prepareAt(t, now);
    const lifetimeStates = this.#lifetimeStates;
    const groups = this.#clearScratch();
    for (let i = 0; i < n; i++) {
      const field = fields[fOff + i * stride] as string;
      if (isLifetimeField(field)) {
        const lf = this.#lifetimeByField.get(field);
        if (lf)
          lifetimeStates[lf.slot] = parseState(
            values[vOff + i * stride] as string,
          ) as LastState | null;
        continue;
      }
      const g = groupOf(groups, field);
      if (g === undefined) continue;
      const k = hopOf(field, g.prefix.length);
      if (!(k >= g.from && k <= g.last)) continue; // also skips a malformed (NaN) hop
      g.ks.push(k);
      g.tiles.push(parseState(values[vOff + i * stride] as string) as Record<string, unknown>);
    }
    return this.#finish(t, now, n, fields, fOff, values, vOff, stride, null);
  }

  /**
   * {@link evaluatePairs} of a store's answer for one entity as one text, `field\nvalue\n…`
   * (names and values never hold a newline; null: no field), through a bounded cache per plan
   * of the last text read per entity key: while a store answers the same text (a hot entity
   * between writes and hop changes), the split, the field names' classification and the
   * parses are reused, and the lookup hashes the short entity key, not each value. The text
   * is compared whole, so a changed row is always read afresh. A cached row also keeps its
   * features as last evaluated (views without sequence features): the same features again
   * while every hop group's window hops at `t` are the same and each requested lifetime state
   * falls in the same case at `t` (not yet set, present, past the TTL; {@link lifetimeCase}):
   * nothing else of `t` enters a windowed feature's value or its `eventTs`. The features are
   * then the same arrays and objects as before (rows are read-only).
   */
  evaluateJoined(t: number, entity: string, joined: string, now = -Infinity): FeatureValue[] {
    let row = this.#rows.get(entity);
    if (row === undefined || row.joined !== joined || row.names !== null)
      row = this.#keep(entity, this.#splitRow(joined));
    else if (this.#fullMisses >= 0) this.#fullHits++;
    if (row.n === 0) return this.notFoundRow();
    return this.#evaluateRow(t, now, row);
  }

  /**
   * {@link evaluateSelected} of the values of {@link fieldNames}`(t)` joined by `"\n"` (`""`
   * where a field is absent; at least one present: the entity exists), through the same cache
   * as {@link evaluateJoined}: a cached row is reused while the store answers the same text for
   * the same field list (the list changes when a window's hops do).
   */
  evaluateSelectedJoined(
    t: number,
    entity: string,
    joined: string,
    now = -Infinity,
  ): FeatureValue[] {
    const names = this.fieldNames(t);
    let row = this.#rows.get(entity);
    if (row === undefined || row.joined !== joined || row.names !== names)
      row = this.#keep(entity, this.#splitValues(joined, names));
    else if (this.#fullMisses >= 0) this.#fullHits++;
    return this.#evaluateRow(t, now, row);
  }

  /**
   * Caches `row` as `entity`'s (replacing its last) within the bound; returns it. When the
   * cache is full it keeps the rows it holds and caches no more: rows held go on paying for a
   * working set a little larger than the bound (entities read in a cycle, as a uniform user mix
   * does), where clearing and refilling would keep every row only until just before it is read
   * again, at the cost of moving each into the old generation. It starts afresh (cleared) once
   * the rows held stopped paying: fewer than one read in 4 since it was found full found its
   * row, over at least 4 reads per row held.
   */
  #keep(entity: string, row: ParsedRow): ParsedRow {
    const rows = this.#rows;
    const old = rows.get(entity);
    if (old !== undefined) {
      this.#rowsSize -= rowBytes(old, this.features.length);
      rows.delete(entity);
    }
    const size = rowBytes(row, this.features.length);
    if (size > ROWS_MAX_BYTES) return row;
    if (this.#rowsSize + size > ROWS_MAX_BYTES) {
      if (this.#fullMisses < 0) {
        this.#fullMisses = 0;
        this.#fullHits = 0;
      }
      const misses = ++this.#fullMisses;
      if (misses + this.#fullHits < 4 * rows.size + 64) return row;
      if (this.#fullHits * 3 >= misses) {
        this.#fullMisses = 0; // still paying (a hit in 4 reads or more): a new count
        this.#fullHits = 0;
        return row;
      }
      rows.clear();
      this.#rowsSize = 0;
      this.#fullMisses = -1;
    } else if (this.#fullMisses >= 0) this.#fullMisses++;
    rows.set(entity, row);
    this.#rowsSize += size;
    return row;
  }

  /** A cached row's features at `t` (its parses filled in as they are needed). */
  #evaluateRow(t: number, now: number, row: ParsedRow): FeatureValue[] {
    this.#prepareAt(t, now);
    const memo = row.memo;
    if (memo !== null && row.memoEpoch === this.#windowEpoch) {
      const states = row.memoStates;
      const cases = row.memoCases;
      let same = true;
      for (let s = 0; s < states.length; s++)
        if (lifetimeCase(states[s] as LastState | null, t, now, this.view.ttlMs) !== cases[s]) {
          same = false;
          break;
        }
      if (same) return memo;
    }
    const lifetimeStates = this.#lifetimeStates;
    const groups = this.#clearScratch();
    const { where, hops, states, values } = row;
    for (let i = 0; i < row.n; i++) {
      const w = where[i] as number;
      if (w === NOT_READ) continue;
      let state = states[i];
      if (w < 0) {
        if (state === UNPARSED) state = states[i] = parseState(values[i] as string);
        lifetimeStates[LIFETIME_BASE - w] = state as LastState | null;
        continue;
      }
      const g = groups[w] as HopGroup;
      const k = hops[i] as number;
      if (!(k >= g.from && k <= g.last)) continue;
      if (state === UNPARSED) state = states[i] = parseState(values[i] as string);
      g.ks.push(k);
      g.tiles.push(state as Record<string, unknown>);
    }
    const out = this.#finish(t, now, row.n, row.fields, 0, values, 0, 1, states);
    if (this.#sequence.length === 0) {
      row.memo = out;
      row.memoEpoch = this.#windowEpoch;
      row.memoStates = lifetimeStates.slice();
      row.memoCases = row.memoStates.map((x) => lifetimeCase(x, t, now, this.view.ttlMs));
    }
    return out;
  }

  /** A joined answer split, each field classified once for this plan (see {@link ParsedRow}). */
  #splitRow(joined: string): ParsedRow {
    const pairs = joined === '' ? [] : joined.split('\n');
    const n = pairs.length >> 1;
    const row = this.#newRow(joined, null, n);
    for (let i = 0; i < n; i++)
      this.#classify(row, i, pairs[2 * i] as string, pairs[2 * i + 1] as string);
    return row;
  }

  /** The values of `names` joined (`""` where absent) as a row of the present fields. */
  #splitValues(joined: string, names: readonly string[]): ParsedRow {
    const parts = joined.split('\n');
    const m = Math.min(parts.length, names.length);
    let n = 0;
    for (let i = 0; i < m; i++) if (parts[i] !== '') n++;
    const row = this.#newRow(joined, names, n);
    for (let i = 0, j = 0; i < m; i++) {
      const v = parts[i] as string;
      if (v !== '') this.#classify(row, j++, names[i] as string, v);
    }
    return row;
  }

  #newRow(joined: string, names: readonly string[] | null, n: number): ParsedRow {
    return {
      joined,
      names,
      n,
      fields: new Array<string>(n),
      values: new Array<string>(n),
      where: new Array<number>(n),
      hops: new Array<number>(n),
      states: new Array<unknown>(n),
      memo: null,
      memoEpoch: -1,
      memoStates: [],
      memoCases: [],
    };
  }

  /** Sets field `i` of `row` and what the plan does with it. */
  #classify(row: ParsedRow, i: number, field: string, value: string): void {
    row.fields[i] = field;
    row.values[i] = value;
    row.states[i] = UNPARSED;
    row.hops[i] = 0;
    row.where[i] = NOT_READ;
    if (isLifetimeField(field)) {
      const lf = this.#lifetimeByField.get(field);
      if (lf) row.where[i] = LIFETIME_BASE - lf.slot;
      return;
    }
    const groups = this.#groupList;
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi] as HopGroup;
      if (!field.startsWith(g.prefix)) continue;
      const k = hopOf(field, g.prefix.length);
      if (!Number.isNaN(k)) {
        row.where[i] = gi;
        row.hops[i] = k;
      }
      return;
    }
  }

  /** Resets the per-evaluation scratch state; returns the hop groups. */
  #clearScratch(): HopGroup[] {
    this.#lifetimeStates.fill(null);
    const groups = this.#groupList;
    for (const g of groups) {
      g.ks.length = 0;
      g.tiles.length = 0;
    }
    return groups;
  }

  /** The features' values from the collected tiles and lifetime states (and sequence fields). */
  #finish(
    t: number,
    now: number,
    n: number,
    fields: ArrayLike<string>,
    fOff: number,
    values: ArrayLike<string>,
    vOff: number,
    stride: number,
    states: unknown[] | null,
  ): FeatureValue[] {
    const out: FeatureValue[] = new Array(this.features.length);
    const lifetimeStates = this.#lifetimeStates;
    const groups = this.#groupList;
    for (const g of groups) {
      const { ks, tiles } = g;
      for (const f of g.features) {
        const name = f.name;
        let newest = -Infinity;
        let value: Value | null;
        if (f.numeric) {
          // count / sum: the merge is `a + b` from 0, in the same order as evaluateTiles.
          let acc = 0;
          for (let i = 0; i < ks.length; i++) {
            const k = ks[i] as number;
            const tile = tiles[i] as Record<string, unknown>;
            if (k < f.first || !Object.hasOwn(tile, name)) continue;
            acc = acc + (tile[name] as number);
            if (k > newest) newest = k;
          }
          value = acc;
        } else {
          const agg = f.agg;
          let acc = agg.init();
          for (let i = 0; i < ks.length; i++) {
            const k = ks[i] as number;
            const tile = tiles[i] as Record<string, unknown>;
            if (k < f.first || !Object.hasOwn(tile, name)) continue;
            acc = agg.merge(acc, tile[name]);
            if (k > newest) newest = k;
          }
          value = agg.finish(acc);
        }
        out[f.index] = {
          value,
          status: value === null ? 'NULL_VALUE' : 'PRESENT',
          eventTs: newest === -Infinity ? null : newest * f.hopMs,
        };
      }
    }
    if (this.#sequence.length > 0)
      evaluateSequences(
        this.#sequence,
        this.#sameStates,
        this.view.ttlMs,
        this.#writePlan,
        t,
        now,
        n,
        fields,
        fOff,
        values,
        vOff,
        stride,
        states,
        out,
      );
    for (const lf of this.#lifetime) {
      const state = lifetimeStates[lf.slot] ?? null;
      // Not set at `t`, or expired at `now` (`lifetimeExpiry`: ts + TTL + 1 <= now): none.
      if (state === null || state.ts > t || state.ts + this.view.ttlMs < now) {
        out[lf.index] = { value: null, status: 'NULL_VALUE', eventTs: null };
        continue;
      }
      const value = evaluateLifetime(state, t, this.view.ttlMs);
      out[lf.index] =
        value === null
          ? { value: null, status: 'OUTSIDE_MAX_AGE', eventTs: state.ts }
          : { value, status: 'PRESENT', eventTs: state.ts };
    }
    return out;
  }
}

/**
 * Which of `#finish`'s lifetime answers `state` gives at `t`: 0 none (never set, or set after
 * `t`: NULL_VALUE), 1 its value (PRESENT), 2 past the TTL (OUTSIDE_MAX_AGE). The answer is a
 * function of the state and this case alone.
 */
function lifetimeCase(state: LastState | null, t: number, now: number, ttlMs: number): number {
  if (state === null || state.ts > t || state.ts + ttlMs < now) return 0;
  return evaluateLifetime(state, t, ttlMs) === null ? 2 : 1;
}

/**
 * Sequence features, from every tile field of their hops (their evaluation keeps only the hops
 * a read needs). `eventTs` is null: their values are not one hop's. A state of a group of
 * identical session states (`sameStates`) is read from whichever member a tile holds: the
 * group's first (stored once, `online/write-batch.ts`), or any (tiles written before).
 */
function evaluateSequences(
  this: void,
  features: readonly SequenceFeature[],
  sameStates: ReadonlyMap<string, readonly string[]>,
  ttlMs: number,
  writePlan: ViewWritePlan,
  t: number,
  now: number,
  n: number,
  fields: ArrayLike<string>,
  fOff: number,
  values: ArrayLike<string>,
  vOff: number,
  stride: number,
  /** A cached row's parses by field (stride 1), filled in here as needed; or null. */
  states: unknown[] | null,
  out: FeatureValue[],
): void {
  // Each hop size's tiles are found and parsed once per entity, shared by the features (a view
  // such as user_sessions has several sequence features over the same tiles). The lists and
  // `[hop, state]` pairs handed out come from a pool reused by the next entity: they were most
  // of the garbage of a read of such a view (young-generation collections make the p99), and
  // the aggregation library reads them synchronously without keeping them.
  pool.lists = 0;
  pool.pairs = 0;
  const byHop = new Map<number, [number, Record<string, unknown>][]>();
  const tilesOf = (hopMs: number): [number, Record<string, unknown>][] => {
    let list = byHop.get(hopMs) as [number, Record<string, unknown>][] | undefined;
    if (list) return list;
    list = pooledList() as [number, Record<string, unknown>][];
    const prefix = `${hopMs}:`;
    // Tiles expired at the store clock's `now` are gone, whatever `t` (as in `#prepareAt`).
    const from = liveFrom(hopMs, tileExpiry(writePlan, hopMs, 0), now);
    for (let i = 0; i < n; i++) {
      const field = fields[fOff + i * stride] as string;
      if (!field.startsWith(prefix)) continue;
      const k = hopOf(field, prefix.length);
      if (!(k >= from)) continue; // also skips a malformed (NaN) hop
      let tile: unknown;
      if (states === null) tile = parseState(values[vOff + i * stride] as string);
      else {
        tile = states[i];
        if (tile === UNPARSED) tile = states[i] = parseState(values[i] as string);
      }
      if (tile !== null) list.push(pooledPair(k, tile) as [number, Record<string, unknown>]);
    }
    byHop.set(hopMs, list);
    return list;
  };
  const statesOf = (key: string, hopMs: number): [number, unknown][] => {
    const found = pooledList();
    const group = sameStates.get(key);
    for (const [k, tile] of tilesOf(hopMs)) {
      if (group === undefined) {
        if (Object.hasOwn(tile, key)) found.push(pooledPair(k, tile[key]));
        continue;
      }
      for (const m of group)
        if (Object.hasOwn(tile, m)) {
          found.push(pooledPair(k, tile[m]));
          break;
        }
    }
    return found;
  };
  for (const sf of features) {
    const value = evaluateSequenceTiles(sf.shape, ttlMs, statesOf, t);
    out[sf.index] = { value, status: value === null ? 'NULL_VALUE' : 'PRESENT', eventTs: null };
  }
}

/** {@link evaluateSequences}' lists and pairs, reused entity after entity. */
const pool = {
  lists: 0,
  pairs: 0,
  listStore: [] as [number, unknown][][],
  pairStore: [] as [number, unknown][],
};

function pooledList(): [number, unknown][] {
  let list = pool.listStore[pool.lists];
  if (list === undefined) {
    list = [];
    pool.listStore.push(list);
  }
  pool.lists++;
  list.length = 0;
  return list;
}

function pooledPair(k: number, state: unknown): [number, unknown] {
  let pair = pool.pairStore[pool.pairs];
  if (pair === undefined) {
    pair = [k, state];
    pool.pairStore.push(pair);
  } else {
    pair[0] = k;
    pair[1] = state;
  }
  pool.pairs++;
  return pair;
}

/** The group whose tile fields start with its `"<hopMs>:"` prefix (plans have 1–3 groups). */
function groupOf(groups: readonly HopGroup[], field: string): HopGroup | undefined {
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] as HopGroup;
    if (field.startsWith(g.prefix)) return g;
  }
  return undefined;
}

/** The hop index after the prefix (`"60000:28912345"` → 28912345), NaN when malformed. */
function hopOf(field: string, from: number): number {
  let i = from;
  let sign = 1;
  if (field.charCodeAt(i) === 45 /* - */) {
    sign = -1;
    i++;
  }
  if (i >= field.length) return NaN;
  let k = 0;
  for (; i < field.length; i++) {
    const d = field.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    k = k * 10 + d;
  }
  return sign * k;
}

/**
 * Parsed states by their stored JSON. Tiles are immutable once a hop is over and hot entities
 * are read again and again, so most reads skip `JSON.parse`. The parses are shared: nothing
 * may mutate them (aggregators merge into their own `init()` state; `last` only returns them).
 * Bounded: cleared when full.
 */
const parsed = new Map<string, unknown>();
const PARSED_MAX = 50_000;

function parseState(raw: string): unknown {
  let v = parsed.get(raw);
  if (v === undefined) {
    v = JSON.parse(raw) as unknown;
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(raw, v);
  }
  return v;
}

const plans = new WeakMap<FeatureViewSpec, Map<string, ReadPlan>>();
/**
 * The last plan of a feature list array: retrieval hands the same array (its cached feature
 * plan's) request after request, so most lookups need neither the joined key string nor its
 * hash. Checked against the view and the names before use.
 */
const byList = new WeakMap<readonly string[], ReadPlan>();

/** The cached plan of a request's view and feature list. */
export function readPlan(request: ReadRequest): ReadPlan {
  const list = request.features;
  if (list) {
    const hit = byList.get(list);
    if (hit !== undefined && hit.view === request.view && sameNames(hit.features, list)) return hit;
  }
  const plan = keyedPlan(request);
  if (list) byList.set(list, plan);
  return plan;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function keyedPlan(request: ReadRequest): ReadPlan {
  let byFeatures = plans.get(request.view);
  if (!byFeatures) {
    byFeatures = new Map();
    plans.set(request.view, byFeatures);
  }
  const key = request.features ? request.features.join('\u0000') : '\u0001*';
  let plan = byFeatures.get(key);
  if (!plan) {
    plan = new ReadPlan(request.view, request.features ?? request.view.features.map((f) => f.name));
    byFeatures.set(key, plan);
  }
  return plan;
}

/**
 * The first hop whose tile has not expired at `now`: hop `k` expires at `k * hopMs + retainMs`
 * (`tileExpiry`), so it is live iff `k * hopMs + retainMs > now`. `-Infinity` for `now =
 * -Infinity` (no clock: every stored tile is read).
 */
function liveFrom(hopMs: number, retainMs: number, now: number): number {
  return Math.floor((now - retainMs) / hopMs) + 1;
}
