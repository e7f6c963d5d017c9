import { featureService } from 'larder';
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
