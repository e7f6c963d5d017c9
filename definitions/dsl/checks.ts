import type { z } from 'zod';
import { DefinitionError, type Problem } from '../../core/errors.ts';
import { parseDuration } from '../../core/duration.ts';

/** Object and feature names: lower snake case, as Feast and SQL columns like them. */
export const NAME_RE = /^[a-z][a-z0-9_]*$/;
export const NAME_HINT = 'use lower snake_case: a letter, then letters, digits or underscores';

/** Validates builder options with zod; throws one DefinitionError listing every issue. */
export function parseOptions<S extends z.ZodTypeAny>(
  schema: S,
  input: unknown,
  kind: string,
  at: string,
): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data as z.output<S>;
  const name =
    typeof input === 'object' &&
    input !== null &&
    typeof (input as { name?: unknown }).name === 'string'
      ? (input as { name: string }).name
      : '(unnamed)';
  const problems: Problem[] = r.error.issues.map((i) => ({
    at,
    object: `${kind} "${name}"`,
    field: i.path.join('.'),
    message: i.message,
  }));
  throw new DefinitionError(problems);
}

export function durationMs(text: string, at: string, object: string, field: string): number {
  const d = parseDuration(text);
  if (typeof d === 'number') return d;
  throw new DefinitionError([{ at, object, field, message: d.error }]);
}
