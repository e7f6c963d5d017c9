/** Request and response shapes of the model endpoints (OpenAPI source and validators). */
import { z } from 'zod';

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const PredictBody = z
  .object({
    entities: z
      .record(z.string(), z.array(Scalar))
      .describe(
        'Column-wise entity rows (join keys and request fields) of the model’s feature service',
      ),
  })
  .strict();

export const PredictResponse = z.object({
  model: z.string(),
  version: z.string(),
  scores: z.array(z.number()),
  missing: z
    .array(z.boolean())
    .describe('Per row: a mapped feature was null and was scored with its fill value'),
});

export const RankBody = z
  .object({
    user_id: z.string().min(1).describe('The user to rank for'),
    candidates: z.array(z.string().min(1)).min(1).describe('Candidate product ids'),
    top_k: z.number().int().positive().optional().describe('Return the best k (default: all)'),
  })
  .strict();

export const RankResponse = z.object({
  model: z.string(),
  version: z.string(),
  arm: z.string().nullable().describe('Experiment arm, for /v1/experiments/:name/rank'),
  experiment: z.string().nullable(),
  items: z.array(
    z.object({
      product_id: z.string(),
      score: z.number(),
      missing_features: z
        .array(z.string())
        .describe('Mapped features that had no value (scored with fill values)'),
    }),
  ),
  timing_ms: z.object({ features: z.number(), inference: z.number() }),
});
