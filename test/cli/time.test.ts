import { describe, expect, it } from 'vitest';
import { parseTime, parseTimestampUnit } from '../../cli/time.ts';

const NOW = Date.UTC(2026, 10, 27, 10, 0, 0);
const t = (text: string, opts = {}): number => parseTime(text, '--end', { now: NOW, ...opts });

function hintOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as { hint: string }).hint;
  }
  throw new Error('did not throw');
}

describe('parseTime: the one CLI time syntax', () => {
  it('reads now, now±duration, ISO-8601 (UTC without an offset) and epoch milliseconds', () => {
    expect(t('now')).toBe(NOW);
    expect(t('now-1d')).toBe(NOW - 86_400_000);
    expect(t('now+2h')).toBe(NOW + 7_200_000);
    expect(t('now - 30m')).toBe(NOW - 1_800_000);
    expect(t('2026-11-27T10:00:00Z')).toBe(NOW);
    expect(t('2026-11-27T10:00:00')).toBe(NOW);
    expect(t('2026-11-27 10:00')).toBe(NOW);
    expect(t('2026-11-27T12:00:00+02:00')).toBe(NOW);
    expect(t('2026-11-27')).toBe(Date.UTC(2026, 10, 27));
    expect(t(String(NOW))).toBe(NOW);
  });

  it('refuses epoch seconds and microseconds read as milliseconds, naming the fix', () => {
    expect(() => t(String(NOW / 1000))).toThrow(
      /--end 1795773600 read as epoch milliseconds is 1970-01-21T\S+; it looks like epoch seconds/,
    );
    expect(() => t(String(NOW * 1000))).toThrow(/it looks like epoch microseconds/);
    expect(hintOf(() => t(String(NOW / 1000), { unitOption: true }))).toContain(
      '--timestamp-unit s',
    );
    expect(hintOf(() => t(String(NOW / 1000)))).toContain(`write it in milliseconds (${NOW})`);
  });

  it('reads plain numbers in the --timestamp-unit given', () => {
    expect(t(String(NOW / 1000), { unit: 's' })).toBe(NOW);
    expect(t('1795773600.5', { unit: 's' })).toBe(NOW + 500);
    expect(t(String(NOW * 1000 + 999), { unit: 'us' })).toBe(NOW);
    expect(t('5', { unit: 'ms' })).toBe(5);
    expect(parseTimestampUnit('us')).toBe('us');
    expect(() => parseTimestampUnit('sec')).toThrow(
      /--timestamp-unit "sec" is not one of s, ms, us/,
    );
  });

  it('refuses anything else with one message and hint', () => {
    for (const bad of ['yesterday', 'now-1y', '27/11/2026', '2026-11-27T10', 'Nov 27 2026']) {
      expect(() => t(bad)).toThrow(/--end ".*"/);
    }
  });
});
