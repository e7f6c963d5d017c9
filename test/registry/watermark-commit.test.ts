/**
 * `commitWatermarks`, the one read-modify-write a materialization ends with: an incremental
 * commit keeps the later watermark, a reload writes its end, and a commit count changed since
 * the run read the registry marks the view overlapped. Two commits interleaved as two racing
 * runs would (both read, then both commit), through the real registry file and its lock. The
 * processes racing end to end: test/materialize/watermark-race.redis.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { nextRegistry, readRegistry, writeRegistry } from '../../registry/registry-file.ts';
import { commitWatermarks } from '../../registry/watermark-commit.ts';
import { tempDir } from '../support/temp-repo.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let n = 0;
function home(): string {
  const dir = `${tmp.dir}/home-${n++}`;
  writeRegistry(dir, nextRegistry(null, [], '/repo'));
  return dir;
}

describe('commitWatermarks', () => {
  it('incremental: the slower run, committing last with an earlier end, keeps the later watermark and learns it overlapped', async () => {
    const h = home();
    await commitWatermarks(h, { marks: { a: 100 }, readCommits: {}, forwardOnly: true });
    const read = readRegistry(h)!.commits!; // both runs read { a: 1 }
    const fast = await commitWatermarks(h, {
      marks: { a: 300 },
      arrivalMarks: { a: 20 },
      readCommits: read,
      forwardOnly: true,
    });
    expect(fast).toEqual([{ view: 'a', watermark: 300, overlapped: false, commits: 2 }]);
    const slow = await commitWatermarks(h, {
      marks: { a: 200 },
      arrivalMarks: { a: 10 },
      readCommits: read,
      forwardOnly: true,
    });
    expect(slow).toEqual([{ view: 'a', watermark: 300, overlapped: true, commits: 3 }]);
    const file = readRegistry(h)!;
    expect(file.watermarks).toEqual({ a: 300 });
    // The arrival mark is the last committer's start: records appended since are reloaded.
    expect(file.arrivalMarks).toEqual({ a: 10 });
    expect(file.commits).toEqual({ a: 3 });
  });

  it('a reload writes its end, earlier or not; views commit independently', async () => {
    const h = home();
    await commitWatermarks(h, { marks: { a: 300, b: 50 }, readCommits: {}, forwardOnly: true });
    const back = await commitWatermarks(h, {
      marks: { a: 100 },
      readCommits: { a: 1 },
      forwardOnly: false,
    });
    expect(back).toEqual([{ view: 'a', watermark: 100, overlapped: false, commits: 2 }]);
    expect(readRegistry(h)!.watermarks).toEqual({ a: 100, b: 50 });
    expect(readRegistry(h)!.commits).toEqual({ a: 2, b: 1 });
  });

  it('apply keeps the counts', async () => {
    const h = home();
    await commitWatermarks(h, { marks: { a: 1 }, readCommits: {}, forwardOnly: true });
    writeRegistry(h, nextRegistry(readRegistry(h), [], '/repo'));
    expect(readRegistry(h)!.commits).toEqual({ a: 1 });
  });
});
