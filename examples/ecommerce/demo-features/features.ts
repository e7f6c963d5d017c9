/**
 * The feature repository `npm run demo` applies: the example's (examples/ecommerce/features/,
 * re-exported whole) plus `recommendation_v1_logged`, recommendation_v1's features with every
 * read logged, so the demo shows a skew report on its own data. A service of its own, outside
 * the example, keeps what the example's services do (`larder serve`, the tests and the
 * benchmarks that use them) unchanged. test/demo/demo-features.test.ts checks that this
 * re-exports every file of the example.
 */
import { featureService } from 'larder';
import { productRates, userProduct, userRecency } from '../features/on-demand.ts';
import {
  productCatalog,
  productEngagement,
  userActivity,
  userPurchases,
} from '../features/views.ts';

export * from '../features/batch-views.ts';
export * from '../features/entities.ts';
export * from '../features/interest-views.ts';
export * from '../features/models.ts';
export * from '../features/on-demand.ts';
export * from '../features/risk.ts';
export * from '../features/schemas.ts';
export * from '../features/sequence-views.ts';
export * from '../features/services.ts';
export * from '../features/sources.ts';
export * from '../features/views.ts';

/** recommendation_v1's features, every read logged to Parquet (docs/monitoring.md "Skew"). */
export const recommendationV1Logged = featureService({
  name: 'recommendation_v1_logged',
  description: "recommendation_v1's features, every read logged: the demo's skew report.",
  features: [
    userActivity,
    userPurchases,
    productEngagement,
    productCatalog,
    userRecency,
    productRates,
    userProduct,
  ],
  logging: { sample: 1, destination: 'parquet' },
});
