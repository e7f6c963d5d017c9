/**
 * `larder plan` and `apply` refuse an on-demand transform that fails its smoke test; `export`
 * reports one that fails at run time in one line, without a stack trace.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const run = promisify(execFile);
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function larder(args: string[], env: Record<string, string>) {
  try {
    const r = await run('node', ['bin/larder.js', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    return e as { code: number; stdout: string; stderr: string };
  }
}

describe('larder plan / apply with a failing on-demand transform', () => {
  it('exit 1 with the view, the input, the file and the line; nothing applied', async () => {
    const repo = tempRepo({
      'repo.ts': `${BASE_REPO}
import { feature, onDemandFeatureView } from 'larder';
export const kinds = onDemandFeatureView({
  name: 'kinds',
  entities: [user],
  inputs: { kind: feature(activity, 'last_kind', 'string') },
  features: { shout: 'string' },
  transform: ({ kind }) => ({ shout: kind.map((k) => k.toUpperCase()) }),
});
`,
    });
    cleanups.push(repo.cleanup);
    const home = tempDir();
    cleanups.push(home.cleanup);
    for (const cmd of ['plan', 'apply']) {
      const r = await larder(['--repo', repo.dir, cmd], { LARDER_HOME: home.dir });
      expect(r.code, cmd).toBe(1);
      expect(r.stderr).toMatch(
        /^error: 1 problem in the feature definitions:\n {2}.*repo\.ts:\d+: on-demand feature view "kinds" → transform: threw TypeError: .*toUpperCase.* at .*repo\.ts:\d+ on the sample input \{ kind: null \}\n {4}hint: fix the transform defined at .*repo\.ts:\d+ .*inputs can be null/,
      );
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    const list = await larder(['list'], { LARDER_HOME: home.dir });
    expect(list.stderr).toContain('no registry under');
  });

  it('export: a transform failing on a row is one line naming the view and the error', async () => {
    const repo = tempRepo({
      'repo.ts': `${BASE_REPO}
import { onDemandFeatureView, requestField } from 'larder';
export const coded = onDemandFeatureView({
  name: 'coded',
  entities: [user],
  inputs: { code: requestField('code', 'string') },
  features: { code_len: 'int64' },
  transform: ({ code }) => ({
    code_len: code.map((c) => {
      if (c === 'boom') throw new Error('cannot score code ' + c);
      return c === null ? null : c.length;
    }),
  }),
});
`,
    });
    cleanups.push(repo.cleanup);
    const home = tempDir();
    cleanups.push(home.cleanup);
    const entities = join(home.dir, 'entities.csv');
    writeFileSync(
      entities,
      'user_id,event_timestamp,code\nu1,1767225600000,ok\nu2,1767225600000,boom\n',
    );
    const r = await larder(
      [
        '--repo',
        repo.dir,
        'export',
        '--features',
        'coded:code_len',
        '--entities',
        entities,
        '--out',
        join(home.dir, 'out.csv'),
      ],
      { LARDER_HOME: home.dir, LARDER_DATA_DIR: join(home.dir, 'data') },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error \[LARDER_ON_DEMAND_FAILED\]: on-demand feature view "coded" threw Error: cannot score code boom at .*repo\.ts:\d+\n {2}hint: fix the transform defined at .*repo\.ts:\d+/m,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
