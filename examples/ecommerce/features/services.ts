import { featureService } from 'larder';
import { userInterest, userOrders, userProductEngagement } from './interest-views.ts';
import { orderRisk } from './risk.ts';
import { productRates, userProduct, userRecency } from './on-demand.ts';
import { productCatalog, productEngagement, userActivity, userPurchases } from './views.ts';

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

/** recommendation_v1 plus the version 2 interest and interaction views. */
export const recommendationV2 = featureService({
  name: 'recommendation_v2',
  description: 'recommendation_v1 plus what the shopper looked at and did with the product.',
  features: [
    userActivity,
    userPurchases,
    productEngagement,
    productCatalog,
    userRecency,
    productRates,
    userProduct,
    userInterest,
    userProductEngagement,
  ],
});

/** Order risk features for (user_id) rows. */
export const riskV1 = featureService({
  name: 'risk_v1',
  description: "A shopper's last order and whether it is unusually large.",
  features: [userOrders, orderRisk],
});
