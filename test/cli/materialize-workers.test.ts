/**
 * `larder materialize --workers N` end to end (bin/larder.js, whose tsx loader the worker
 * threads register for themselves): the same views, tiles and lifetime states as the views in
 * turn, every view's watermark committed, and a bad `--workers` refused with one error line.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { tempDir } from '../support/temp-repo.ts';

const exec = promisify(execFile);
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const END = Math.floor(Date.now() / 3_600_000) * 3_600_000;

async function larder(
  home: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec('node', ['bin/larder.js', ...args], {
      env: {
        ...process.env,
        LARDER_REPO: 'examples/ecommerce/features',
        LARDER_HOME: join(tmp.dir, home),
        LARDER_DATA_DIR: join(tmp.dir, 'data'),
        LARDER_ONLINE_STORE: `sqlite:${join(tmp.dir, home, 'online.sqlite')}`,
        LARDER_DEBUG: '',
      },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

interface Row {
  view: string;
  start: number;
  end: number;
  tiles: number;
  skipped: number;
  lifetime: number;
}

beforeAll(async () => {
  await genData({
    users: 20,
    products: 10,
    days: 2,
    events: 2_000,
    seed: 9,
    end: END,
    outDir: join(tmp.dir, 'data'),
    format: 'jsonl',
  });
  for (const home of ['a', 'b']) expect((await larder(home, 'apply')).code).toBe(0);
}, 120_000);

describe('larder materialize --workers', () => {
  it('loads what the views in turn load and commits every watermark', async () => {
    const rows = async (home: string, ...flags: string[]): Promise<Row[]> => {
      const r = await larder(home, 'materialize', '--end', String(END), '--json', ...flags);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { views: Row[] }).views.map(
        ({ view, start, end, tiles, skipped, lifetime }) => ({
          view,
          start,
          end,
          tiles,
          skipped,
          lifetime,
        }),
      );
    };
    const onWorkers = await rows('a', '--workers', '2');
    const inTurn = await rows('b');
    expect(onWorkers).toEqual(inTurn);
    expect(onWorkers.reduce((n, r) => n + r.tiles + r.lifetime, 0)).toBeGreaterThan(500);
    const marks = readRegistry(join(tmp.dir, 'a'))!.watermarks!;
    // A feature view's watermark is --end; a batch view's, its snapshot time (its `end`).
    for (const r of onWorkers) expect(marks[r.view]).toBe(r.end);
    expect(onWorkers.filter((r) => r.end === END).length).toBeGreaterThan(5);
  }, 120_000);

  it.each(['0', '1.5', 'two'])(
    'refuses --workers %s with one error line',
    async (n) => {
      const r = await larder('a', 'materialize', '--end', 'now', '--workers', n);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        `error [LARDER_BAD_REQUEST]: --workers ${n}: write a whole number from 1 to 64`,
      ]);
    },
    60_000,
  );
});
