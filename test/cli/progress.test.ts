/**
 * Progress of long commands: nothing before the first real work (no `0/0 rows`), a line as a
 * view's source records are read and validated, and plain throttled lines (no `\r`) when stderr
 * is not a terminal.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { progressWriter, type ProgressSink } from '../../cli/progress.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const run = promisify(execFile);
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function sink(isTTY: boolean) {
  const s = { isTTY, out: '', t: 0 };
  const api: ProgressSink = { isTTY, write: (x) => void (s.out += x), now: () => s.t };
  return { s, api };
}

describe('progressWriter', () => {
  it('not a terminal: plain lines, at most one every 5 s, the done line always', () => {
    const { s, api } = sink(false);
    const w = progressWriter(api);
    w.update('a 1'); // the first update starts the clock only
    s.t = 1000;
    w.update('a 2');
    s.t = 5000;
    w.update('a 3');
    s.t = 6000;
    w.update('a 4');
    w.update('a done', true);
    expect(s.out).toBe('a 3\na done\n');
  });

  it('a quick step prints only its last line', () => {
    const { s, api } = sink(false);
    const w = progressWriter(api);
    w.update('x 1');
    s.t = 100;
    w.update('x done', true);
    expect(s.out).toBe('x done\n');
  });

  it('a terminal: one line rewritten with \\r, ended before a note', () => {
    const { s, api } = sink(true);
    const w = progressWriter(api);
    w.update('v 1');
    s.t = 300;
    w.update('v 2');
    w.note('retrying');
    s.t = 700;
    w.update('v done', true);
    expect(s.out).toBe('\rv 2\nretrying\n\rv done\n');
  });
});

describe('larder materialize / export with stderr piped', () => {
  it('no carriage returns, no 0/0, and a line while a view reads and validates', async () => {
    const repo = tempRepo({ 'repo.ts': BASE_REPO });
    cleanups.push(repo.cleanup);
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const raw = join(tmp.dir, 'data', 'raw', 'events');
    mkdirSync(raw, { recursive: true });
    const t0 = Date.UTC(2026, 10, 1);
    writeFileSync(
      join(raw, 'a.jsonl'),
      Array.from({ length: 200 }, (_, i) =>
        JSON.stringify({
          id: `e${i}`,
          userId: `u${i % 7}`,
          kind: 'click',
          amount: i,
          ts: t0 + i * 60_000,
        }),
      ).join('\n'),
    );
    const env = {
      ...process.env,
      LARDER_HOME: join(tmp.dir, 'home'),
      LARDER_DATA_DIR: join(tmp.dir, 'data'),
    };
    const larder = (...args: string[]) =>
      run('node', ['bin/larder.js', '--repo', repo.dir, ...args], { env }).catch(
        (e: unknown) => e as { code: number; stdout: string; stderr: string },
      );
    await larder('apply');
    const m = await larder('materialize', '--end', new Date(t0 + 86_400_000).toISOString());
    expect(m.stderr).toContain('  activity: reading and validating source records\n');
    // The first run validates the new raw file: its progress ends with every row counted.
    expect(m.stderr).toMatch(
      /^ {2}activity: validated 200 \/ ~200 raw rows \(1\/1 new files\) · [\d,]+ rows\/s · [\d.]+s$/m,
    );
    expect(m.stderr).toMatch(/^ {2}activity: [\d,]+ \/ [\d,]+ rows \(.* tiles, .* lifetime\)/m);
    expect(m.stderr).not.toContain('\r');
    expect(m.stderr).not.toMatch(/\b0\/0\b/);

    const missing = join(tmp.dir, 'no-such-rows.csv');
    const x = await larder(
      'export',
      '--features',
      'activity:clicks_1h',
      '--entities',
      missing,
      '--out',
      join(tmp.dir, 'out.parquet'),
    );
    expect((x as { code: number }).code).toBe(1);
    expect(x.stderr).toMatch(/^error/);
    expect(x.stderr).not.toContain('reading sources');
    expect(x.stderr).not.toContain('\r');
  }, 120_000);
});
