/**
 * Record and definition shapes that hit defects being fixed elsewhere (issue #13). Each flag,
 * when true, lets the generators produce the shape; while false the shape is left out so the
 * bounded run stays green. Turn a flag on once its fix is merged (`LARDER_FUZZ_SHAPES=all`, or a
 * comma-separated list of flag names, turns them on for one run).
 */
export const KNOWN_DEFECTS = {
  /**
   * A record a view accepts that changes none of its features (e.g. a product event with
   * neither price nor category for a view of lifetime `last`s): the Redis stream and push merge
   * send an empty HMGET and fail. Off: every generated view also has a plain `count`.
   */
  recordChangingNoFeature: false,
  /** Unknown extra fields: dead-lettered by the stream worker, a 400 from `POST /push`. */
  unknownFields: false,
  /**
   * Records older than the source's longest window but within a lifetime feature's TTL: the
   * stream worker skips them as too old. Off: streamed records are no older than that window.
   */
  oldLifetimeRecords: false,
  /**
   * Timestamps up to a day after "now" (the materialization end, the stream and push clock),
   * accepted today by push and stream. Materialized reads are compared with records up to now
   * only; before turning this on, make the push and stream expectations follow the fix's rule
   * (which future timestamps are refused).
   */
  futureTimestamps: false,
  /**
   * Found by this fuzzer, not fixed yet: `sum`/`avg`/`min`/`max`/`last` over an array path
   * (`orderItems[].price`) pass validation, but both DuckDB engines refuse them at export
   * ("array paths are only supported as mode inputs and weights"). Off: array paths feed
   * `mode` only.
   */
  arrayInputsOutsideMode: false,
  /**
   * Found by this fuzzer, not fixed yet: a `mode` weight that is null for a record (e.g.
   * `col('properties.qty').toNumber()` of an event without `qty`) is skipped by the export, the
   * materialization and the reference, but counted with weight 1 by the stream and push fold
   * (`streaming/apply-records.ts`, `typeof w === 'number' ? w : 1`). Off: `mode` weights are
   * never-null numbers only.
   */
  nullModeWeights: false,
};

export type KnownDefect = keyof typeof KNOWN_DEFECTS;

/** The flags, with `LARDER_FUZZ_SHAPES` applied. */
export function knownDefectShapes(
  env: NodeJS.ProcessEnv = process.env,
): Record<KnownDefect, boolean> {
  const on = (env.LARDER_FUZZ_SHAPES ?? '').split(',').map((s) => s.trim());
  return Object.fromEntries(
    Object.entries(KNOWN_DEFECTS).map(([k, v]) => [k, v || on.includes('all') || on.includes(k)]),
  ) as Record<KnownDefect, boolean>;
}
