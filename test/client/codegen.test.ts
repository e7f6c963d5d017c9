/**
 * `generateClient` / `larder codegen`: the generated types for a repository with request
 * fields, a type-check of the e-commerce client where misspelled services and feature names are
 * compile errors, and the generated client against a listening `larder serve`, whose columns
 * equal what `POST /get-online-features` answers.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClient } from '../../client/codegen.ts';
import type { LarderClient, LarderClientError, ServiceShape } from '../../client/runtime.ts';
import { LarderError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { columns, EVENTS, TRANSACTIONS } from '../api/ecommerce-data.ts';
import { serveRepo, type Served } from '../api/serve-fixture.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';
import { typeCheck } from './type-check.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FEATURES = join(ROOT, 'examples/ecommerce/features');
const run = promisify(execFile);

const REQUEST_REPO = `${BASE_REPO}
import { feature, featureService, onDemandFeatureView, requestField } from 'larder';
export const scored = onDemandFeatureView({
  name: 'scored',
  entities: [user],
  inputs: { text: requestField('price_text', 'string'), kind: feature(activity, 'last_kind', 'string') },
  features: { price: 'float64', known: 'bool' },
  transform: ({ text }) => ({
    price: text.map((t) => (t === null ? null : Number(t))),
    known: text.map((t) => t !== null),
  }),
});
export const scoring = featureService({ name: 'scoring', features: [activity, scored] });
`;

describe('generateClient: types', () => {
  it('types entity rows (join keys, nullable request fields) and every output column', async () => {
    const r = tempRepo({ 'repo.ts': REQUEST_REPO });
    try {
      const repo = await loadRepository(r.dir);
      const [client, runtime] = generateClient(repo);
      expect(client!.path).toBe('client.ts');
      expect(client!.text).toContain(
        '    entities: {\n      user_id: string;\n      price_text: string | null;\n    };\n',
      );
      expect(client!.text).toContain(
        '    columns: {\n      user_id: string;\n      price_text: string;\n      clicks_1h: number;\n' +
          '      spend_7d: number;\n      last_kind: string;\n      price: number;\n      known: boolean;\n    };\n',
      );
      expect(client!.text).toContain('{ fullFeatureNames: false }');
      expect(client!.text).toContain('export type PushSource = never;\n');
      expect(runtime).toEqual({
        path: 'runtime.ts',
        text: readFileSync(join(ROOT, 'client/runtime.ts'), 'utf8'),
      });
      const full = generateClient(repo, { fullFeatureNames: true })[0]!.text;
      expect(full).toContain('      activity__clicks_1h: number;\n');
      expect(full).toContain('      scored__known: boolean;\n');
      expect(full).toContain('{ fullFeatureNames: true }');
    } finally {
      r.cleanup();
    }
  });

  it('refuses a service with two features of one name unless fullFeatureNames', async () => {
    const twin = `${BASE_REPO}
import { featureService } from 'larder';
export const activity2 = featureView({
  name: 'activity2', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '30d',
  features: { clicks_1h: count({ where: col('kind').eq('click'), window: '1h' }) },
});
export const both = featureService({ name: 'both', features: [activity, activity2] });
`;
    const r = tempRepo({ 'repo.ts': twin });
    try {
      const repo = await loadRepository(r.dir);
      expect(() => generateClient(repo)).toThrow(
        expect.objectContaining({
          code: 'LARDER_BAD_REQUEST',
          message: 'feature service "both": feature "clicks_1h" is requested twice',
          hint: 'two of its views have a feature of this name: generate with --full-feature-names (fullFeatureNames: true) to name columns view__feature',
        }),
      );
      const full = generateClient(repo, { fullFeatureNames: true })[0]!.text;
      expect(full).toContain('      activity__clicks_1h: number;\n');
      expect(full).toContain('      activity2__clicks_1h: number;\n');
    } finally {
      r.cleanup();
    }
  });

  it('refuses an unknown service with LARDER_NOT_FOUND naming the known ones', async () => {
    const repo = await loadRepository(FEATURES);
    const e: unknown = (() => {
      try {
        return generateClient(repo, { services: ['recomendation_v1'] });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(LarderError);
    expect(e).toMatchObject({
      code: 'LARDER_NOT_FOUND',
      message: 'unknown feature service "recomendation_v1"',
      hint: 'known services: recommendation_v1, recommendation_v2, risk_v1',
    });
  });
});

const USAGE = `import { createClient, type Services } from './client.js';
const client = createClient({ url: 'http://127.0.0.1:6566', apiKey: 'k', timeoutMs: 100, retries: 1 });
export async function use(): Promise<number | null> {
  const r = await client.getOnlineFeatures('recommendation_v1', [{ user_id: 'u1', product_id: 'p1' }]);
  const views: (number | null)[] = r.columns.page_views_1h.values;
  const match: (boolean | null)[] = r.columns.category_match.values;
  const platform: (string | null)[] = r.columns.last_platform.values;
  const statuses: string[] = r.columns.price.statuses;
  void [match, platform, statuses];
  // @ts-expect-error a misspelled feature service
  await client.getOnlineFeatures('recomendation_v1', [{ user_id: 'u1', product_id: 'p1' }]);
  // @ts-expect-error a misspelled feature name
  void r.columns.page_veiws_1h;
  // @ts-expect-error a join key missing from the row
  await client.getOnlineFeatures('recommendation_v1', [{ user_id: 'u1' }]);
  // @ts-expect-error a number where the join key is a string
  await client.getOnlineFeatures('recommendation_v1', [{ user_id: 1, product_id: 'p1' }]);
  // @ts-expect-error a misspelled push source
  await client.push('user_event', []);
  await client.push('user_events', [], { to: 'online' });
  // @ts-expect-error a number column is not a string
  const wrong: (string | null)[] = r.columns.page_views_1h.values;
  void wrong;
  const one: Services['recommendation_v1']['columns']['spend_30d'] = 1.5;
  return views[0] ?? one;
}
`;

/** The same mistakes without @ts-expect-error: tsc must report each one. */
const MISTAKES = `import { createClient } from './client.js';
const client = createClient({ url: 'http://127.0.0.1:6566' });
export async function mistakes(): Promise<void> {
  const r = await client.getOnlineFeatures('recomendation_v1', [{ user_id: 'u1', product_id: 'p1' }]);
  const s = await client.getOnlineFeatures('recommendation_v1', [{ user_id: 'u1', product_id: 'p1' }]);
  void r;
  void s.columns.page_veiws_1h;
}
`;

describe('generateClient: compile-time checks', () => {
  it('type-checks the e-commerce client; misspelled services and features are compile errors', async () => {
    const t = tempDir();
    try {
      const repo = await loadRepository(FEATURES);
      for (const f of generateClient(repo)) writeFileSync(join(t.dir, f.path), f.text);
      writeFileSync(join(t.dir, 'usage.ts'), USAGE);
      writeFileSync(join(t.dir, 'mistakes.ts'), MISTAKES);
      const out = await typeCheck(t.dir, ['client.ts', 'runtime.ts', 'usage.ts', 'mistakes.ts'], {
        typeRoots: [join(ROOT, 'node_modules/@types')],
      });
      const errors = out
        .split('\n')
        .filter((l) => /error TS\d+/.test(l))
        .map((l) => l.replace(/\(\d+,\d+\)/, '').replace(/: error (TS\d+):.*/, ' $1'));
      // usage.ts is clean (each @ts-expect-error is used); mistakes.ts has exactly its two errors.
      expect(errors).toEqual(['mistakes.ts TS2345', 'mistakes.ts TS2551']);
      expect(out).toContain(
        `'"recomendation_v1"' is not assignable to parameter of type '"recommendation_v1" | "recommendation_v2" | "risk_v1"'`,
      );
      expect(out).toContain("Property 'page_veiws_1h' does not exist");
    } finally {
      t.cleanup();
    }
  }, 60_000);
});

describe('larder codegen', () => {
  it('writes client.ts and runtime.ts for the configured repository, then for the applied one', async () => {
    const home = tempDir();
    const out = join(home.dir, 'client');
    const larder = (...args: string[]) =>
      run('node', ['bin/larder.js', ...args], {
        cwd: ROOT,
        env: { ...process.env, LARDER_HOME: home.dir },
      });
    try {
      const first = await larder('codegen', '--out', out, '--service', 'recommendation_v1');
      expect(first.stdout).toBe(
        `Wrote ${join(out, 'client.ts')}, ${join(out, 'runtime.ts')} (1 feature service).\n`,
      );
      const expected = generateClient(await loadRepository(FEATURES), {
        services: ['recommendation_v1'],
        source: 'the feature repository (no registry applied yet)',
      });
      for (const f of expected) expect(readFileSync(join(out, f.path), 'utf8')).toBe(f.text);

      await larder('apply');
      await larder('codegen', '--out', out);
      expect(readFileSync(join(out, 'client.ts'), 'utf8')).toMatch(
        /^\/\/ Generated by `larder codegen` from the applied registry \(version 1\)\. Do not edit: regenerate\.\n/,
      );
    } finally {
      home.cleanup();
    }
  }, 60_000);
});

type Generated = {
  createClient(o: {
    url: string;
    apiKey?: string;
    retries?: number;
  }): LarderClient<Record<string, ServiceShape>>;
  LarderClientError: typeof LarderClientError;
};

describe('generated client against larder serve', () => {
  let s: Served;
  let url: string;
  let gen: Generated;
  let out: { dir: string; cleanup: () => void };

  beforeAll(async () => {
    s = await serveRepo(FEATURES);
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    out = tempDir();
    for (const f of generateClient(s.repo)) writeFileSync(join(out.dir, f.path), f.text);
    gen = (await import(pathToFileURL(join(out.dir, 'client.ts')).href)) as Generated;
  });
  afterAll(async () => {
    await s?.close();
    out?.cleanup();
  });

  it('pushes, then reads the columns /get-online-features answers, typed by name', async () => {
    const key = s.ctx.keys.create({ scopes: ['read', 'push'] }).key;
    const client = gen.createClient({ url, apiKey: key });
    try {
      const pushed = await client.push('user_events', EVENTS);
      expect(pushed).toMatchObject({ rows: EVENTS.length, replayed: false });
      await client.push('transactions', TRANSACTIONS);

      const rows = [
        { user_id: 'u1', product_id: 'p1' },
        { user_id: 'u2', product_id: 'p3' },
        { user_id: 'nobody', product_id: 'p1' },
      ];
      const got = await client.getOnlineFeatures('recommendation_v1', rows);
      const direct = await s.app.inject({
        method: 'POST',
        url: '/get-online-features',
        headers: { authorization: `Bearer ${key}` },
        payload: { feature_service: 'recommendation_v1', entities: columns(rows) },
      });
      expect(direct.statusCode).toBe(200);
      const body = direct.json() as {
        metadata: { feature_names: string[] };
        results: unknown[];
      };
      expect(got.names).toEqual(body.metadata.feature_names);
      expect(got.names.map((n) => got.columns[n])).toEqual(body.results);
      expect(got.columns['page_views_1h']!.values[0]).toBe(2);
      expect(got.columns['page_views_1h']!.statuses[2]).toBe('NOT_FOUND');
    } finally {
      client.close();
    }
  });

  it('throws Larder’s code for an unknown service and for a missing API key, without retrying', async () => {
    // A key exists, so the server requires one.
    const key = s.ctx.keys.create({ scopes: ['read'] }).key;
    const client = gen.createClient({ url, retries: 3 });
    try {
      const e = await client
        .getOnlineFeatures('recommendation_v1', [{ user_id: 'u1' }])
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(gen.LarderClientError);
      expect(e).toMatchObject({
        code: 'LARDER_UNAUTHENTICATED',
        status: 401,
        feastClass: 'FeastPermissionError',
        attempts: 1,
      });
    } finally {
      client.close();
    }
    const authed = gen.createClient({ url, apiKey: key, retries: 3 });
    try {
      const e = await authed.getOnlineFeatures('nope', []).catch((x: unknown) => x);
      expect(e).toMatchObject({
        code: 'LARDER_NOT_FOUND',
        status: 404,
        feastClass: 'FeatureServiceNotFoundException',
        attempts: 1,
      });
    } finally {
      authed.close();
    }
  });
});
