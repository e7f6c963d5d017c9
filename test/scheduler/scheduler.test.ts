import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import type { MaterializationSpec } from '../../definitions/spec.ts';
import { FileLeases, readLeases } from '../../scheduler/lease-file.ts';
import { lastDoneSlot, readRuns } from '../../scheduler/run-history.ts';
import { Scheduler, type ScheduledView } from '../../scheduler/scheduler.ts';
import { MAX_CATCH_UP, dueSlots, nextSlot, slotAt } from '../../scheduler/slots.ts';
import { RunTimeoutError, forkRunner, type ViewRunner } from '../../scheduler/view-runner.ts';
import { postFailure } from '../../scheduler/webhook.ts';
import { tempDir } from '../support/temp-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
const home = (): string => {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
};

const schedule = (over: Partial<MaterializationSpec> = {}): MaterializationSpec => ({
  everyMs: HOUR_MS,
  offsetMs: 0,
  cron: null,
  retries: 0,
  retryDelayMs: 5 * MINUTE_MS,
  backoff: 'fixed',
  timeoutMs: null,
  catchUp: false,
  ...over,
});
const view = (over: Partial<MaterializationSpec> = {}): ScheduledView => ({
  name: 'activity',
  kind: 'feature_view',
  schedule: schedule(over),
});
const H = HOUR_MS;

describe('slots', () => {
  it('are offset + k · every; due: the latest, or every missed one with catch-up', () => {
    const s = schedule({ everyMs: 24 * H, offsetMs: 2 * H });
    expect(slotAt(s, 10 * 24 * H + H)).toBe(9 * 24 * H + 2 * H);
    expect(slotAt(s, 10 * 24 * H + 2 * H)).toBe(10 * 24 * H + 2 * H);
    expect(nextSlot(s, 10 * 24 * H + 2 * H)).toBe(11 * 24 * H + 2 * H);
    const h = schedule();
    expect(dueSlots(h, 5 * H + 1, null)).toEqual([5 * H]);
    expect(dueSlots(h, 5 * H + 1, 5 * H)).toEqual([]);
    expect(dueSlots(h, 5 * H + 1, 2 * H)).toEqual([5 * H]);
    expect(dueSlots({ ...h, catchUp: true }, 5 * H + 1, 2 * H)).toEqual([3 * H, 4 * H, 5 * H]);
    expect(dueSlots({ ...h, catchUp: true }, 500 * H, 0)).toHaveLength(MAX_CATCH_UP);
  });
});

describe('the view lease file', () => {
  it('grants one owner at a time, with a new fencing token per grant, until it expires', async () => {
    const dir = home();
    let now = 1_000;
    const leases = new FileLeases(dir, () => now);
    const a = await leases.acquire('v', 'a', 3_000);
    expect(a).not.toBeNull();
    expect(await leases.acquire('v', 'b', 3_000)).toBeNull();
    expect(await leases.acquire('w', 'b', 3_000)).toBe(a! + 1);
    now += 2_000;
    expect(await leases.renew('v', a!, 3_000)).toBe(true);
    now += 2_500;
    expect(await leases.acquire('v', 'b', 3_000)).toBeNull();
    now += 1_000;
    const b = await leases.acquire('v', 'b', 3_000);
    expect(b).toBeGreaterThan(a!);
    expect(await leases.renew('v', a!, 3_000)).toBe(false);
    await leases.release('v', a!);
    expect(readLeases(dir).leases.v).toMatchObject({ owner: 'b', token: b });
    await leases.release('v', b!);
    expect(readLeases(dir).leases.v).toBeUndefined();
  });
});

describe('Scheduler', () => {
  const runner = (
    script: (job: { view: string; end: number }, n: number) => Promise<number>,
  ): ViewRunner & {
    calls: number[];
  } => {
    const calls: number[] = [];
    const f: ViewRunner = async (job) => {
      calls.push(job.end);
      return { rows: await script(job, calls.length) };
    };
    return Object.assign(f, { calls });
  };

  it('runs a due slot once, records it, and waits for the next slot', async () => {
    const dir = home();
    const r = runner(async () => 7);
    const s = new Scheduler({ home: dir, views: [view()], runner: r });
    await s.tick(3 * H + 10);
    await s.tick(3 * H + 20);
    expect(r.calls).toEqual([3 * H]);
    await s.tick(4 * H);
    expect(r.calls).toEqual([3 * H, 4 * H]);
    const runs = readRuns(dir);
    expect(runs.map((x) => [x.slot, x.attempt, x.outcome, x.rows])).toEqual([
      [3 * H, 1, 'success', 7],
      [4 * H, 1, 'success', 7],
    ]);
    expect(lastDoneSlot(runs, 'activity')).toBe(4 * H);
    const text = await s.metrics.registry.metrics();
    expect(text).toContain('larder_scheduler_runs_total{view="activity",outcome="success"} 2');
    expect(text).toContain('larder_scheduler_rows_total{view="activity"} 14');
    expect(text).toContain(
      `larder_scheduler_next_run_timestamp_seconds{view="activity"} ${(5 * H) / 1000}`,
    );
  });

  it('retries with backoff, then reports the final failure once', async () => {
    const dir = home();
    const waits: number[] = [];
    const failed: string[] = [];
    const r = runner(async (_job, n) => {
      if (n < 4) throw new Error(`boom ${n}`);
      return 1;
    });
    const s = new Scheduler({
      home: dir,
      views: [view({ retries: 2, retryDelayMs: 1_000, backoff: 'exponential' })],
      runner: r,
      sleep: async (ms) => void waits.push(ms),
      onFailure: async (run) => void failed.push(`${run.attempt}/${run.attempts} ${run.error}`),
    });
    await s.tick(H);
    expect(waits).toEqual([1_000, 2_000]);
    expect(failed).toEqual(['3/3 boom 3']);
    expect(readRuns(dir).map((x) => x.outcome)).toEqual(['failed', 'failed', 'failed']);
    // The slot is done (its last attempt failed): the next run is the next slot.
    await s.tick(H + 1);
    expect(r.calls).toEqual([H, H, H]);
    await s.tick(2 * H);
    expect(readRuns(dir).map((x) => x.outcome)).toEqual(['failed', 'failed', 'failed', 'success']);
  });

  it('a timed-out attempt is recorded as timeout; a stopped scheduler cancels and the slot runs again', async () => {
    const dir = home();
    const s = new Scheduler({
      home: dir,
      views: [view({ timeoutMs: 50 })],
      runner: async () => {
        throw new RunTimeoutError('timed out after 0.05s');
      },
    });
    await s.tick(H);
    expect(readRuns(dir).map((x) => [x.outcome, x.error])).toEqual([
      ['timeout', 'timed out after 0.05s'],
    ]);

    const dir2 = home();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const slow = new Scheduler({
      home: dir2,
      views: [view()],
      runner: (_job, { signal }) =>
        new Promise((_resolve, reject) => {
          started();
          signal.addEventListener('abort', () => reject(new Error('killed')));
        }),
    });
    const tick = slow.tick(H);
    await running;
    await slow.stop();
    await tick;
    expect(readRuns(dir2).map((x) => x.outcome)).toEqual(['cancelled']);
    expect(lastDoneSlot(readRuns(dir2), 'activity')).toBeNull();
    expect(readLeases(dir2).leases.activity).toBeUndefined();
  });

  it('leaves a view whose lease another scheduler holds', async () => {
    const dir = home();
    await new FileLeases(dir).acquire('activity', 'someone-else', 60_000);
    const r = runner(async () => 1);
    const events: string[] = [];
    const s = new Scheduler({
      home: dir,
      views: [view()],
      runner: r,
      onEvent: (e) => events.push(e.type),
    });
    await s.tick(H);
    expect(r.calls).toEqual([]);
    expect(events).toEqual(['busy']);
    expect(await s.metrics.registry.metrics()).toContain(
      'larder_scheduler_lease_busy_total{view="activity"} 1',
    );
  });
});

describe('the failure webhook', () => {
  it('POSTs the JSON notice, retrying after a 5xx', async () => {
    const bodies: unknown[] = [];
    let n = 0;
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(text));
        res.writeHead(++n === 1 ? 503 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    const run = {
      id: 'r1',
      view: 'activity',
      slot: 2 * H,
      attempt: 3,
      attempts: 3,
      scheduler: 'host:1:abc',
      start: 2 * H + 5,
      end: 2 * H + 9,
      outcome: 'failed' as const,
      rows: null,
      error: 'boom',
    };
    expect(await postFailure(url, run, { retries: 2, baseDelayMs: 10 })).toBe(true);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toEqual({
      event: 'larder.scheduler.run_failed',
      view: 'activity',
      slot: new Date(2 * H).toISOString(),
      attempt: 3,
      attempts: 3,
      outcome: 'failed',
      error: 'boom',
      start: new Date(2 * H + 5).toISOString(),
      end: new Date(2 * H + 9).toISOString(),
      scheduler: 'host:1:abc',
    });
    expect(await postFailure('http://127.0.0.1:1/none', run, { retries: 1, baseDelayMs: 10 })).toBe(
      false,
    );
  });
});

describe('forkRunner: each attempt in a child process', () => {
  it('returns the child reply, kills a child past its timeout, and one whose run is aborted', async () => {
    const dir = home();
    const child = `${dir}/child.ts`;
    writeFileSync(
      child,
      `process.once('message', (m: { view: string; end: number }) => {
        if (m.view === 'hang') return setInterval(() => {}, 1000);
        if (m.view === 'bad') return process.send!({ ok: false, error: 'no data' }, () => process.exit(0));
        process.send!({ ok: true, rows: m.end * 2 }, () => process.exit(0));
      });`,
    );
    const run = forkRunner(child, null);
    const signal = new AbortController().signal;
    expect(await run({ view: 'v', end: 21 }, { timeoutMs: 30_000, signal })).toEqual({ rows: 42 });
    await expect(run({ view: 'bad', end: 1 }, { timeoutMs: null, signal })).rejects.toThrow(
      'no data',
    );
    await expect(run({ view: 'hang', end: 1 }, { timeoutMs: 300, signal })).rejects.toBeInstanceOf(
      RunTimeoutError,
    );
    const abort = new AbortController();
    setTimeout(() => abort.abort('the view lease was lost'), 300);
    await expect(
      run({ view: 'hang', end: 1 }, { timeoutMs: null, signal: abort.signal }),
    ).rejects.toThrow('the view lease was lost');
  }, 60_000);
});
