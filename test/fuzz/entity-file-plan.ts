/**
 * How the fuzzer writes a case's export rows as an entity file (`entity-file-path.ts`): the
 * format and the quirks files have.
 */
import fc from 'fast-check';

export interface EntityFilePlan {
  format: 'csv' | 'jsonl' | 'parquet';
  /** CSV only. */
  delimiter: ',' | ';' | '|' | '\t';
  /** CSV: every field in quotes, not only those that need them. */
  quoteAll: boolean;
  bom: boolean;
  crlf: boolean;
  /** JSON Lines and CSV: blank lines between rows. */
  blankLines: boolean;
  /** `typed`: a Parquet TIMESTAMP (JSON Lines, CSV: ISO-8601 in UTC). */
  time: 'epoch' | 'iso' | 'offset' | 'typed';
}

export const entityFilePlanArb: fc.Arbitrary<EntityFilePlan> = fc.record({
  format: fc.constantFrom('csv' as const, 'jsonl' as const, 'parquet' as const),
  delimiter: fc.constantFrom(',' as const, ';' as const, '|' as const, '\t' as const),
  quoteAll: fc.boolean(),
  bom: fc.boolean(),
  crlf: fc.boolean(),
  blankLines: fc.boolean(),
  time: fc.constantFrom('epoch' as const, 'iso' as const, 'offset' as const, 'typed' as const),
});
