import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import { SLOW_FIRST, SlowFirstSequencer } from './slow-first-sequencer.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('SlowFirstSequencer', () => {
  it('lists only test files that exist, once each', () => {
    for (const f of SLOW_FIRST)
      expect({ f, exists: existsSync(resolve(ROOT, f)) }).toEqual({ f, exists: true });
    expect(new Set(SLOW_FIRST).size).toBe(SLOW_FIRST.length);
  });

  it('starts the listed files first, in list order, then the rest in vitest’s order (largest first without a cache)', async () => {
    const sizes: Record<string, number> = {
      'test/a.test.ts': 10,
      [SLOW_FIRST[2]!]: 5,
      'test/b.test.ts': 30,
      [SLOW_FIRST[0]!]: 1,
      'test/c.test.ts': 20,
    };
    const ctx = {
      config: { root: ROOT },
      cache: {
        getFileTestResults: () => undefined,
        getFileStats: (key: string) => ({ size: sizes[key.slice(key.indexOf(':') + 1)]! }),
      },
    } as unknown as Vitest;
    const specs = Object.keys(sizes).map(
      (f) =>
        ({ moduleId: resolve(ROOT, f), project: { name: 'unit' } }) as unknown as TestSpecification,
    );
    const sorted = await new SlowFirstSequencer(ctx).sort(specs);
    expect(sorted.map((s) => s.moduleId)).toEqual(
      [SLOW_FIRST[0]!, SLOW_FIRST[2]!, 'test/b.test.ts', 'test/c.test.ts', 'test/a.test.ts'].map(
        (f) => resolve(ROOT, f),
      ),
    );
  });
});
