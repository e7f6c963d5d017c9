/**
 * Record and definition shapes that hit defects (issue #13). Each flag, when true, lets the
 * generators produce the shape; while false the shape is left out so the bounded run stays
 * green. A flag is turned on once its fix is merged (`LARDER_FUZZ_SHAPES=all`, or a
 * comma-separated list of flag names, turns the rest on for one run). Every shape below whose
 * defect is fixed is on; what stays off says why.
 */
export const KNOWN_DEFECTS = {
  /**
   * A record a view accepts that changes none of its features (e.g. a product event with
   * neither price nor category for a view of lifetime `last`s): the Redis stream and push merge
   * sent an empty HMGET and failed. Fixed (`mergeOps` drops field-less entities); while off,
   * every generated view also had a plain `count`.
   */
  recordChangingNoFeature: true,
  /** Unknown extra fields: were dead-lettered by the stream worker, a 400 from `POST /push`. Fixed. */
  unknownFields: true,
  /**
   * Records older than the source's longest window but within a lifetime feature's TTL: the
   * stream worker skipped them as too old. Fixed (`maxRecordAgeMs`: windows and lifetime TTLs);
   * while off, streamed records were no older than that window.
   */
  oldLifetimeRecords: true,
  /**
   * Timestamps up to a day after "now" (the materialization end, the stream and push clock),
   * on and next to now + `ingest.maxFutureSkew`. Fixed: push and stream refuse records later
   * than now + the skew and batch files count them as rejects; the expectations model the rule
   * (`differential.ts`: the export's rejects are counted, a refused push drops its named row and
   * is sent again, the stream's expected state leaves them out), and compare online reads from
   * the newest accepted record's time on (before it, online reads count it from its hop's start:
   * docs/concepts.md "Records stamped after now").
   */
  futureTimestamps: true,
  /**
   * Found by this fuzzer: `sum`/`avg`/`min`/`max`/`last` over an array path
   * (`orderItems[].price`) passed validation, but both DuckDB engines refuse them at export.
   * Fixed by refusing them at definition time (only `mode` takes per-element inputs;
   * `test/registry/validation.test.ts`), so the generator must not produce them: stays off.
   */
  arrayInputsOutsideMode: false,
  /**
   * Found by this fuzzer: a `mode` weight that is null for a record (e.g.
   * `col('properties.amount').toNumber()` of an event without `amount`) is skipped by the export, the
   * materialization and the reference, but was counted with weight 1 by the stream and push fold
   * (`streaming/apply-records.ts`). Fixed: null weights skip the value on every path.
   */
  nullModeWeights: true,
  /**
   * Found by this fuzzer: numbers near the float limit (1e308, ±`Number.MAX_VALUE`) whose sums
   * overflowed to ±Infinity, and each path did something else: for `sum` / `avg` of two
   * `MAX_VALUE` records the reference and the SQL export said Infinity, the sweep export null,
   * pushes 0, and materialization failed (DuckDB's `to_json` wrote `{"sum":Infinity,…}`, which
   * `JSON.parse` refuses; a `mode` weight overflowed the same way). Fixed: an aggregation input
   * or `mode` weight above 1e300 in magnitude is null on every path (docs/concepts.md "Nulls").
   * Found again after the fold's path for scalar inputs and weights was added: a scalar `mode`
   * weight above 1e300 (`totalAmount`) reached `mode`, which threw, and the push failed. Fixed
   * (`streaming/apply-records.ts` skips it there too).
   */
  floatOverflow: true,
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
