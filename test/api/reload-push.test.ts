/** Push path contract, on-demand request data, and registry hot reload under load. */
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadServing } from '../../api/open-serving.ts';
import { RegistryWatcher } from '../../api/registry-watcher.ts';
import { resolveConfig } from '../../config/config.ts';
import { loadRepository } from '../../definitions/load.ts';
import { BASE_REPO, tempRepo } from '../support/temp-repo.ts';
import { PUSH_REPO, serveRepo, T0, type Served } from './serve-fixture.ts';
import { errorOf } from './error-of.ts';

const REQUEST_DATA = `
import { feature, onDemandFeatureView, requestField } from 'larder';
import { activity, user } from './repo.ts';
export const scaled = onDemandFeatureView({
  name: 'scaled', entities: [user],
  inputs: { spend: feature(activity, 'spend_7d', 'float64'), factor: requestField('factor', 'float64') },
  features: { spend_scaled: 'float64' },
  transform: ({ spend, factor }) => ({ spend_scaled: spend.map((x, i) => (x === null || factor[i] === null ? null : x * factor[i]!)) }),
});
`;

const repo = tempRepo({ 'repo.ts': PUSH_REPO, 'odfv.ts': REQUEST_DATA });
let s: Served;
const post = (url: string, payload: unknown) =>
  s.app.inject({ method: 'POST', url, payload: payload as object });
const push = (rows: Record<string, unknown[]>, to = 'online') =>
  post('/push', { push_source_name: 'events_push', df: rows, to });

beforeAll(async () => {
  s = await serveRepo(repo.dir);
});
afterAll(async () => {
  await s?.close();
  repo.cleanup();
});

describe('POST /push', () => {
  it('changes served values, and appends to the offline store on request', async () => {
    const read = async () =>
      (
        await post('/get-online-features', {
          features: ['activity:clicks_1h', 'activity:spend_7d', 'activity:last_kind'],
          entities: { user_id: ['u1'] },
        })
      )
        .json()
        .results.slice(1)
        .map((r: { values: unknown[] }) => r.values[0]);
    expect(await read()).toEqual([0, 0, null]);
    const r = await push(
      {
        id: ['a', 'b'],
        userId: ['u1', 'u1'],
        kind: ['click', 'view'],
        amount: [2.5, 4],
        ts: [T0 - 60_000, T0 - 30_000],
      },
      'online_and_offline',
    );
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ rows: 2, views: ['activity'] });
    expect(await read()).toEqual([1, 6.5, 'view']);
    const file = r.json().file as string;
    expect(existsSync(file)).toBe(true);
    expect(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(['a', 'b']);
    await push(
      { id: ['c'], userId: ['u1'], kind: ['click'], amount: [1], ts: [T0 - 10_000] },
      'offline',
    );
    expect(await read()).toEqual([1, 6.5, 'view']);
  });

  it('rejects a bad row with 400 naming the row and field, applying nothing', async () => {
    const r = await push({
      id: ['x', 'y'],
      userId: ['u9', 'u9'],
      kind: ['click', 'click'],
      amount: [1, 'lots'],
      ts: [T0, T0],
    });
    expect(r.statusCode).toBe(400);
    expect(errorOf(r)).toMatchObject({ code: 'LARDER_BAD_REQUEST', field: 'df.amount[1]' });
    expect(errorOf(r).message).toContain('row 1: field "amount": expected float64, got string');
    const after = await post('/get-online-features', {
      features: ['activity:clicks_1h'],
      entities: { user_id: ['u9'] },
    });
    expect(after.json().results[1].statuses).toEqual(['NOT_FOUND']);
    const unknown = await post('/push', { push_source_name: 'nope', df: { id: ['x'] } });
    expect(unknown.statusCode).toBe(404);
    const ragged = await push({ id: ['x', 'y'], userId: ['u9'] });
    expect(ragged.statusCode).toBe(400);
  });
});

describe('on-demand features with request data', () => {
  it('takes request fields as extra entity columns', async () => {
    const r = await post('/get-online-features', {
      features: ['scaled:spend_scaled'],
      entities: { user_id: ['u1', 'u1'], factor: [2, 0.5] },
    });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.metadata.feature_names).toEqual(['user_id', 'factor', 'spend_scaled']);
    expect(body.results[2].values).toEqual([13, 3.25]);
    const missing = await post('/get-online-features', {
      features: ['scaled:spend_scaled'],
      entities: { user_id: ['u1'] },
    });
    expect(missing.statusCode).toBe(400);
    expect(errorOf(missing).field).toBe('entities.factor');
  });
});

describe('registry hot reload', () => {
  it('swaps the repository while requests run, failing none', async () => {
    const changed = tempRepo({
      'repo.ts': BASE_REPO.replace(
        "last_kind: last(col('kind')),",
        "last_kind: last(col('kind')),\n    max_amount_1h: max(col('amount'), { window: '1h' }),",
      ).replace('import { batchSource,', 'import { max, batchSource,'),
      'odfv.ts': REQUEST_DATA,
    });
    try {
      const config = resolveConfig({}, s.home, { LARDER_HOME: s.home });
      let inFlight = 0;
      let failures = 0;
      let done = false;
      const loop = async (): Promise<void> => {
        while (!done) {
          inFlight++;
          const r = await post('/get-online-features', {
            features: ['activity:clicks_1h'],
            entities: { user_id: ['u1'] },
          });
          if (r.statusCode !== 200) failures++;
          inFlight--;
        }
      };
      const loops = [loop(), loop(), loop(), loop()];
      await new Promise((r) => setTimeout(r, 50));
      const before = s.ctx.state.current;
      await reloadServing(config, s.ctx.state, {
        graceMs: 100,
        open: async () => ({
          repo: await loadRepository(changed.dir),
          store: before.store,
          version: 2,
          loadedAt: Date.now(),
        }),
      });
      await new Promise((r) => setTimeout(r, 50));
      done = true;
      await Promise.all(loops);
      expect(failures).toBe(0);
      expect(inFlight).toBe(0);
      const r = await post('/get-online-features', {
        features: ['activity:max_amount_1h'],
        entities: { user_id: ['u1'] },
      });
      expect(r.statusCode, r.body).toBe(200);
      expect(s.ctx.state.current.version).toBe(2);
    } finally {
      changed.cleanup();
    }
  });

  it('notices registry.json changes and calls reload once per change', async () => {
    const path = join(s.home, 'registry.json');
    const seen: string[] = []; // the file's content at each reload
    const w = new RegistryWatcher(s.home, async () => void seen.push(readFileSync(path, 'utf8')), {
      pollMs: 50,
    });
    w.start();
    try {
      // Four changes, each with its own mtime (whole seconds apart, so no file system merges
      // them); each waits for its reload. A second reload of a change would be in `seen` by
      // the next change's check (fs events and polls are handled in order).
      const base = Math.floor(Date.now() / 1000) + 10;
      for (let i = 1; i <= 4; i++) {
        writeFileSync(path, `{"format":1,"change":${i}}`);
        utimesSync(path, base + i, base + i);
        for (let j = 0; j < 250 && seen.length < i; j++)
          await new Promise((r) => setTimeout(r, 20));
        expect(seen).toEqual(Array.from({ length: i }, (_, k) => `{"format":1,"change":${k + 1}}`));
      }
    } finally {
      w.stop();
    }
  });
});
