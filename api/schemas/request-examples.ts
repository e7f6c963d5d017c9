/**
 * The request examples of the OpenAPI document: what `/docs` "Try it out" sends as it is. They
 * name the e-commerce example repository's objects (`examples/ecommerce/features/`), and ids
 * that `npm run demo`'s generated data has (`u00001`, `p00001`: the first user and product of
 * `larder gen-data`). Against another repository they answer that repository's precise 4xx
 * (an unknown view, service or model). `test/api/openapi-examples.test.ts` posts each one to a
 * server of the e-commerce repository and checks it succeeds.
 *
 * The bodies are added to the finished document (`withRequestExamples`, as the media type's
 * `example`), not to the route schemas: @fastify/swagger rewrites any key named `properties`
 * inside a schema, the push example's `df.properties` column included.
 */
export const GET_ONLINE_FEATURES_EXAMPLE = {
  features: ['user_activity:page_views_1h', 'user_activity:clicks_1h', 'user_purchases:spend_30d'],
  entities: { user_id: ['u00001', 'u00002'] },
};

export const PUSH_EXAMPLE = {
  push_source_name: 'user_events',
  df: {
    eventId: ['e-docs-example-1'],
    userId: ['u00001'],
    sessionId: ['s-docs-example-1'],
    eventType: ['page_view'],
    timestamp: [Date.UTC(2026, 0, 1)],
    properties: [{ productId: 'p00001', category: 'electronics', price: '19.99' }],
    context: [{ userAgent: 'Mozilla/5.0', ip: '127.0.0.1', platform: 'web', referrer: null }],
  },
  to: 'online',
};

export const PREDICT_EXAMPLE = {
  entities: { user_id: ['u00001', 'u00001'], product_id: ['p00001', 'p00002'] },
};

export const RANK_EXAMPLE = {
  user_id: 'u00001',
  candidates: ['p00001', 'p00002', 'p00003'],
  top_k: 2,
};

/** The `:name` of the model and experiment routes. */
export const MODEL_NAME_EXAMPLE = 'ranker_v1';
export const EXPERIMENT_NAME_EXAMPLE = 'ranker_ab';

/** Example bodies by OpenAPI path (all POST). */
const BODIES: Record<string, unknown> = {
  '/get-online-features': GET_ONLINE_FEATURES_EXAMPLE,
  '/push': PUSH_EXAMPLE,
  '/v1/models/{name}/predict': PREDICT_EXAMPLE,
  '/v1/models/{name}/rank': RANK_EXAMPLE,
  '/v1/experiments/{name}/rank': RANK_EXAMPLE,
};

type Paths = Record<string, Record<string, { requestBody?: { content?: Record<string, object> } }>>;

/** `doc` with each POST route's JSON request body given its example (@fastify/swagger's `transformObject`). */
export function withRequestExamples<T extends { paths?: object }>(doc: T): T {
  const paths = doc.paths as Paths | undefined;
  for (const [path, example] of Object.entries(BODIES)) {
    const media = paths?.[path]?.post?.requestBody?.content?.['application/json'];
    if (media) Object.assign(media, { example });
  }
  return doc;
}
