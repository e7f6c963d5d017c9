/**
 * How a materialization records where it got to: each view's watermark, arrival mark and commit
 * count, in one read-modify-write of the registry file under its lock (`withRegistryLock`), so
 * two runs that end together cannot interleave their updates.
 *
 * Two runs of one view that overlap outside the scheduler's lease (two manual
 * `materialize-incremental`, say) race twice: the slower one, which read the older watermark and
 * loads to an earlier end, commits last — and its tiles may have overwritten the other's (the
 * tile holding its end is partial: events up to that end only). So an incremental commit keeps
 * the later of the stored watermark and its end (a watermark never moves back through a race),
 * and every commit tells the run whether another run committed the view since the run read the
 * registry (its count changed): the run then recomputes its range (`store/feature-store.ts`).
 *
 * @example
 * const done = await commitWatermarks(home, { marks: { activity: end }, readCommits, forwardOnly: true });
 */
import { LarderError } from '../core/errors.ts';
import { readRegistry, withRegistryLock, writeRegistry } from './registry-file.ts';

export interface WatermarkCommit {
  /** Each view's end (a batch view's: its snapshot time). */
  marks: Readonly<Record<string, number>>;
  /** Feature views' arrival marks: when the run started (wall clock). */
  arrivalMarks?: Readonly<Record<string, number>>;
  /** Each view's commit count when the run read the registry (absent: 0). */
  readCommits: Readonly<Record<string, number>>;
  /**
   * `materialize-incremental`: the watermark becomes the later of the stored one and the run's
   * end. Without it (`materialize`, an explicit reload) the run's end, earlier or not.
   */
  forwardOnly: boolean;
}

export interface CommittedView {
  view: string;
  /** The watermark now stored. */
  watermark: number;
  /** Another run committed this view after the run read the registry. */
  overlapped: boolean;
  /** The view's commit count now stored (this commit included). */
  commits: number;
}

export async function commitWatermarks(home: string, c: WatermarkCommit): Promise<CommittedView[]> {
  return withRegistryLock(home, () => {
    const cur = readRegistry(home);
    if (!cur)
      throw new LarderError('LARDER_REGISTRY_NOT_APPLIED', 'no registry yet', {
        hint: 'run `larder apply` first',
      });
    const watermarks = { ...cur.watermarks };
    const commits = { ...cur.commits };
    const out: CommittedView[] = [];
    for (const [view, end] of Object.entries(c.marks)) {
      const stored = watermarks[view];
      const watermark = c.forwardOnly && stored !== undefined ? Math.max(stored, end) : end;
      const before = commits[view] ?? 0;
      watermarks[view] = watermark;
      commits[view] = before + 1;
      out.push({
        view,
        watermark,
        overlapped: before !== (c.readCommits[view] ?? 0),
        commits: before + 1,
      });
    }
    writeRegistry(home, {
      ...cur,
      watermarks,
      arrivalMarks: { ...cur.arrivalMarks, ...c.arrivalMarks },
      commits,
    });
    return out;
  });
}
