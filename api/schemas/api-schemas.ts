/**
 * The HTTP API's request and response shapes as zod schemas: the source of the OpenAPI
 * document (zod-to-json-schema → @fastify/swagger) and the validator of the cold routes
 * (`/push`). The hot route checks the same shape by hand (`parse-online-request.ts`).
 */
import { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { BAD_REQUEST_REASONS } from '../../core/errors.ts';

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** A feature value: a scalar, null, or a list (`lastN`: `["p3","p1"]`, `[]` when empty). */
const FeatureValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z
    .array(z.union([z.string(), z.number()]))
    .describe('a list feature (string_list, int64_list, float64_list)'),
]);

export const GetOnlineFeaturesBody = z
  .object({
    features: z
      .array(z.string())
      .optional()
      .describe('Feature references "view:feature" (or give feature_service)'),
    feature_service: z.string().optional().describe('A feature service name'),
    entities: z
      .record(z.string(), z.array(Scalar))
      .describe('Column-wise entity rows: join keys and request-data fields'),
    full_feature_names: z
      .boolean()
      .optional()
      .describe('Name features "view__feature" instead of "feature"'),
    include_feature_view_version_metadata: z
      .boolean()
      .optional()
      .describe("Sent by Feast's SDK; accepted and ignored (as any other unknown field)"),
  })
  .passthrough();

export const GetOnlineFeaturesResponse = z.object({
  metadata: z.object({ feature_names: z.array(z.string()) }),
  results: z.array(
    z.object({
      values: z.array(FeatureValue),
      statuses: z.array(z.enum(['PRESENT', 'NULL_VALUE', 'NOT_FOUND', 'OUTSIDE_MAX_AGE'])),
      event_timestamps: z.array(z.string().describe('RFC 3339, e.g. 2026-01-01T00:00:00Z')),
    }),
  ),
});

export const PushBody = z
  .object({
    push_source_name: z
      .string()
      .min(1)
      .describe('A push source, or a stream source (Larder treats stream sources as pushable)'),
    df: z
      .record(z.string(), z.array(z.unknown()))
      .describe('Column-wise records of the source (its batch source schema)'),
    to: z.enum(['online', 'offline', 'online_and_offline']).default('online'),
    allow_registry_cache: z
      .boolean()
      .optional()
      .describe('Accepted for Feast compatibility, ignored'),
    transform_on_write: z
      .boolean()
      .optional()
      .describe(
        'Accepted for Feast compatibility, ignored (Larder computes on-demand features at read time); so is any other unknown field',
      ),
  })
  .passthrough();

export const PushResponse = z.object({
  rows: z.number().int(),
  views: z.array(z.string()),
  file: z.string().nullable(),
});

export const ErrorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    hint: z.string().optional(),
    /** LARDER_BAD_REQUEST only (docs/errors.md). */
    reason: z.enum(BAD_REQUEST_REASONS).optional(),
  }),
});

/**
 * An error on Feast's routes: a JSON string holding Feast's error detail (see
 * `api/feature-server/feast-error.ts`).
 */
export const FeastErrorResponse = z
  .string()
  .describe(
    'JSON text of {"module": "feast.errors", "class": "<Feast exception>", "message", "code", "field"?, "hint"?}, as Feast\'s feature server sends it',
  );

export const HealthResponse = z.object({ status: z.string() });

/** JSON Schema (OpenAPI 3 flavour) of a zod schema, for route `schema` blocks. */
export const jsonSchema = (s: z.ZodTypeAny): Record<string, unknown> => {
  const out = zodToJsonSchema(s, { target: 'openApi3', $refStrategy: 'none' }) as Record<
    string,
    unknown
  >;
  delete out.$schema;
  return out;
};
