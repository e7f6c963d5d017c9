import { z } from 'zod';
import type { ExperimentSpec, ModelSpec } from '../spec.ts';
import { callSite } from './call-site.ts';
import { NAME_HINT, NAME_RE, parseOptions } from './checks.ts';
import { isDefinition, makeDefinition, type Definition } from './definition.ts';
import type { FeatureServiceDef } from './feature-service.ts';
import { LoggingOption, loggingSpec } from './logging-option.ts';

const ModelInput = z
  .object({
    feature: z.string().regex(/^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$/, 'write "view:feature"'),
    transform: z.enum(['float', 'bool', 'one_hot', 'index']).default('float'),
    vocabulary: z.array(z.string()).optional(),
    fill: z.number().default(0),
    missingIndicator: z.boolean().default(false),
  })
  .strict();

const ModelOptions = z
  .object({
    name: z.string().regex(NAME_RE, NAME_HINT),
    version: z.string().min(1),
    path: z.string().min(1),
    service: z.union([
      z.string(),
      z.custom<FeatureServiceDef>((v) => isDefinition(v) && v.spec.kind === 'feature_service'),
    ]),
    inputName: z.string().default('input'),
    outputName: z.string().optional(),
    inputs: z.array(ModelInput).min(1),
    description: z.string().default(''),
    logging: LoggingOption.optional(),
  })
  .strict();

export type ModelDef = Definition<ModelSpec>;

/**
 * An ONNX model scored on a feature service's features. `inputs` is the ordered mapping from
 * features to the model's float32 input tensor (one column per number/bool, one per vocabulary
 * entry for one-hot strings, plus an optional missing-indicator column). `logging` makes `serve`
 * log a `sample` share of the model's scoring requests (`/predict`, `/rank`, and experiments'
 * arms running it) with the scores, like a feature service's (docs/monitoring.md "Feature
 * logging").
 */
export function model(options: z.input<typeof ModelOptions>): ModelDef {
  const at = callSite();
  const o = parseOptions(ModelOptions, options, 'model', at);
  const spec: ModelSpec = {
    kind: 'model',
    name: o.name,
    version: o.version,
    path: o.path,
    service: typeof o.service === 'string' ? o.service : o.service.spec.name,
    inputName: o.inputName,
    outputName: o.outputName ?? null,
    inputs: o.inputs.map((i) => ({ ...i, vocabulary: i.vocabulary ?? null })),
    description: o.description,
    ...(o.logging ? { logging: loggingSpec(o.logging) } : {}),
  };
  return makeDefinition(spec, at, {});
}

const ExperimentOptions = z
  .object({
    name: z.string().regex(NAME_RE, NAME_HINT),
    arms: z
      .array(
        z
          .object({
            name: z.string().regex(NAME_RE, NAME_HINT),
            model: z.union([
              z.string(),
              z.custom<ModelDef>((v) => isDefinition(v) && v.spec.kind === 'model'),
            ]),
            percent: z.number().min(0).max(100),
          })
          .strict(),
      )
      .min(2),
    hashKey: z.string().default('user_id'),
    description: z.string().default(''),
  })
  .strict()
  .refine((o) => Math.abs(o.arms.reduce((s, a) => s + a.percent, 0) - 100) < 1e-9, {
    message: 'arm percentages must add up to 100',
    path: ['arms'],
  });

export type ExperimentDef = Definition<ExperimentSpec>;

/** An A/B experiment: traffic split between models by a stable hash of `hashKey` (sticky per user). */
export function experiment(options: z.input<typeof ExperimentOptions>): ExperimentDef {
  const at = callSite();
  const o = parseOptions(ExperimentOptions, options, 'experiment', at);
  const spec: ExperimentSpec = {
    kind: 'experiment',
    name: o.name,
    arms: o.arms.map((a) => ({
      name: a.name,
      model: typeof a.model === 'string' ? a.model : a.model.spec.name,
      percent: a.percent,
    })),
    hashKey: o.hashKey,
    description: o.description,
  };
  return makeDefinition(spec, at, {});
}
