import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.ts';
import { armCrash, crashPoint, parseCrashAt } from '../../config/test-crash.ts';

afterEach(() => armCrash(null));

describe('LARDER_TEST_CRASH_AT', () => {
  it('is read once through the config: <point>:<n>, or a config error naming the points', () => {
    expect(resolveConfig({}, '/tmp', {}).testCrashAt).toBeNull();
    expect(
      resolveConfig({}, '/tmp', { LARDER_TEST_CRASH_AT: 'after-pending-mark:3' }).testCrashAt,
    ).toEqual({ point: 'after-pending-mark', n: 3 });
    for (const bad of ['after-pending-mark', 'nowhere:1', 'after-store-write:0'])
      expect(() => resolveConfig({}, '/tmp', { LARDER_TEST_CRASH_AT: bad })).toThrow(
        /LARDER_TEST_CRASH_AT=.*after-sink-append, after-pending-mark, after-slot-scripts, after-store-write/,
      );
    expect(parseCrashAt('after-sink-append:12')).toEqual({ point: 'after-sink-append', n: 12 });
  });

  it('fires on the n-th hit of its point only', () => {
    const fired: string[] = [];
    armCrash({ point: 'after-slot-scripts', n: 2 }, (at) => fired.push(`${at.point}:${at.n}`));
    crashPoint('after-slot-scripts');
    crashPoint('after-pending-mark');
    expect(fired).toEqual([]);
    crashPoint('after-slot-scripts');
    crashPoint('after-slot-scripts');
    expect(fired).toEqual(['after-slot-scripts:2']);
  });

  it('is a no-op when unarmed', () => {
    expect(() => crashPoint('after-store-write')).not.toThrow();
  });
});
