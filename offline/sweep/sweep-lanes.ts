/**
 * How an export's sweeps are spread over the pool's workers: jobs (a pass's partition and its
 * features) are taken largest first by whichever worker is free, so a pass much heavier than
 * the others leaves one worker sweeping alone at the end. {@link laneSplit} picks the job worth
 * splitting in two — half of its features each, both reading the same index — when the
 * estimated finish of the last worker comes earlier that way, though each half pays the
 * index's reading, grouping and bounds again.
 *
 * The estimate is CPU-ms per million events and per million rows ({@link sweepCost}): a base
 * per event (reading the index, the bounds) and per row (grouping and sorting the rows, their
 * bounds), plus each feature's own, as measured in one process over the passes of a 1M-event
 * `recommendation_v2` export tiled 10× (the 10M benchmark's shape: 9M events and 1M rows in the
 * user pass) and over the 1M-event export with 1M rows: e.g. `last_n` ≈ 300 ms per million rows
 * (its lists laid out in row order), a distinct count or a sequence feature 7–18 per million
 * events. Rows without events for the pass cost less than counted (the user × product pass).
 *
 * @example
 * const at = laneSplit([{ events: 9e6, rows: 1e6, features }, …], 2);
 * if (at >= 0) { const [a, b] = splitFeatures(jobs[at].features); … }
 */
import { isSequenceKind } from '../../core/sequence.ts';
import type { SweepFeature } from './sweep.ts';

/** CPU-ms per million events and per million rows, by aggregation. */
const WEIGHT: Record<string, { event: number; row: number }> = {
  count: { event: 1, row: 20 },
  sum: { event: 2, row: 20 },
  avg: { event: 2, row: 20 },
  min: { event: 3, row: 25 },
  max: { event: 3, row: 25 },
  last: { event: 1, row: 25 },
  mode: { event: 4, row: 30 },
  count_distinct: { event: 12, row: 15 },
  last_n: { event: 3, row: 300 },
};
/** Any sequence kind (previous-event relations, sessions). */
const SEQUENCE_WEIGHT = { event: 10, row: 20 };
/** Once per sweep: reading the index and the bounds (per event), grouping the rows (per row). */
const BASE = { event: 5, row: 120 };

/** One job of the export's sweeps. */
export interface LaneJob {
  events: number;
  rows: number;
  features: readonly SweepFeature[];
  /** Whether it may be split (one partition, index fully cached: both halves read it). */
  splittable: boolean;
}

const weightOf = (f: SweepFeature): { event: number; row: number } =>
  isSequenceKind(f.aggregation) ? SEQUENCE_WEIGHT : (WEIGHT[f.aggregation] ?? WEIGHT.last!);

/** A job's estimated CPU-ms (see the module's comment). */
export function sweepCost(events: number, rows: number, features: readonly SweepFeature[]): number {
  let e = BASE.event;
  let r = BASE.row;
  for (const f of features) {
    const w = weightOf(f);
    e += w.event;
    r += w.row;
  }
  return (events * e + rows * r) / 1e6;
}

/**
 * The features in two halves of about equal cost over `events` and `rows` (positions into
 * `features`, ascending): the sequence features stay together (they share their sessions and
 * bounds), the others go, costliest first, to the cheaper half. One half is empty when there
 * is nothing to split.
 */
export function splitFeatures(
  features: readonly SweepFeature[],
  events: number,
  rows: number,
): [number[], number[]] {
  const cost = (f: SweepFeature): number => {
    const w = weightOf(f);
    return events * w.event + rows * w.row;
  };
  const units: { at: number[]; weight: number }[] = [];
  const sequence = { at: [] as number[], weight: 0 };
  features.forEach((f, i) => {
    if (f.sequence || isSequenceKind(f.aggregation)) {
      sequence.at.push(i);
      sequence.weight += cost(f);
    } else units.push({ at: [i], weight: cost(f) });
  });
  if (sequence.at.length > 0) units.push(sequence);
  // Heaviest first; ties in feature order (a stable sort).
  units.sort((a, b) => b.weight - a.weight);
  const halves: [number[], number[]] = [[], []];
  const weight = [0, 0];
  for (const u of units) {
    const h = weight[0]! <= weight[1]! ? 0 : 1;
    halves[h].push(...u.at);
    weight[h]! += u.weight;
  }
  halves[0].sort((a, b) => a - b);
  halves[1].sort((a, b) => a - b);
  return halves;
}

/** When the last of `lanes` workers finishes `costs`, each taken in turn by the first free one. */
function makespan(costs: readonly number[], lanes: number): number {
  const free = new Array<number>(lanes).fill(0);
  for (const c of costs) {
    let i = 0;
    for (let l = 1; l < lanes; l++) if (free[l]! < free[i]!) i = l;
    free[i]! += c;
  }
  return Math.max(...free);
}

/**
 * The job (position in `jobs`) to split into the halves of {@link splitFeatures}, or -1: the
 * costliest splittable one, if the pool's last worker then finishes earlier. Jobs are taken
 * in the order the export takes them: most events first (the halves one after the other).
 */
export function laneSplit(jobs: readonly LaneJob[], lanes: number): number {
  if (lanes < 2 || jobs.length === 0) return -1;
  const costs = jobs.map((j) => sweepCost(j.events, j.rows, j.features));
  let at = -1;
  jobs.forEach((j, i) => {
    if (j.splittable && (at < 0 || costs[i]! > costs[at]!)) at = i;
  });
  if (at < 0) return -1;
  const job = jobs[at]!;
  const [a, b] = splitFeatures(job.features, job.events, job.rows);
  if (a.length === 0 || b.length === 0) return -1;
  const byEvents = (list: { events: number; cost: number }[]): number[] =>
    list.sort((x, y) => y.events - x.events).map((x) => x.cost);
  const whole = byEvents(jobs.map((j, i) => ({ events: j.events, cost: costs[i]! })));
  const half = (idx: number[]): number =>
    sweepCost(
      job.events,
      job.rows,
      idx.map((i) => job.features[i]!),
    );
  const split = byEvents([
    ...jobs.flatMap((j, i) => (i === at ? [] : [{ events: j.events, cost: costs[i]! }])),
    { events: job.events, cost: half(a) },
    { events: job.events, cost: half(b) },
  ]);
  return makespan(split, lanes) < makespan(whole, lanes) ? at : -1;
}
