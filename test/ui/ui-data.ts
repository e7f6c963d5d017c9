/** Clickstream pushed by the dashboard tests, with known sessions, products and event times. */
import { MINUTE_MS } from '../../core/duration.ts';
import { columns, event } from '../api/ecommerce-data.ts';

const inSession = (e: Record<string, unknown>, sessionId: string) => ({ ...e, sessionId });

/**
 * Views of p1 at −1, −2, −3 min (views_5m = 3); p2 viewed and bought at −3.5 min (views_5m = 1);
 * p3 viewed at −10 min (views_5m = 0); an anonymous view of p2 at −90 min. Sessions in the last
 * hour: s1, s2, s3; one purchase.
 */
export const UI_EVENTS = [
  inSession(
    event('e1', 'u1', 'page_view', 1 * MINUTE_MS, {
      productId: 'p1',
      category: 'electronics',
      price: '10.00',
    }),
    's1',
  ),
  inSession(event('e2', 'u1', 'page_view', 2 * MINUTE_MS, { productId: 'p1' }), 's1'),
  inSession(event('e3', 'u2', 'page_view', 3 * MINUTE_MS, { productId: 'p1' }, 'desktop'), 's2'),
  inSession(
    event(
      'e4',
      'u2',
      'page_view',
      3.5 * MINUTE_MS,
      { productId: 'p2', category: 'books', price: '7.25' },
      'desktop',
    ),
    's2',
  ),
  inSession(
    event('e5', 'u2', 'purchase', 3.5 * MINUTE_MS, { productId: 'p2', amount: '7.25' }, 'desktop'),
    's2',
  ),
  inSession(event('e6', 'u3', 'page_view', 10 * MINUTE_MS, { productId: 'p3' }), 's3'),
  inSession(event('e7', null, 'page_view', 90 * MINUTE_MS, { productId: 'p2' }), 's4'),
];

/** The `/push` body of UI_EVENTS. */
export const UI_PUSH = { push_source_name: 'user_events', df: columns(UI_EVENTS), to: 'online' };
