/**
 * A smoke test against real BigQuery: runs only with `LARDER_BIGQUERY_PROJECT` (and
 * `LARDER_BIGQUERY_DATASET`, default `larder_test`) set and Google credentials available
 * (`GOOGLE_APPLICATION_CREDENTIALS` or gcloud's application-default credentials). It exports
 * a few `recommendation_v1` rows from the dataset's `user_events` / `transactions` tables to
 * Parquet and checks the shape (values are covered by the emulator conformance run).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BigQueryOfflineStore } from '../../offline/bigquery/bigquery-offline-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import { tempDir } from '../support/temp-repo.ts';

const project = process.env.LARDER_BIGQUERY_PROJECT;
const dataset = process.env.LARDER_BIGQUERY_DATASET ?? 'larder_test';
const adc = join(homedir(), '.config/gcloud/application_default_credentials.json');
const credentials = Boolean(process.env.GOOGLE_APPLICATION_CREDENTIALS) || existsSync(adc);
const reason = !project
  ? 'LARDER_BIGQUERY_PROJECT is not set'
  : !credentials
    ? 'no Google credentials (GOOGLE_APPLICATION_CREDENTIALS or gcloud ADC)'
    : '';

describe('BigQuery offline store (live)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it.skipIf(reason !== '')(
    `exports recommendation_v1 from ${project ?? '<project>'}.${dataset}${reason ? ` — skipped: ${reason}` : ''}`,
    async () => {
      const repo = await loadRepository('examples/ecommerce/features');
      const store = new BigQueryOfflineStore({
        type: 'bigquery',
        project: project!,
        dataset,
        home: tmp.dir,
      });
      await store.init();
      try {
        const features = repo.resolveFeatures({ service: 'recommendation_v1' });
        const t = Date.now();
        const s = await store.exportPointInTime({
          repo,
          features,
          entities: {
            type: 'rows',
            rows: [
              { user_id: 'u00001', product_id: 'p00001', event_timestamp: t },
              { user_id: 'nobody', product_id: 'p-none', event_timestamp: t },
            ],
          },
          out: { type: 'memory' },
        });
        expect(s.rows).toBe(2);
        expect(s.data![1]).toMatchObject({ page_views_1h: 0, last_platform: null });
        expect(Object.keys(s.data![0]!)).toHaveLength(3 + features.length);
      } finally {
        await store.close();
      }
    },
    300_000,
  );
});
