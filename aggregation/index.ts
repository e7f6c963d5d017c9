/**
 * The one aggregation library shared by streaming, online reads, materialization and tests:
 * aggregators over JSON partial states, hopping-window arithmetic, tile evaluation and the
 * brute-force reference evaluator. Semantics: the spec's "Window semantics" section.
 *
 * @example
 * import { aggregator, buildTiles, evaluateTiles } from '../aggregation/index.ts';
 * const tiles = buildTiles('avg', events, MINUTE_MS);
 * evaluateTiles(aggregator('avg'), tiles, t, 30 * DAY_MS, DAY_MS);
 */
export { AGGREGATION_KINDS } from './aggregator.ts';
export type {
  AggregationEvent,
  AggregationKind,
  AggregationParams,
  Aggregator,
} from './aggregator.ts';
export { aggregator } from './create-aggregator.ts';
export { countAggregator } from './count-aggregator.ts';
export { sumAggregator } from './sum-aggregator.ts';
export { avgAggregator } from './avg-aggregator.ts';
export type { AvgState } from './avg-aggregator.ts';
export { maxAggregator, minAggregator } from './min-max-aggregator.ts';
export { compareLast, lastAggregator } from './last-aggregator.ts';
export type { LastState } from './last-aggregator.ts';
export { modeAggregator } from './mode-aggregator.ts';
export type { ModeState } from './mode-aggregator.ts';
export { countDistinctAggregator } from './count-distinct-aggregator.ts';
export type { CountDistinctState } from './count-distinct-aggregator.ts';
export { lastNAggregator } from './last-n-aggregator.ts';
export type { LastNEntry, LastNState } from './last-n-aggregator.ts';
export { compareCodePoints } from './compare-code-points.ts';
export { compareScalars } from './compare-scalars.ts';
export { FLOAT_RELATIVE_TOLERANCE, floatsEqual } from './floats-equal.ts';
export { MAX_INPUT_MAGNITUDE, isAggregableNumber, normalizeInput } from './normalize-input.ts';
export {
  assertWindow,
  hopIndex,
  inWindow,
  tileExpiresAt,
  windowHops,
  windowStart,
  windowStartUnchecked,
} from './hop-window.ts';
export { evaluateTiles } from './evaluate-tiles.ts';
export { evaluateLifetime } from './evaluate-lifetime.ts';
export { buildTiles } from './build-tiles.ts';
export { bruteForceLifetime, bruteForceModeTotals, bruteForceWindow } from './brute-force.ts';
export { compareEvents, valuesDiffer, type SequenceEvent } from './sequence-event.ts';
export {
  bruteForcePrevious,
  bruteForceSession,
  rememberedEvents,
  sessionsAt,
  type Session,
  type SessionFeature,
} from './brute-force-sequence.ts';
export {
  evaluateSession,
  mergeSessionRuns,
  sessionTileAdd,
  sessionTileLayout,
  type SessionRun,
} from './session-state.ts';
export {
  evaluatePrevious,
  mergePreviousEvents,
  mergePreviousLast,
  previousEventsAdd,
  previousLastAdd,
  previousTileLayout,
  type PreviousEvent,
  type PreviousLast,
} from './previous-state.ts';
export { tileKind } from './tile-kind.ts';
export {
  emptySequenceValue,
  evaluateSequenceTiles,
  memoryOf,
  sequenceTiles,
  type SequenceFeatureShape,
  type SequenceTile,
} from './sequence-tiles.ts';
