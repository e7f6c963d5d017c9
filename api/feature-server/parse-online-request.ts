/**
 * The hot path's shape check of a `POST /get-online-features` body (no zod here: a few typeof
 * checks). Errors are LARDER_BAD_REQUEST naming the field; other fields are ignored, as Feast's
 * server does. The zod schema `GetOnlineFeaturesBody` (`api/schemas/api-schemas.ts`) documents
 * the same shape for OpenAPI.
 */
import { badRequest } from '../../core/errors.ts';
import type { OnlineFeaturesRequest } from '../../retrieval/index.ts';

/**
 * Checks a parsed JSON body and returns the retrieval request.
 *
 * @example
 * parseOnlineRequest({ feature_service: 'recommendation_v1', entities: { user_id: ['u1'] } });
 */
export function parseOnlineRequest(body: unknown): OnlineFeaturesRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest(
      '(body)',
      'the body must be a JSON object',
      'send {"features": [...], "entities": {...}}',
      'malformed_body',
    );
  // Fields Larder does not use (Feast's `include_feature_view_version_metadata`, ...) are
  // ignored, as Feast's server ignores them.
  const b = body as Record<string, unknown>;
  const { features, feature_service: service, entities, full_feature_names: full } = b;
  let ref: OnlineFeaturesRequest['ref'];
  if (service !== undefined && service !== null) {
    if (features !== undefined && features !== null)
      throw badRequest(
        'features',
        'give either "features" or "feature_service", not both',
        undefined,
        'conflicting_fields',
      );
    if (typeof service !== 'string' || service === '')
      throw badRequest(
        'feature_service',
        '"feature_service" must be a non-empty string',
        undefined,
        typeof service === 'string' ? 'invalid_value' : 'wrong_type',
      );
    ref = { service };
  } else {
    if (!Array.isArray(features))
      throw badRequest(
        'features',
        features === undefined || features === null
          ? 'missing "features" (or "feature_service")'
          : '"features" must be an array of "view:feature" strings',
        undefined,
        features === undefined || features === null ? 'missing_field' : 'wrong_type',
      );
    if (features.length === 0) throw badRequest('features', '"features" is empty');
    for (let i = 0; i < features.length; i++)
      if (typeof features[i] !== 'string')
        throw badRequest(
          `features[${i}]`,
          'must be a "view:feature" string',
          undefined,
          'wrong_type',
        );
    ref = { features: features as string[] };
  }
  if (typeof entities !== 'object' || entities === null || Array.isArray(entities))
    throw badRequest(
      'entities',
      entities === undefined ? 'missing "entities"' : '"entities" must be an object of columns',
      'e.g. {"user_id": ["u1", "u2"]}',
      entities === undefined ? 'missing_field' : 'wrong_type',
    );
  const cols = entities as Record<string, unknown>;
  for (const k in cols)
    if (!Array.isArray(cols[k]))
      throw badRequest(
        `entities.${k}`,
        `"entities.${k}" must be an array`,
        undefined,
        'wrong_type',
      );
  if (full !== undefined && full !== null && typeof full !== 'boolean')
    throw badRequest(
      'full_feature_names',
      '"full_feature_names" must be true or false',
      undefined,
      'wrong_type',
    );
  return {
    ref,
    entities: cols as Record<string, unknown[]>,
    fullFeatureNames: full === true,
  };
}
