/** `sourceStatistics` conformance on the embedded DuckDB store (its sources as exports read them). */
import { duckdbHarness } from './duckdb-harness.ts';
import { describeSourceStatisticsConformance } from './source-statistics-conformance.ts';

describeSourceStatisticsConformance('duckdb', async () =>
  duckdbHarness({ memoryLimit: '1GB', threads: 1 }),
);
