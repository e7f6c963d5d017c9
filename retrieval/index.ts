/**
 * Online retrieval, below the API adapters: a request for a feature list or a feature service
 * is planned once per repository (`feature-plan.ts`: which views to read, which join keys and
 * request fields the rows carry, how each output column is filled), its entity rows validated,
 * every view read in one `readMany`, the on-demand transforms evaluated column-wise, and the
 * response assembled as columns of values, statuses and event times
 * (`get-online-features.ts`). `serveOnlineFeatures` is the served form the HTTP route, the
 * gRPC service and model scoring call. The wire formats (Feast JSON, protobuf) stay in `api/`.
 *
 * Product code outside this folder imports it through this file (`.dependency-cruiser.cjs`).
 */
export {
  getOnlineFeatures,
  type OnlineColumn,
  type OnlineFeaturesRequest,
  type OnlineFeaturesResponse,
  type RetrievalContext,
} from './get-online-features.ts';
export { featurePlan, type FeaturePlan, type FeatureRef } from './feature-plan.ts';
export {
  serveOnlineFeatures,
  type ServingSettings,
  type ServingSource,
} from './serve-online-features.ts';
