/**
 * Larder's definitions DSL: what feature repositories import.
 *
 * @example
 * import { entity, col, count, featureView } from 'larder';
 */
export { entity, type EntityDef } from './dsl/entity.ts';
export {
  batchSource,
  streamSource,
  pushSource,
  topicEnvVar,
  type BatchSourceDef,
  type StreamSourceDef,
  type PushSourceDef,
} from './dsl/sources.ts';
export {
  count,
  sum,
  avg,
  min,
  max,
  last,
  mode,
  countDistinct,
  lastN,
  type FeatureDef,
  type LastNOptions,
  type WindowOptions,
} from './dsl/features.ts';
export { featureView, type FeatureViewDef } from './dsl/feature-view.ts';
export {
  countWhere,
  previous,
  sessions,
  type PreviousRelation,
  type SessionFeatures,
} from './dsl/sequence-features.ts';
export {
  onDemandFeatureView,
  feature,
  requestField,
  rowwise,
  type OnDemandFeatureViewDef,
  type OdfvContext,
} from './dsl/on-demand.ts';
export { batchView, type BatchViewDef } from './dsl/batch-view.ts';
export { featureService, select, type FeatureServiceDef } from './dsl/feature-service.ts';
export { model, experiment, type ModelDef, type ExperimentDef } from './dsl/model.ts';
export { col, lit, and, or, not, Expr, type ExprNode } from './expr/expr.ts';
export { DAY_MS, HOUR_MS, MINUTE_MS } from '../core/duration.ts';
export type { ValueType, Scalar, FeatureValue } from '../core/types.ts';
