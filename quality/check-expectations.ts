/**
 * Expectations (`expect` of sources and feature views) checked against statistics: one
 * {@link ExpectationCheck} per declared bound, with what was expected and what was found.
 */
import { formatDuration } from '../core/duration.ts';
import type { SourceExpectations, ValueExpectation } from '../definitions/spec.ts';
import type { SourceStatistics, ValueStatistics } from '../offline/offline-store.ts';

export interface ExpectationCheck {
  /** `batch_source:<name>` or `feature_view:<name>`. */
  object: string;
  /** The field or feature, or null for a source-wide expectation. */
  subject: string | null;
  expectation:
    'maxNullRate' | 'min' | 'max' | 'allowed' | 'maxRejectRate' | 'minRows' | 'freshness';
  expected: string;
  actual: string;
  passed: boolean;
}

const pct = (x: number): string => `${(x * 100).toFixed(2).replace(/\.?0+$/, '')}%`;

/** The checks of one value expectation against its statistics. */
export function checkValue(
  object: string,
  e: ValueExpectation,
  s: ValueStatistics,
): ExpectationCheck[] {
  const out: ExpectationCheck[] = [];
  const add = (c: Omit<ExpectationCheck, 'object' | 'subject'>): void => {
    out.push({ object, subject: s.name, ...c });
  };
  if (e.maxNullRate !== undefined) {
    const rate = s.rows === 0 ? 0 : s.nulls / s.rows;
    add({
      expectation: 'maxNullRate',
      expected: `null rate ≤ ${pct(e.maxNullRate)}`,
      actual: `${pct(rate)} (${s.nulls} of ${s.rows})`,
      passed: rate <= e.maxNullRate,
    });
  }
  if (e.min !== undefined)
    add({
      expectation: 'min',
      expected: `≥ ${e.min}`,
      actual: s.min === null ? 'no values' : `min ${s.min}`,
      passed: s.min === null || s.min >= e.min,
    });
  if (e.max !== undefined)
    add({
      expectation: 'max',
      expected: `≤ ${e.max}`,
      actual: s.max === null ? 'no values' : `max ${s.max}`,
      passed: s.max === null || s.max <= e.max,
    });
  if (e.allowed !== undefined) {
    const bad = s.notAllowed ?? 0;
    add({
      expectation: 'allowed',
      expected: `one of ${e.allowed.map((v) => JSON.stringify(v)).join(', ')}`,
      actual: bad === 0 ? 'all allowed' : `${bad} other value${bad === 1 ? '' : 's'}`,
      passed: bad === 0,
    });
  }
  return out;
}

/** The checks of a source's expectations against its statistics, as of the range's end. */
export function checkSource(e: SourceExpectations, s: SourceStatistics): ExpectationCheck[] {
  const object = `batch_source:${s.source}`;
  const out: ExpectationCheck[] = [];
  for (const [field, fe] of Object.entries(e.fields)) {
    const fs = s.fields.find((f) => f.name === field);
    if (fs) out.push(...checkValue(object, fe, fs));
  }
  const add = (c: Omit<ExpectationCheck, 'object' | 'subject'>): void => {
    out.push({ object, subject: null, ...c });
  };
  if (e.maxRejectRate !== undefined) {
    const all = s.rejected + s.sourceRows;
    const rate = all === 0 ? 0 : s.rejected / all;
    add({
      expectation: 'maxRejectRate',
      expected: `reject rate ≤ ${pct(e.maxRejectRate)}`,
      actual: `${pct(rate)} (${s.rejected} of ${all})`,
      passed: rate <= e.maxRejectRate,
    });
  }
  if (e.minRows) {
    const per = formatDuration(e.minRows.perMs);
    const low = s.periods.filter((p) => p.rows < e.minRows!.count);
    const worst = low.reduce<(typeof low)[number] | null>(
      (w, p) => (w === null || p.rows < w.rows ? p : w),
      null,
    );
    add({
      expectation: 'minRows',
      expected: `≥ ${e.minRows.count} rows per ${per}`,
      actual:
        s.periods.length === 0
          ? `no whole ${per} period in the range`
          : worst
            ? `${low.length} of ${s.periods.length} periods under; fewest ${worst.rows} from ${new Date(worst.start).toISOString()}`
            : `every one of ${s.periods.length} periods`,
      passed: low.length === 0,
    });
  }
  if (e.maxAgeMs !== undefined) {
    const age = s.newestEventMs === null ? null : s.end - s.newestEventMs;
    add({
      expectation: 'freshness',
      expected: `newest event ≤ ${formatDuration(e.maxAgeMs)} old at ${new Date(s.end).toISOString()}`,
      actual:
        age === null
          ? 'no events in the range'
          : `newest ${new Date(s.newestEventMs!).toISOString()} (${(age / 60_000).toFixed(1)} min old)`,
      passed: age !== null && age <= e.maxAgeMs,
    });
  }
  return out;
}
