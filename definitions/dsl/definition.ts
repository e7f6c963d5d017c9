import type { ObjectSpec } from '../spec.ts';

const DEFINITION = Symbol.for('larder.definition');

/** What every builder returns: the object's serializable spec and where it was defined. */
export interface Definition<S extends ObjectSpec = ObjectSpec> {
  readonly [DEFINITION]: true;
  readonly spec: S;
  /** `file:line` of the builder call. */
  readonly definedAt: string;
}

export function makeDefinition<const S extends ObjectSpec, X extends object>(
  spec: S,
  definedAt: string,
  extra: X,
): Definition<S> & X {
  return Object.freeze({ [DEFINITION]: true as const, spec, definedAt, ...extra });
}

export function isDefinition(v: unknown): v is Definition {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[DEFINITION] === true;
}
