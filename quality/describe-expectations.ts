/**
 * Expectations in words, one line per field, feature or source-wide bound, for `larder
 * describe` and the dashboard's registry tab: `userId: null rate ≤ 0%`, `rows ≥ 1000 per 1d`.
 */
import { formatDuration } from '../core/duration.ts';
import type { SourceExpectations, ValueExpectation } from '../definitions/spec.ts';

const pct = (x: number): string => `${Number((x * 100).toFixed(4))}%`;

/** `null rate ≤ 5%, in [0, 10], one of "a", "b", drift when PSI > 0.1 or p < 0.001`. */
export function describeValueExpectation(e: ValueExpectation): string {
  const parts: string[] = [];
  if (e.maxNullRate !== undefined)
    parts.push(e.maxNullRate === 0 ? 'not null' : `null rate ≤ ${pct(e.maxNullRate)}`);
  if (e.min !== undefined && e.max !== undefined) parts.push(`in [${e.min}, ${e.max}]`);
  else if (e.min !== undefined) parts.push(`≥ ${e.min}`);
  else if (e.max !== undefined) parts.push(`≤ ${e.max}`);
  if (e.allowed) parts.push(`one of ${e.allowed.map((v) => JSON.stringify(v)).join(', ')}`);
  if (e.drift) {
    const when = [
      ...(e.drift.maxPsi !== undefined ? [`PSI > ${e.drift.maxPsi}`] : []),
      ...(e.drift.minPValue !== undefined ? [`p < ${e.drift.minPValue}`] : []),
    ];
    parts.push(`drift when ${when.join(' or ')}`);
  }
  return parts.join(', ');
}

/** Lines of a feature view's expectations, one per feature (none when it declares none). */
export function viewExpectationLines(
  expect: Record<string, ValueExpectation> | undefined,
): string[] {
  return Object.entries(expect ?? {}).map(([name, e]) => `${name}: ${describeValueExpectation(e)}`);
}

/** Lines of a batch source's expectations: per field, then the source-wide bounds. */
export function sourceExpectationLines(expect: SourceExpectations | undefined): string[] {
  if (!expect) return [];
  const lines = viewExpectationLines(expect.fields);
  if (expect.maxRejectRate !== undefined) lines.push(`reject rate ≤ ${pct(expect.maxRejectRate)}`);
  if (expect.minRows)
    lines.push(`rows ≥ ${expect.minRows.count} per ${formatDuration(expect.minRows.perMs)}`);
  if (expect.maxAgeMs !== undefined)
    lines.push(`newest event ≤ ${formatDuration(expect.maxAgeMs)} old`);
  return lines;
}
