/**
 * The option schemas every view builder shares (`featureView`, `batchView`): its entities, its
 * source, and record expressions, each refused with the same message when it is not one.
 */
import { z } from 'zod';
import { Expr } from '../expr/expr.ts';
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
