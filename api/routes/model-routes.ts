/**
 * Model serving: `POST /v1/models/:name/predict`, `POST /v1/models/:name/rank` and
 * `POST /v1/experiments/:name/rank`. Features come from the online store in one read, the
 * model runs in this process (onnxruntime-node) as one batched run.
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { assignArm } from '../../models/experiment-router.ts';
import type { ModelRuntime } from '../../models/model-runtime.ts';
import { scoreRows } from '../../models/score-rows.ts';
import { LarderError } from '../../core/errors.ts';
import { logScored } from '../feature-server/log-served.ts';
import { ErrorResponse, jsonSchema } from '../schemas/api-schemas.ts';
import { EXPERIMENT_NAME_EXAMPLE, MODEL_NAME_EXAMPLE } from '../schemas/request-examples.ts';
import { zodIssueField, zodIssueReason } from '../schemas/zod-issue-reason.ts';
import { PredictBody, PredictResponse, RankBody, RankResponse } from '../schemas/model-schemas.ts';
import type { ServerContext } from '../server-context.ts';
import type { ServingSnapshot } from '../serving-state.ts';

function parse<S extends z.ZodTypeAny>(schema: S, body: unknown, hint: string): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data as z.output<S>;
  const issue = r.error.issues[0]!;
  const field = zodIssueField(issue);
  throw new LarderError('LARDER_BAD_REQUEST', `${field}: ${issue.message}`, {
    field,
    hint,
    detail: { reason: zodIssueReason(issue) },
  });
}

function modelOf(snap: ServingSnapshot, name: string): ModelRuntime {
  const m = snap.models?.get(name);
  if (!m) {
    throw new LarderError('LARDER_NOT_FOUND', `unknown model "${name}"`, {
      hint: `models: ${[...(snap.models?.keys() ?? [])].join(', ') || '(none)'}`,
    });
  }
  return m;
}

/** The join key candidates fill: the model service's join key other than `user_id`. */
function candidateKey(snap: ServingSnapshot, model: ModelRuntime): string {
  const svc = snap.repo.services.get(model.spec.service);
  const keys = new Set<string>();
  for (const p of svc?.spec.projections ?? []) {
    const v =
      snap.repo.featureViews.get(p.view) ??
      snap.repo.onDemandViews.get(p.view) ??
      snap.repo.batchViews.get(p.view);
    for (const e of v?.spec.entities ?? []) keys.add(snap.repo.entities.get(e)!.spec.joinKey);
  }
  keys.delete('user_id');
  if (keys.size !== 1) {
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `model "${model.spec.name}" does not score (user, candidate) pairs: its service is keyed by ${[...keys, 'user_id'].join(', ')}`,
      {
        hint: 'use /predict with column-wise entities',
        detail: { reason: 'unsupported_operation' },
      },
    );
  }
  return [...keys][0]!;
}

const RANK_HINT = 'send {"user_id": "u1", "candidates": ["p1", "p2"], "top_k": 10}';

export function modelRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const onStoreRead = (ms: number): void => ctx.metrics.storeSeconds.observe(ms / 1000);

  async function rank(
    snap: ServingSnapshot,
    model: ModelRuntime,
    body: z.output<typeof RankBody>,
    arm: string | null,
    experiment: string | null,
  ) {
    if (new Set(body.candidates).size !== body.candidates.length) {
      throw new LarderError('LARDER_BAD_REQUEST', 'candidates: duplicate product ids', {
        field: 'candidates',
        hint: 'send each candidate once',
        detail: { reason: 'duplicate' },
      });
    }
    const key = candidateKey(snap, model);
    const r = await scoreRows(
      snap,
      ctx,
      model,
      { user_id: body.candidates.map(() => body.user_id), [key]: body.candidates },
      onStoreRead,
    );
    ctx.metrics.inferenceSeconds.observe({ model: model.spec.name }, r.inferenceMs / 1000);
    // Every scored candidate is logged (not only the top_k returned).
    if (ctx.featureLog) logScored(ctx.featureLog, model.spec, r, arm);
    const items = body.candidates
      .map((c, i) => ({
        product_id: c,
        score: r.scores[i]!,
        missing_features: r.missingFeatures[i]!,
      }))
      .sort((a, b) => b.score - a.score || (a.product_id < b.product_id ? -1 : 1))
      .slice(0, body.top_k ?? body.candidates.length);
    return {
      model: model.spec.name,
      version: model.spec.version,
      arm,
      experiment,
      items,
      timing_ms: { features: r.featureMs, inference: r.inferenceMs },
    };
  }

  const common = (
    summary: string,
    body: z.ZodTypeAny,
    response: z.ZodTypeAny,
    example: { name: string; of: string },
  ) => ({
    config: { scope: 'read' as const },
    schema: {
      summary,
      params: {
        type: 'object',
        properties: {
          name: { type: 'string', description: `the ${example.of}'s name`, example: example.name },
        },
        required: ['name'],
      },
      body: jsonSchema(body),
      response: {
        200: jsonSchema(response),
        '4xx': jsonSchema(ErrorResponse),
        '5xx': jsonSchema(ErrorResponse),
      },
    },
  });

  app.post<{ Params: { name: string } }>(
    '/v1/models/:name/predict',
    common('Score entity rows with a model', PredictBody, PredictResponse, {
      name: MODEL_NAME_EXAMPLE,
      of: 'model',
    }),
    async (request) => {
      const snap = ctx.state.current;
      const model = modelOf(snap, request.params.name);
      const body = parse(
        PredictBody,
        request.body,
        'send {"entities": {"user_id": ["u1"], "product_id": ["p1"]}}',
      );
      const r = await scoreRows(snap, ctx, model, body.entities, onStoreRead);
      ctx.metrics.inferenceSeconds.observe({ model: model.spec.name }, r.inferenceMs / 1000);
      if (ctx.featureLog) logScored(ctx.featureLog, model.spec, r, null);
      return {
        model: model.spec.name,
        version: model.spec.version,
        scores: [...r.scores],
        missing: r.missing,
      };
    },
  );

  app.post<{ Params: { name: string } }>(
    '/v1/models/:name/rank',
    common('Rank candidate products for a user', RankBody, RankResponse, {
      name: MODEL_NAME_EXAMPLE,
      of: 'model',
    }),
    async (request) => {
      const snap = ctx.state.current;
      const model = modelOf(snap, request.params.name);
      return rank(snap, model, parse(RankBody, request.body, RANK_HINT), null, null);
    },
  );

  app.post<{ Params: { name: string } }>(
    '/v1/experiments/:name/rank',
    common('Rank with the experiment arm assigned to the user', RankBody, RankResponse, {
      name: EXPERIMENT_NAME_EXAMPLE,
      of: 'experiment',
    }),
    async (request) => {
      const snap = ctx.state.current;
      const exp = snap.repo.experiments.get(request.params.name);
      if (!exp) {
        throw new LarderError('LARDER_NOT_FOUND', `unknown experiment "${request.params.name}"`, {
          hint: `experiments: ${[...snap.repo.experiments.keys()].join(', ') || '(none)'}`,
        });
      }
      const body = parse(RankBody, request.body, RANK_HINT);
      const arm = assignArm(exp.spec, body.user_id);
      ctx.metrics.experimentAssignments.inc({ experiment: exp.spec.name, arm: arm.name });
      return rank(snap, modelOf(snap, arm.model), body, arm.name, exp.spec.name);
    },
  );
}
