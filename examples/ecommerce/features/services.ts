import { featureService } from 'larder';
import { userInterest, userOrders, userProductEngagement } from './interest-views.ts';
import { orderRisk } from './risk.ts';
import { productRates, userProduct, userRecency } from './on-demand.ts';
import { productCatalog, productEngagement, userActivity, userPurchases } from './views.ts';
import { userRisk, userSessions } from './sequence-views.ts';

/** The views of recommendation_v1, which recommendation_v2 extends. */
const V1_VIEWS = [
  userActivity,
  userPurchases,
  productEngagement,
  productCatalog,
  userRecency,
  productRates,
  userProduct,
];

/** Every version 1 feature, for (user_id, product_id) rows: what ranker_v1 reads. */
export const recommendationV1 = featureService({
  name: 'recommendation_v1',
  description: 'Features of the ranking model ranker_v1.',
  features: V1_VIEWS,
});

/** Version 2 (spec "Version 2"): recommendation_v1 plus interest, interaction and sessions. */
export const recommendationV2 = featureService({
  name: 'recommendation_v2',
  description:
    'recommendation_v1 plus what the shopper looked at, did with the product, and their sessions.',
  features: [...V1_VIEWS, userInterest, userProductEngagement, userSessions],
});

/** The risk model's features for (user_id) rows (spec "Version 2"). */
export const riskV1 = featureService({
  name: 'risk_v1',
  description:
    'Signs of automated or risky behaviour: fast events, changing IPs, an unusually large order, sessions.',
  features: [userRisk, userOrders, orderRisk, userSessions],
});
