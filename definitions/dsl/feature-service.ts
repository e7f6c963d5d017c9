import { z } from 'zod';
import type { FeatureServiceSpec } from '../spec.ts';
import { callSite } from './call-site.ts';
import { NAME_HINT, NAME_RE, parseOptions } from './checks.ts';
import { isDefinition, makeDefinition, type Definition } from './definition.ts';
import { LoggingOption, loggingSpec } from './logging-option.ts';

type ViewLike = Definition & {
  spec: { kind: 'feature_view' | 'on_demand_feature_view' | 'batch_view'; name: string };
};

/** A projection: some features of a view, in order. */
export interface Projection {
  readonly view: ViewLike | string;
  readonly features?: readonly string[];
}

/** Selects some features of a view for a service: `select(userActivity, ['page_views_1h'])`. */
export const select = (view: ViewLike | string, features: readonly string[]): Projection => ({
  view,
  features,
});

const isView = (v: unknown): v is ViewLike =>
  isDefinition(v) &&
  (v.spec.kind === 'feature_view' ||
    v.spec.kind === 'on_demand_feature_view' ||
    v.spec.kind === 'batch_view');

const Options = z
  .object({
    name: z.string().regex(NAME_RE, NAME_HINT),
    features: z
      .array(
        z.union([
          z.custom<ViewLike>(
            isView,
            'must be a feature view, an on-demand view, a batch view, or select(view, [...])',
          ),
          z
            .object({
              view: z.union([z.string(), z.custom<ViewLike>(isView)]),
              features: z.array(z.string()).optional(),
            })
            .strict(),
        ]),
      )
      .min(1),
    description: z.string().default(''),
    logging: LoggingOption.optional(),
  })
  .strict();

export type FeatureServiceDef = Definition<FeatureServiceSpec>;

/**
 * A feature service: the features one model or application reads, served and exported by name.
 * Whole views take every feature; unknown names are reported at validation. `logging` makes
 * `serve` log a `sample` share (0 < sample ≤ 1, default 1) of the service's requests to its
 * destinations (`'parquet'`, the default, `'kafka'` and/or `'bigquery'`;
 * docs/monitoring.md "Feature logging").
 * @example featureService({ name: 'recommendation_v1', features: [userActivity, select(productCatalog, ['price'])] })
 */
export function featureService(options: z.input<typeof Options>): FeatureServiceDef {
  const at = callSite();
  const o = parseOptions(Options, options, 'feature service', at);
  const projections = o.features.map((p) => {
    if (isView(p)) {
      const names = p.spec.features.map((f: { name: string }) => f.name);
      return { view: p.spec.name, features: names };
    }
    const view = typeof p.view === 'string' ? p.view : p.view.spec.name;
    return { view, features: p.features ? [...p.features] : ['*'] };
  });
  return makeDefinition(
    {
      kind: 'feature_service',
      name: o.name,
      projections,
      description: o.description,
      ...(o.logging ? { logging: loggingSpec(o.logging) } : {}),
    } satisfies FeatureServiceSpec,
    at,
    {},
  );
}
