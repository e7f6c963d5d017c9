import { z } from 'zod';
import type { FeatureLoggingSpec } from '../spec.ts';

/** Where `serve` logs what it served (docs/monitoring.md "Feature logging"). */
export const LOG_DESTINATIONS = ['parquet', 'kafka', 'bigquery'] as const;

/** `logging: { sample, destination }` of a feature service or a model. */
export const LoggingOption = z
  .object({
    sample: z.number().gt(0).lte(1).default(1),
    destination: z
      .union([z.enum(LOG_DESTINATIONS), z.array(z.enum(LOG_DESTINATIONS)).min(1)])
      .default('parquet'),
  })
  .strict();

/**
 * The spec of a parsed `logging` option: destinations deduplicated, in declaration order.
 * @example loggingSpec({ sample: 1, destination: 'kafka' }) // { sample: 1, destinations: ['kafka'] }
 */
export function loggingSpec(o: z.output<typeof LoggingOption>): FeatureLoggingSpec {
  return {
    sample: o.sample,
    destinations: [...new Set(typeof o.destination === 'string' ? [o.destination] : o.destination)],
  };
}
