/**
 * The batch views' commands given wrong or missing arguments (`larder materialize`, `export`
 * over `user_segments`, `product_popularity` and the service `batch_v1` of the e-commerce
 * example, before any raw data): one `error [CODE]` line with a hint that names what would be
 * right, exit code 1, no stack trace. Each case is its own `larder` process.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-repo.ts';

const exec = promisify(execFile);
const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function larder(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const r = await exec('node', ['bin/larder.js', ...args], {
      env: {
        ...process.env,
        LARDER_REPO: 'examples/ecommerce/features',
        LARDER_HOME: join(tmp.dir, 'home'),
        LARDER_DATA_DIR: join(tmp.dir, 'data'),
        LARDER_ONLINE_STORE: `sqlite:${join(tmp.dir, 'online.sqlite')}`,
        LARDER_DEBUG: '',
      },
    });
    return { code: 0, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stderr: string };
    return { code: x.code, stderr: x.stderr };
  }
}

/** The error and hint lines of a failed command (progress lines before them aside). */
const errorLines = (stderr: string): string[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('error') || l.startsWith('  hint:'))
    .map((l) => l.trim());

describe('batch view commands with wrong arguments', () => {
  const entities = join(tmp.dir, 'entities.csv');
  beforeAll(async () => {
    writeFileSync(entities, 'user_id,product_id,event_timestamp\nu1,p1,2026-12-01T00:00:00Z\n');
    expect((await larder('apply')).code).toBe(0);
  }, 60_000);

  it('materialize --views with an unknown name: the hint lists the batch views too', async () => {
    const r = await larder('materialize', '--views', 'user_segmnets', '--end', 'now');
    expect(r.code).toBe(1);
    const [error, hint] = errorLines(r.stderr);
    expect(error).toBe('error [LARDER_NOT_FOUND]: unknown feature view "user_segmnets"');
    expect(hint).toMatch(/^hint: views to materialize: .*user_activity.*/);
    expect(hint).toMatch(/\buser_segments\b/);
    expect(hint).toMatch(/\bproduct_popularity\b/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);

  it('materialize with --start after --end is refused, not an empty run', async () => {
    const r = await larder(
      'materialize',
      '--views',
      'user_segments,user_activity',
      '--start',
      '2026-12-02T00:00:00Z',
      '--end',
      '2026-12-01T00:00:00Z',
    );
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([
      'error [LARDER_BAD_REQUEST]: --start 2026-12-02T00:00:00.000Z is after --end 2026-12-01T00:00:00.000Z',
      'hint: --start is the first event loaded into tiles and --end the end of the loaded history: pass --start before --end, or leave it out',
    ]);
  }, 60_000);

  it('export naming a batch view where a service goes, or a feature it lacks: the hint says what to write', async () => {
    const out = join(tmp.dir, 'out.jsonl');
    const asService = await larder(
      'export',
      '--features',
      'user_segments',
      '--entities',
      entities,
      '--out',
      out,
    );
    expect(asService.code).toBe(1);
    expect(errorLines(asService.stderr)).toEqual([
      'error [LARDER_NOT_FOUND]: unknown feature service "user_segments"',
      'hint: user_segments is a batch view, not a feature service: name its features as view:feature, e.g. user_segments:recency_days (services: batch_v1, recommendation_v1, recommendation_v2, risk_v1)',
    ]);
    const noFeature = await larder(
      'export',
      '--features',
      'product_popularity:popularity',
      '--entities',
      entities,
      '--out',
      out,
    );
    expect(noFeature.code).toBe(1);
    expect(errorLines(noFeature.stderr)).toEqual([
      'error [LARDER_NOT_FOUND]: feature view "product_popularity" has no feature "popularity"',
      'hint: features of product_popularity: popularity_score, distinct_viewers_7d',
    ]);
  }, 60_000);
});
