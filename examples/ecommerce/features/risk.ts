/** Version 2 on-demand risk feature: the original pipeline's "order over 5× the average" rule. */
import { feature, onDemandFeatureView } from 'larder';
import { user } from './entities.ts';
import { userOrders } from './interest-views.ts';
import { userPurchases } from './views.ts';

export const orderRisk = onDemandFeatureView({
  name: 'order_risk',
  entities: [user],
  inputs: {
    last_order_total: feature(userOrders, 'last_order_total', 'float64'),
    avg_order_value_30d: feature(userPurchases, 'avg_order_value_30d', 'float64'),
  },
  features: { large_last_order: 'bool' },
  transform: ({ last_order_total, avg_order_value_30d }) => ({
    large_last_order: last_order_total.map((total, i) => {
      const avg = avg_order_value_30d[i] ?? null;
      return total !== null && avg !== null && total > 5 * avg;
    }),
  }),
});
