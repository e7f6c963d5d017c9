import { featureService } from 'larder';
import { productRates, userProduct, userRecency } from './on-demand.ts';
import { productCatalog, productEngagement, userActivity, userPurchases } from './views.ts';
import { userRisk, userSessions } from './sequence-views.ts';

/** Every feature of the repository, for (user_id, product_id) rows: what ranker_v1 reads. */
export const recommendationV1 = featureService({
  name: 'recommendation_v1',
  description: 'Features of the ranking model ranker_v1.',
  features: [
    userActivity,
    userPurchases,
    productEngagement,
    productCatalog,
    userRecency,
    productRates,
    userProduct,
  ],
});

/**
 * Version 2 of the recommendation features (spec "Version 2"): recommendation_v1 plus the
 * session features. `user_interest` and `user_product_engagement` join from #14's other half.
 */
export const recommendationV2 = featureService({
  name: 'recommendation_v2',
  description: 'recommendation_v1 plus interest, interaction and session features.',
  features: [
    userActivity,
    userPurchases,
    productEngagement,
    productCatalog,
    userRecency,
    productRates,
    userProduct,
    userSessions,
  ],
});

/**
 * The risk model's features (spec "Version 2"): user_risk and user_sessions here;
 * `user_orders` and `order_risk` join from #14's other half.
 */
export const riskV1 = featureService({
  name: 'risk_v1',
  description: 'Signs of automated or risky behaviour, per user.',
  features: [userRisk, userSessions],
});
