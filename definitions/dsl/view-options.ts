/**
 * The option schemas every view builder shares (`featureView`, `batchView`): its entities, its
 * source, record expressions, each refused with the same message when it is not one, and the
 * `materialization` schedule `larder scheduler` runs.
 */
import { z } from 'zod';
import { parseDuration } from '../../core/duration.ts';
import { parseCron } from '../batch/cron.ts';
import { Expr } from '../expr/expr.ts';
import type { MaterializationSpec } from '../materialization-spec.ts';
import { isDefinition } from './definition.ts';
import type { EntityDef } from './entity.ts';
import type { AnySourceDef } from './sources.ts';

const isEntity = (v: unknown): v is EntityDef => isDefinition(v) && v.spec.kind === 'entity';
const isSource = (v: unknown): v is AnySourceDef =>
  isDefinition(v) && ['batch_source', 'stream_source', 'push_source'].includes(v.spec.kind);

/** `entities`: one or more `entity(...)` definitions. */
export const entitiesOption = () =>
  z.array(z.custom<EntityDef>(isEntity, 'must be an entity(...) definition')).min(1);

/** `source`: a batch, stream or push source definition. */
export const sourceOption = () =>
  z.custom<AnySourceDef>(isSource, 'must be a batchSource, streamSource or pushSource definition');

/** A record expression (`col(...)`), refused with `message` otherwise. */
export const exprOption = (message: string) => z.custom<Expr>((v) => v instanceof Expr, message);

/** `materialization`: when `larder scheduler` runs `materialize-incremental` for the view. */
export const materializationOption = () =>
  z
    .object({
      every: z.string().optional(),
      offset: z.string().optional(),
      cron: z.string().optional(),
      retries: z.number().int().min(0).max(20).default(0),
      retryDelay: z.string().default('5m'),
      backoff: z.enum(['fixed', 'exponential']).default('fixed'),
      timeout: z.string().optional(),
      catchUp: z.boolean().default(false),
    })
    .strict()
    .optional();

type MaterializationOptions = NonNullable<z.output<ReturnType<typeof materializationOption>>>;

/**
 * The spec of a `materialization` option, or null after reporting its problems. `fallback` is
 * the schedule used without `every`/`cron` (a batch view's snapshot schedule); without one, a
 * schedule is required.
 */
export function materializationSpec(
  o: MaterializationOptions,
  problem: (field: string, message: string, hint?: string) => void,
  fallback: { everyMs: number; offsetMs: number; cron: string | null } | null = null,
): MaterializationSpec | null {
  let ok = true;
  const duration = (field: string, text: string): number | null => {
    const d = parseDuration(text);
    if (typeof d === 'number') return d;
    ok = false;
    problem(`materialization.${field}`, d.error);
    return null;
  };
  let schedule = fallback;
  if (o.cron !== undefined) {
    if (o.every !== undefined || o.offset !== undefined) {
      ok = false;
      problem(
        'materialization.cron',
        'give either cron or every (with an optional offset), not both',
      );
    }
    const c = parseCron(o.cron);
    if ('error' in c) {
      ok = false;
      problem('materialization.cron', c.error, "or use every: '1d' with offset: '2h'");
    } else schedule = { ...c, cron: o.cron };
  } else if (o.every !== undefined) {
    const every = duration('every', o.every);
    const offset = o.offset === undefined ? 0 : duration('offset', o.offset);
    if (every !== null && offset !== null) {
      if (offset >= every) {
        ok = false;
        problem(
          'materialization.offset',
          `offset ${o.offset} must be shorter than every ${o.every}`,
        );
      } else schedule = { everyMs: every, offsetMs: offset, cron: null };
    }
  } else if (o.offset !== undefined) {
    ok = false;
    problem('materialization.offset', 'an offset needs every', "add every: '1d'");
  } else if (!fallback) {
    ok = false;
    problem(
      'materialization',
      'a materialization schedule needs every or cron',
      "add every: '1h' or cron: '0 2 * * *'",
    );
  }
  const retryDelayMs = duration('retryDelay', o.retryDelay);
  const timeoutMs = o.timeout === undefined ? null : duration('timeout', o.timeout);
  if (!ok || !schedule || retryDelayMs === null) return null;
  return {
    everyMs: schedule.everyMs,
    offsetMs: schedule.offsetMs,
    cron: schedule.cron,
    retries: o.retries,
    retryDelayMs,
    backoff: o.backoff,
    timeoutMs,
    catchUp: o.catchUp,
  };
}
