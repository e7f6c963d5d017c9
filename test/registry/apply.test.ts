import { readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LarderError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { applyRepository, versioned } from '../../registry/apply.ts';
import { plan } from '../../registry/plan.ts';
import { readRegistry, registryPath } from '../../registry/registry-file.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function repoOf(text: string) {
  const r = tempRepo({ 'repo.ts': text });
  cleanups.push(r.cleanup);
  return loadRepository(r.dir);
}
function home(): string {
  const d = tempDir();
  cleanups.push(d.cleanup);
  return d.dir;
}

describe('plan and apply', () => {
  it('adds every object on first apply, then re-applying is a no-op', async () => {
    const h = home();
    const repo = await repoOf(BASE_REPO);
    const first = await applyRepository(repo, h);
    expect(first.written).toBe(true);
    expect(first.plan.changes.map((c) => `${c.action} ${c.kind}:${c.name}`)).toEqual([
      'add entity:user',
      'add batch_source:events',
      'add feature_view:activity',
    ]);
    const before = statSync(registryPath(h)).mtimeMs;
    const bytes = readFileSync(registryPath(h), 'utf8');
    const again = await applyRepository(await repoOf(BASE_REPO), h);
    expect(again.written).toBe(false);
    expect(again.plan.changes).toEqual([]);
    expect(again.plan.unchanged).toBe(3);
    expect(statSync(registryPath(h)).mtimeMs).toBe(before);
    expect(readFileSync(registryPath(h), 'utf8')).toBe(bytes);
  });

  it('stores a version and content hash per object, bumping only what changed', async () => {
    const h = home();
    await applyRepository(await repoOf(BASE_REPO), h);
    const changed = BASE_REPO.replace(
      "entity({ name: 'user', joinKey: 'user_id' })",
      "entity({ name: 'user', joinKey: 'user_id', description: 'shopper' })",
    );
    const r = await applyRepository(await repoOf(changed), h);
    expect(r.plan.changes).toEqual([
      {
        action: 'change',
        kind: 'entity',
        name: 'user',
        details: ['~ description "" → shopper'],
        fields: [{ op: '~', path: 'description', before: '', after: 'shopper' }],
        breaking: [],
      },
    ]);
    const reg = readRegistry(h)!;
    expect(reg.version).toBe(2);
    expect(reg.objects['entity:user']!.version).toBe(2);
    expect(reg.objects['feature_view:activity']!.version).toBe(1);
    expect(reg.objects['entity:user']!.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(reg.objects['entity:user']!.hash).not.toBe(reg.objects['feature_view:activity']!.hash);
  });

  it('flags breaking changes and refuses them unless allowed, suggesting a versioned name', async () => {
    const h = home();
    await applyRepository(await repoOf(BASE_REPO), h);
    const next = await repoOf(
      BASE_REPO.replace("window: '7d'", "window: '14d'").replace(
        "last_kind: last(col('kind')),",
        '',
      ),
    );
    const p = plan(readRegistry(h), next.specs());
    const change = p.changes.find((c) => c.name === 'activity')!;
    expect(change.breaking).toEqual([
      'feature spend_7d: windowMs 604800000 → 1209600000',
      'feature spend_7d: hopMs 3600000 → 86400000',
      'feature last_kind removed',
    ]);
    expect(change.details).toEqual([
      '~ features.spend_7d.window 7d → 14d',
      '~ features.spend_7d.hop 1h → 1d',
      '- features.last_kind',
    ]);
    expect(change.fields[0]).toEqual({
      op: '~',
      path: 'features.spend_7d.window',
      before: 604800000,
      after: 1209600000,
    });
    const err = await applyRepository(next, h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LarderError);
    expect((err as LarderError).code).toBe('LARDER_BREAKING_CHANGE');
    expect((err as LarderError).hint).toContain('"activity_v2"');
    expect(readRegistry(h)!.version).toBe(1);
    const forced = await applyRepository(next, h, { allowBreaking: true });
    expect(forced.written).toBe(true);
    expect(readRegistry(h)!.objects['feature_view:activity']!.version).toBe(2);
  });

  it('treats entity and aggregation changes as breaking', async () => {
    const h = home();
    await applyRepository(await repoOf(BASE_REPO), h);
    const next = await repoOf(
      BASE_REPO.replace("sum(col('amount')", "avg(col('amount')").replace(
        /import \{ z \}/,
        "import { avg } from 'larder';\nimport { z }",
      ),
    );
    const p = plan(readRegistry(h), next.specs());
    expect(p.changes[0]!.breaking).toEqual(['feature spend_7d: aggregation sum → avg']);
  });

  it('treats removing an object something depends on as breaking, naming the dependents', async () => {
    const h = home();
    const withService = `${BASE_REPO}
import { featureService } from 'larder';
export const svc = featureService({ name: 'svc', features: [activity] });
`;
    await applyRepository(await repoOf(withService), h);
    // The view and the service that served it both go: a whole object removed.
    const p = plan(readRegistry(h), (await repoOf(BASE_REPO)).specs());
    expect(p.changes).toEqual([
      {
        action: 'remove',
        kind: 'feature_service',
        name: 'svc',
        details: [],
        fields: [],
        breaking: ['removed: clients request it by name'],
      },
    ]);
    expect(p.hasBreaking).toBe(true);
    const gone = plan(
      readRegistry(h),
      (await repoOf(BASE_REPO)).specs().filter((s) => s.kind !== 'feature_view'),
    );
    expect(gone.changes.find((c) => c.name === 'activity')).toEqual({
      action: 'remove',
      kind: 'feature_view',
      name: 'activity',
      details: [],
      fields: [],
      breaking: [
        'removed: feature service "svc" served it',
        'removed: its stored online values and 3 features are no longer served',
      ],
    });
    const err = await applyRepository(await repoOf(BASE_REPO), h).catch((e: unknown) => e);
    expect((err as LarderError).code).toBe('LARDER_BREAKING_CHANGE');
    expect((err as LarderError).message).toContain('feature_service "svc": removed');
    expect(Object.keys(readRegistry(h)!.objects)).toContain('feature_service:svc');
    const forced = await applyRepository(await repoOf(BASE_REPO), h, { allowBreaking: true });
    expect(forced.written).toBe(true);
    expect(Object.keys(readRegistry(h)!.objects)).not.toContain('feature_service:svc');
  });

  it('treats removing an object nothing depends on as breaking too (a removal deletes what others may call)', async () => {
    const h = home();
    const withPush = `${BASE_REPO}
import { pushSource } from 'larder';
export const pushed = pushSource({ name: 'pushed', batchSource: events });
`;
    await applyRepository(await repoOf(withPush), h);
    const p = plan(readRegistry(h), (await repoOf(BASE_REPO)).specs());
    expect(p.changes).toEqual([
      {
        action: 'remove',
        kind: 'push_source',
        name: 'pushed',
        details: [],
        fields: [],
        breaking: ['removed: clients push to it by name'],
      },
    ]);
    const err = await applyRepository(await repoOf(BASE_REPO), h).catch((e: unknown) => e);
    expect((err as LarderError).code).toBe('LARDER_BREAKING_CHANGE');
    expect(readRegistry(h)!.objects['push_source:pushed']).toBeDefined();
  });

  it('refuses to replace the registry of another repository, pointing at LARDER_HOME', async () => {
    const h = home();
    await applyRepository(await repoOf(BASE_REPO), h);
    // A new user's own repository applied to the same home: nothing in common but "user".
    const other = await repoOf(`
import { z } from 'zod';
import { batchSource, col, count, entity, featureView } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const clicks = batchSource({
  name: 'clicks',
  schema: z.object({ id: z.string(), user: z.string(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
export const mine = featureView({
  name: 'mine', entities: [user], source: clicks, keys: { user_id: col('user') }, ttl: '30d',
  features: { clicks_1h: count({ window: '1h' }) },
});
`);
    const err = await applyRepository(other, h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LarderError);
    expect((err as LarderError).code).toBe('LARDER_BREAKING_CHANGE');
    expect((err as LarderError).message).toContain('feature_view "activity": removed');
    expect((err as LarderError).message).toContain('batch_source "events": removed');
    expect((err as LarderError).hint).toContain('applied from another repository');
    expect((err as LarderError).hint).toContain('LARDER_HOME');
    expect(Object.keys(readRegistry(h)!.objects)).toContain('feature_view:activity');
  });

  it('suggests the next version for already-versioned names', () => {
    expect(versioned('user_activity')).toBe('user_activity_v2');
    expect(versioned('recommendation_v1')).toBe('recommendation_v2');
  });

  it('serializes concurrent applies without corrupting the file', async () => {
    const h = home();
    const a = await repoOf(BASE_REPO);
    const b = await repoOf(
      BASE_REPO.replace(
        "entity({ name: 'user', joinKey: 'user_id' })",
        "entity({ name: 'user', joinKey: 'user_id', description: 'b' })",
      ),
    );
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        applyRepository(i % 2 ? b : a, h, { allowBreaking: true }),
      ),
    );
    const writes = results.filter((r) => r.written).length;
    const reg = JSON.parse(readFileSync(registryPath(h), 'utf8'));
    expect(reg.version).toBe(writes);
    expect(Object.keys(reg.objects)).toHaveLength(3);
  });
});
