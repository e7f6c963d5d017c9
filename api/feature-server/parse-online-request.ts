/**
 * The hot path's shape check of a `POST /get-online-features` body (no zod here: a few typeof
 * checks). Errors are LARDER_BAD_REQUEST naming the field; other fields are ignored, as Feast's
 * server does. The zod schema `GetOnlineFeaturesBody` (`api/schemas/api-schemas.ts`) documents
 * the same shape for OpenAPI.
 */
import { LarderError } from '../../core/errors.ts';
import type { OnlineFeaturesRequest } from '../../retrieval/get-online-features.ts';

const bad = (field: string, message: string, hint?: string): LarderError =>
  new LarderError('LARDER_BAD_REQUEST', message, hint ? { field, hint } : { field });

/**
 * Checks a parsed JSON body and returns the retrieval request.
 *
 * @example
 * parseOnlineRequest({ feature_service: 'recommendation_v1', entities: { user_id: ['u1'] } });
 */
export function parseOnlineRequest(body: unknown): OnlineFeaturesRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad(
      '(body)',
      'the body must be a JSON object',
      'send {"features": [...], "entities": {...}}',
    );
  // Fields Larder does not use (Feast's `include_feature_view_version_metadata`, ...) are
  // ignored, as Feast's server ignores them.
  const b = body as Record<string, unknown>;
  const { features, feature_service: service, entities, full_feature_names: full } = b;
  let ref: OnlineFeaturesRequest['ref'];
  if (service !== undefined && service !== null) {
    if (features !== undefined && features !== null)
      throw bad('features', 'give either "features" or "feature_service", not both');
    if (typeof service !== 'string' || service === '')
      throw bad('feature_service', '"feature_service" must be a non-empty string');
    ref = { service };
  } else {
    if (!Array.isArray(features))
      throw bad(
        'features',
        features === undefined || features === null
          ? 'missing "features" (or "feature_service")'
          : '"features" must be an array of "view:feature" strings',
      );
    if (features.length === 0) throw bad('features', '"features" is empty');
    for (let i = 0; i < features.length; i++)
      if (typeof features[i] !== 'string')
        throw bad(`features[${i}]`, 'must be a "view:feature" string');
    ref = { features: features as string[] };
  }
  if (typeof entities !== 'object' || entities === null || Array.isArray(entities))
    throw bad(
      'entities',
      entities === undefined ? 'missing "entities"' : '"entities" must be an object of columns',
      'e.g. {"user_id": ["u1", "u2"]}',
    );
  const cols = entities as Record<string, unknown>;
  for (const k in cols)
    if (!Array.isArray(cols[k])) throw bad(`entities.${k}`, `"entities.${k}" must be an array`);
  if (full !== undefined && full !== null && typeof full !== 'boolean')
    throw bad('full_feature_names', '"full_feature_names" must be true or false');
  return {
    ref,
    entities: cols as Record<string, unknown[]>,
    fullFeatureNames: full === true,
  };
}
