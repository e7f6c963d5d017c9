import { describe, expect, it } from 'vitest';
import { diffSpec } from '../../registry/spec-diff.ts';

const text = (a: unknown, b: unknown): string[] => diffSpec(a, b).map((d) => d.text);

describe('diffSpec: the changed paths inside one object', () => {
  it('is empty for equal objects, whatever their key order', () => {
    expect(diffSpec({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it('a window that becomes lifetime: window 1h → lifetime, hop 1m → none', () => {
    const f = (windowMs: number | null, hopMs: number | null) => ({
      features: [{ name: 'n', windowMs, hopMs }],
    });
    expect(text(f(3_600_000, 60_000), f(null, null))).toEqual([
      '~ features.n.window 1h → lifetime',
      '~ features.n.hop 1m → none',
    ]);
  });

  it('lists of strings compare whole; named lists by name; added and removed paths', () => {
    expect(
      text(
        { entities: ['user'], arms: [{ name: 'a', percent: 50 }], tags: { x: '1' } },
        {
          entities: ['user', 'product'],
          arms: [{ name: 'a', percent: 60 }, { name: 'b' }],
          tags: {},
        },
      ),
    ).toEqual([
      '~ entities [user] → [user, product]',
      '~ arms.a.percent 50 → 60',
      '+ arms.b',
      '- tags.x',
    ]);
  });

  it('expressions are shown as written', () => {
    const where = (v: string) => ({
      where: { op: 'eq', left: { op: 'col', path: 'kind' }, right: { op: 'lit', value: v } },
    });
    expect(text(where('a'), where('b'))).toEqual(['~ where kind = "a" → kind = "b"']);
  });
});
