import { z } from 'zod';
import { DefinitionError } from '../../core/errors.ts';
import type { OdfvInputSpec, OnDemandFeatureViewSpec } from '../spec.ts';
import { SCALAR_TYPES, type ValueOf, type ValueType } from '../../core/types.ts';
import { callSite } from './call-site.ts';
import { NAME_HINT, NAME_RE, parseOptions } from './checks.ts';
import { isDefinition, makeDefinition, type Definition } from './definition.ts';
import type { EntityDef } from './entity.ts';
import type { FeatureViewDef } from './feature-view.ts';

/** An on-demand input: a feature of a feature view, or a field of the request. */
export interface OdfvInput<T extends ValueType = ValueType> {
  readonly spec: OdfvInputSpec;
  readonly type: T;
}

/**
 * A typed reference to a view's feature as an on-demand input. The declared type is checked
 * against the feature's real type when definitions are validated.
 * @example feature(userActivity, 'last_event_ts', 'int64')
 */
export function feature<F extends string, T extends ValueType>(
  view: FeatureViewDef<F> | string,
  name: F,
  type: T,
): OdfvInput<T> {
  const v = typeof view === 'string' ? view : view.spec.name;
  return { spec: { from: 'feature', view: v, feature: name, type }, type };
}

/** A field of the request (passed as an extra column of `entities`, as Feast does). */
export function requestField<T extends ValueType>(field: string, type: T): OdfvInput<T> {
  return { spec: { from: 'request', field, type }, type };
}

type Column<T extends ValueType> = (ValueOf<T> | null)[];

/** What a transform receives: one column per input, all of length `size`. */
export type OdfvColumns<I extends Record<string, OdfvInput>> = {
  [K in keyof I]: Column<I[K]['type']>;
};

export interface OdfvContext {
  /** Rows in this batch. */
  size: number;
  /** Each row's evaluation time t (epoch ms): the request time online, the row's event_timestamp offline. */
  timestamps: readonly number[];
}

export type OdfvTransform<
  I extends Record<string, OdfvInput>,
  O extends Record<string, ValueType>,
> = (inputs: OdfvColumns<I>, ctx: OdfvContext) => { [K in keyof O]: Column<O[K]> };

export type OnDemandFeatureViewDef = Definition<OnDemandFeatureViewSpec> & {
  readonly entityDefs: readonly EntityDef[];
  /** Column-wise transform: the same function serves online requests and offline batches. */
  readonly transform: (
    inputs: Record<string, unknown[]>,
    ctx: OdfvContext,
  ) => Record<string, unknown[]>;
};

const Options = z
  .object({
    name: z.string().regex(NAME_RE, NAME_HINT),
    entities: z
      .array(
        z.custom<EntityDef>(
          (v) => isDefinition(v) && v.spec.kind === 'entity',
          'must be an entity(...) definition',
        ),
      )
      .min(1),
    inputs: z.record(
      z.string(),
      z.custom<OdfvInput>(
        (v) => typeof v === 'object' && v !== null && 'spec' in v && 'type' in v,
        "must be feature(view, 'name', 'type') or requestField('name', 'type')",
      ),
    ),
    features: z.record(z.string().regex(NAME_RE, NAME_HINT), z.enum(SCALAR_TYPES)),
    transform: z.function(),
    description: z.string().default(''),
  })
  .strict();

/**
 * An on-demand feature view: a typed, column-wise TypeScript function over other features and
 * request data, evaluated at request time online and at each row's timestamp in exports.
 *
 * @example
 * export const userRecency = onDemandFeatureView({
 *   name: 'user_recency', entities: [user],
 *   inputs: { last_event_ts: feature(userActivity, 'last_event_ts', 'int64') },
 *   features: { last_activity_days_ago: 'int64' },
 *   transform: ({ last_event_ts }, { timestamps }) => ({
 *     last_activity_days_ago: last_event_ts.map((ts, i) => ts === null ? null : Math.floor((timestamps[i]! - ts) / 86_400_000)),
 *   }),
 * });
 */
export function onDemandFeatureView<
  const I extends Record<string, OdfvInput>,
  const O extends Record<string, ValueType>,
>(options: {
  name: string;
  entities: EntityDef[];
  inputs: I;
  features: O;
  transform: OdfvTransform<I, O>;
  description?: string;
}): OnDemandFeatureViewDef {
  const at = callSite();
  const o = parseOptions(Options, options, 'on-demand feature view', at);
  if (Object.keys(o.features).length === 0) {
    throw new DefinitionError([
      {
        at,
        object: `on-demand feature view "${o.name}"`,
        field: 'features',
        message: 'declare at least one output feature',
      },
    ]);
  }
  const inputs: Record<string, OdfvInputSpec> = {};
  for (const [k, v] of Object.entries(o.inputs)) inputs[k] = v.spec;
  const spec: OnDemandFeatureViewSpec = {
    kind: 'on_demand_feature_view',
    name: o.name,
    entities: o.entities.map((e) => e.spec.name),
    inputs,
    features: Object.entries(o.features).map(([name, type]) => ({ name, type, description: '' })),
    transformSource: options.transform.toString(),
    description: o.description,
  };
  return makeDefinition(spec, at, {
    entityDefs: o.entities,
    transform: options.transform as unknown as OnDemandFeatureViewDef['transform'],
  });
}

/** Wraps a row-wise function into a column-wise transform. */
export function rowwise<I extends Record<string, OdfvInput>, O extends Record<string, ValueType>>(
  outputs: O,
  fn: (
    row: { [K in keyof I]: ValueOf<I[K]['type']> | null },
    t: number,
  ) => { [K in keyof O]: ValueOf<O[K]> | null },
): OdfvTransform<I, O> {
  return (inputs, ctx) => {
    const out = Object.fromEntries(
      Object.keys(outputs).map((k) => [k, new Array(ctx.size)]),
    ) as Record<string, unknown[]>;
    const keys = Object.keys(inputs) as (keyof I)[];
    const row = {} as Record<keyof I, unknown>;
    for (let i = 0; i < ctx.size; i++) {
      for (const k of keys) row[k] = inputs[k][i];
      const r = fn(row as Parameters<typeof fn>[0], ctx.timestamps[i] as number) as Record<
        string,
        unknown
      >;
      for (const k in out) (out[k] as unknown[])[i] = r[k] ?? null;
    }
    return out as ReturnType<OdfvTransform<I, O>>;
  };
}
