/**
 * `larder plan` names what changed inside a changed object: each changed path with its old and
 * new value, in text and in `--json`; unchanged objects stay quiet.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const run = promisify(execFile);
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function larder(args: string[], env: Record<string, string>) {
  const r = await run('node', ['bin/larder.js', ...args], { env: { ...process.env, ...env } });
  return r.stdout;
}

const WITH_SERVICE = `${BASE_REPO}
import { featureService } from 'larder';
export const svc = featureService({ name: 'svc', features: [activity] });
`;

describe('larder plan: the changes inside a changed object', () => {
  it('prints each changed path with old → new, in text and --json', async () => {
    const home = tempDir();
    cleanups.push(home.cleanup);
    const before = tempRepo({ 'repo.ts': WITH_SERVICE });
    cleanups.push(before.cleanup);
    await larder(['--repo', before.dir, 'apply'], { LARDER_HOME: home.dir });

    const after = tempRepo({
      'repo.ts': WITH_SERVICE.replace("window: '1h'", "window: '2h'")
        .replace("col('kind').eq('click')", "col('kind').eq('tap')")
        .replace("ttl: '30d'", "ttl: '7d'"),
    });
    cleanups.push(after.cleanup);
    const text = await larder(['--repo', after.dir, 'plan'], { LARDER_HOME: home.dir });
    expect(text).toContain(
      [
        '~ feature view activity  [BREAKING]',
        '    ~ ttl 30d → 7d',
        '    ~ features.clicks_1h.where kind = "click" → kind = "tap"',
        '    ~ features.clicks_1h.window 1h → 2h',
        '    ~ features.clicks_1h.hop 1m → 1h',
      ].join('\n'),
    );
    expect(text).not.toMatch(/entity user|feature service svc|batch source events/);
    expect(text).toContain('Plan: 0 to add, 1 to change, 0 to remove, 3 unchanged.');

    const json = JSON.parse(
      await larder(['--repo', after.dir, 'plan', '--json'], { LARDER_HOME: home.dir }),
    ) as { changes: { name: string; fields: unknown[] }[] };
    expect(json.changes.map((c) => c.name)).toEqual(['activity']);
    expect(json.changes[0]!.fields).toEqual([
      { op: '~', path: 'ttl', before: 30 * 86_400_000, after: 7 * 86_400_000 },
      {
        op: '~',
        path: 'features.clicks_1h.where',
        before: {
          op: 'eq',
          left: { op: 'col', path: 'kind' },
          right: { op: 'lit', value: 'click' },
        },
        after: { op: 'eq', left: { op: 'col', path: 'kind' }, right: { op: 'lit', value: 'tap' } },
      },
      { op: '~', path: 'features.clicks_1h.window', before: 3_600_000, after: 7_200_000 },
      { op: '~', path: 'features.clicks_1h.hop', before: 60_000, after: 3_600_000 },
    ]);
  });

  it('keys a service by its views: a feature dropped from a projection is one line', async () => {
    const home = tempDir();
    cleanups.push(home.cleanup);
    const before = tempRepo({ 'repo.ts': WITH_SERVICE });
    cleanups.push(before.cleanup);
    await larder(['--repo', before.dir, 'apply'], { LARDER_HOME: home.dir });
    const after = tempRepo({
      'repo.ts': WITH_SERVICE.replace(
        "import { featureService } from 'larder';",
        "import { featureService, select } from 'larder';",
      ).replace(
        'features: [activity] }',
        "features: [select(activity, ['clicks_1h', 'spend_7d'])] }",
      ),
    });
    cleanups.push(after.cleanup);
    const text = await larder(['--repo', after.dir, 'plan'], { LARDER_HOME: home.dir });
    expect(text).toContain(
      [
        '~ feature service svc',
        '    ~ projections.activity.features [clicks_1h, spend_7d, last_kind] → [clicks_1h, spend_7d]',
      ].join('\n'),
    );
  });
});
