import { z } from 'zod';
import type { EntitySpec } from '../spec.ts';
import { SCALAR_TYPES } from '../../core/types.ts';
import { callSite } from './call-site.ts';
import { NAME_HINT, NAME_RE, parseOptions } from './checks.ts';
import { makeDefinition, type Definition } from './definition.ts';

const EntityOptions = z
  .object({
    name: z.string().regex(NAME_RE, NAME_HINT),
    joinKey: z.string().regex(NAME_RE, NAME_HINT),
    valueType: z.enum(SCALAR_TYPES).default('string'),
    description: z.string().default(''),
  })
  .strict();

export type EntityDef = Definition<EntitySpec>;

/**
 * An entity: the thing features describe, and the join key that identifies it in entity rows.
 * @example export const user = entity({ name: 'user', joinKey: 'user_id' });
 */
export function entity(options: z.input<typeof EntityOptions>): EntityDef {
  const at = callSite();
  const o = parseOptions(EntityOptions, options, 'entity', at);
  return makeDefinition({ kind: 'entity', ...o } satisfies EntitySpec, at, {});
}
