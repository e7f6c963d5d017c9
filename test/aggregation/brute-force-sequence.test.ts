import { describe, it, expect } from 'vitest';
import {
  bruteForcePrevious,
  bruteForceSession,
  sessionsAt,
  type SessionFeature,
} from '../../aggregation/brute-force-sequence.ts';
import type { SequenceEvent } from '../../aggregation/sequence-event.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import type { Scalar } from '../../core/types.ts';

const T0 = Date.parse('2024-03-10T10:00:00Z');
const MEM = { ttlMs: 30 * DAY_MS, hopMs: DAY_MS };
const G = 30 * MINUTE_MS;
const ev = (ts: number, id: string, value: Scalar | null = null, match = true): SequenceEvent => ({
  ts,
  id,
  value,
  match,
});
const gap = (ms: number) => ({ kind: 'gap_below', ms }) as const;
const changed = { kind: 'changed' } as const;
const W1H = [HOUR_MS, MINUTE_MS] as const;

const session = (kind: SessionFeature['kind'], windowMs: number | null = null): SessionFeature => ({
  kind,
  gapMs: G,
  windowMs,
  hopMs: windowMs === null ? null : HOUR_MS,
});
const at = (f: SessionFeature, events: SequenceEvent[], t: number) =>
  bruteForceSession(f, events, t, MEM);

describe('bruteForcePrevious', () => {
  it('never counts the first event, counts gaps strictly below the threshold', () => {
    const one = [ev(T0, 'a')];
    expect(bruteForcePrevious(gap(100), one, T0, ...W1H, MEM)).toBe(0);
    const evs = [ev(T0, 'a'), ev(T0 + 99, 'b'), ev(T0 + 199, 'c'), ev(T0 + 250, 'd')];
    // gaps: 99 (<100), 100 (not <100), 51 (<100)
    expect(bruteForcePrevious(gap(100), evs, T0 + 1000, ...W1H, MEM)).toBe(2);
  });

  it('orders equal timestamps by id (code point): the smaller id is the previous one', () => {
    const evs = [ev(T0, 'b', '1.1.1.1'), ev(T0, 'a', '2.2.2.2'), ev(T0, '\u{1F600}', '1.1.1.1')];
    // order: a (2.2.2.2), b (1.1.1.1), 😀 (1.1.1.1): one change (a → b), gaps 0 and 0
    expect(bruteForcePrevious(changed, evs, T0, ...W1H, MEM)).toBe(1);
    expect(bruteForcePrevious(gap(1), evs, T0, ...W1H, MEM)).toBe(2);
  });

  it('finds the previous event outside the window but counts only window events', () => {
    const ws = Date.parse('2024-03-10T10:01:00Z'); // W = 1h, H = 1m at t = 11:00:30
    const t = Date.parse('2024-03-10T11:00:30Z');
    const evs = [ev(ws - 50, 'a', 'ip1'), ev(ws + 10, 'b', 'ip2'), ev(ws + 20, 'c', 'ip2')];
    expect(bruteForcePrevious(gap(100), evs, t, ...W1H, MEM)).toBe(2); // b (60) and c (10)
    expect(bruteForcePrevious(changed, evs, t, ...W1H, MEM)).toBe(1); // b: ip1 → ip2
    // a is outside the window: never counted even though its own previous event would qualify
    const before = [ev(ws - 60, 'z', 'ip0'), ...evs];
    expect(bruteForcePrevious(gap(100), before, t, ...W1H, MEM)).toBe(2);
  });

  it('changed needs both values non-null; a null value is still the previous event', () => {
    const evs = [ev(T0, 'a', 'ip1'), ev(T0 + 1, 'b', null), ev(T0 + 2, 'c', 'ip2')];
    expect(bruteForcePrevious(changed, evs, T0 + 10, ...W1H, MEM)).toBe(0);
  });

  it('counts only matching events, but any event is a previous event', () => {
    const evs = [
      ev(T0, 'a', null, false),
      ev(T0 + 5, 'b', null, true),
      ev(T0 + 6, 'c', null, false),
    ];
    expect(bruteForcePrevious(gap(100), evs, T0 + 10, ...W1H, MEM)).toBe(1);
  });

  it('a late event changes which event is another one’s previous event', () => {
    const evs = [ev(T0, 'a', 'ip1'), ev(T0 + 500, 'c', 'ip1')];
    expect(bruteForcePrevious(gap(100), evs, T0 + 1000, ...W1H, MEM)).toBe(0);
    expect(bruteForcePrevious(changed, evs, T0 + 1000, ...W1H, MEM)).toBe(0);
    const late = [...evs, ev(T0 + 450, 'b', 'ip9')];
    expect(bruteForcePrevious(gap(100), late, T0 + 1000, ...W1H, MEM)).toBe(1); // c: 50 after b
    expect(bruteForcePrevious(changed, late, T0 + 1000, ...W1H, MEM)).toBe(2); // b and c
  });

  it('empty windows and events after t count nothing; forgotten events are no previous event', () => {
    expect(bruteForcePrevious(gap(100), [], T0, ...W1H, MEM)).toBe(0);
    const evs = [ev(T0, 'a'), ev(T0 + 1, 'b')];
    expect(bruteForcePrevious(gap(100), evs, T0 + 2 * HOUR_MS, ...W1H, MEM)).toBe(0);
    expect(bruteForcePrevious(gap(100), evs, T0, ...W1H, MEM)).toBe(0); // b is after t
    // memory W = 30d, H = 1d: at t the first remembered day starts 29 days before t's day
    const old = Date.parse('2024-03-10T23:59:59Z');
    const t = Date.parse('2024-04-09T00:10:00Z'); // memory starts 2024-03-11
    const e = [ev(old, 'a', 'ip1'), ev(t - 1, 'b', 'ip2')];
    expect(bruteForcePrevious(changed, e, t, ...W1H, MEM)).toBe(0);
    expect(bruteForcePrevious(changed, e, t - DAY_MS, ...W1H, MEM)).toBe(0); // b after t
    const e2 = [ev(old, 'a', 'ip1'), ev(t - DAY_MS - 1, 'b', 'ip2')];
    expect(bruteForcePrevious(changed, e2, t - DAY_MS, ...W1H, MEM)).toBe(1);
  });
});

describe('sessions', () => {
  it('splits only where the gap is strictly greater than G', () => {
    const evs = [ev(T0, 'a'), ev(T0 + G, 'b'), ev(T0 + 2 * G + 1, 'c')];
    expect(sessionsAt(evs, T0 + DAY_MS, G, MEM).map((s) => s.map((e) => e.id))).toEqual([
      ['a', 'b'],
      ['c'],
    ]);
  });

  it('a late event starts, extends and merges sessions', () => {
    const t = T0 + 3 * HOUR_MS;
    const base = [ev(T0, 'a'), ev(T0 + 20 * MINUTE_MS, 'b'), ev(T0 + 80 * MINUTE_MS, 'c')];
    const f7d = session('session_count', 7 * DAY_MS);
    expect(at(f7d, base, t)).toBe(2);
    // starts: an event an hour before
    expect(at(f7d, [...base, ev(T0 - HOUR_MS, 'x')], t)).toBe(3);
    // extends: 10 minutes before a, so the first session starts earlier
    const dur = session('session_avg_duration', 7 * DAY_MS);
    expect(at(dur, base, t)).toBe((20 * 60 + 0) / 2);
    expect(at(dur, [...base, ev(T0 - 10 * MINUTE_MS, 'x')], t)).toBe((30 * 60 + 0) / 2);
    // merges: at 50 min, the gaps 30 and 30 are not > G, so one session of 80 minutes
    const merged = [...base, ev(T0 + 50 * MINUTE_MS, 'x')];
    expect(at(f7d, merged, t)).toBe(1);
    expect(at(dur, merged, t)).toBe(80 * 60);
  });

  it('counts sessions by their start in the window and those holding a match', () => {
    const ws = Date.parse('2024-03-03T11:00:00Z'); // W = 7d, H = 1h at t = 2024-03-10T10:30
    const t = Date.parse('2024-03-10T10:30:00Z');
    const evs = [
      ev(ws - MINUTE_MS, 'a', null, true), // starts before the window, runs into it
      ev(ws + 10 * MINUTE_MS, 'b', null, false),
      ev(ws + 2 * HOUR_MS, 'c', null, false), // starts in the window, no match
      ev(t, 'd', null, true), // starts at t, with a match
    ];
    const all = evs.map((e) => ({ ...e, match: true })); // session_count_7d: every session
    expect(at(session('session_count', 7 * DAY_MS), all, t)).toBe(2); // c's and d's
    expect(at(session('session_avg_duration', 7 * DAY_MS), all, t)).toBe(0);
    // converted: only d's session holds a matching event (a's started before the window)
    expect(at(session('session_count', 7 * DAY_MS), evs, t)).toBe(1);
    expect(at(session('session_avg_duration', 7 * DAY_MS), evs, t)).toBe(0);
  });

  it('the current session: the newest event within G of t, with its matching events', () => {
    const evs = [
      ev(T0, 'a', null, true),
      ev(T0 + 10 * MINUTE_MS, 'b', null, false),
      ev(T0 + 10 * MINUTE_MS, 'c', null, true), // equal timestamps
    ];
    const count = session('current_session_count');
    const duration = session('current_session_duration');
    expect(at(count, evs, T0 + 40 * MINUTE_MS)).toBe(2);
    expect(at(duration, evs, T0 + 40 * MINUTE_MS)).toBe(600);
    expect(at(count, evs, T0 + 40 * MINUTE_MS + 1)).toBe(0); // t − newest > G: none
    expect(at(duration, evs, T0 + 40 * MINUTE_MS + 1)).toBeNull();
    expect(at(count, evs, T0 + 5 * MINUTE_MS)).toBe(1); // only a exists at t
    expect(at(duration, evs, T0)).toBe(0); // one event: duration 0
    expect(at(count, [], T0)).toBe(0);
    expect(at(duration, [], T0)).toBeNull();
  });

  it('gives 0 / null for an empty window', () => {
    const evs = [ev(T0, 'a')];
    const t = T0 + 8 * DAY_MS;
    expect(at(session('session_count', 7 * DAY_MS), evs, t)).toBe(0);
    expect(at(session('session_avg_duration', 7 * DAY_MS), evs, t)).toBeNull();
  });
});

describe('the worked examples of docs/definitions.md and docs/concepts.md', () => {
  const hm = (h: number, m: number, ms = 0) => Date.UTC(2024, 2, 10, h, m) + ms;
  const W7D = 7 * DAY_MS;
  it('sessions: two, then one after a late event merges them', () => {
    const evs = [ev(hm(10, 0), 'a', null), ev(hm(10, 20), 'b', null), ev(hm(11, 20), 'c', null)];
    const pv = [true, true, false];
    const purchase = [false, false, true];
    const mark = (flags: boolean[], es = evs) => es.map((e, i) => ({ ...e, match: flags[i]! }));
    const t = hm(11, 30);
    const values = (es: SequenceEvent[], pvs: boolean[], buys: boolean[]) => [
      at(session('session_count', W7D), es, t),
      at(session('session_count', W7D), mark(buys, es), t),
      at(session('session_avg_duration', W7D), es, t),
      at(session('current_session_count'), es, t),
      at(session('current_session_count'), mark(pvs, es), t),
      at(session('current_session_duration'), es, t),
    ];
    expect(values(evs, pv, purchase)).toEqual([2, 1, 600, 1, 0, 0]);
    const late = [...evs, ev(hm(10, 50), 'd', null)];
    expect(values(late, [...pv, false], [...purchase, false])).toEqual([1, 1, 4800, 4, 2, 4800]);
    expect(at(session('current_session_count'), late, hm(11, 51))).toBe(0);
  });

  it('previous events: 1, then 3 after a late event', () => {
    const evs = [ev(hm(12, 0), 'a'), ev(hm(12, 0, 80), 'b'), ev(hm(12, 0, 180), 'c')];
    const t = hm(12, 1);
    expect(bruteForcePrevious(gap(100), evs, t, ...W1H, MEM)).toBe(1);
    const late = [...evs, ev(hm(12, 0, 150), 'd')];
    expect(bruteForcePrevious(gap(100), late, t, ...W1H, MEM)).toBe(3);
  });
});
