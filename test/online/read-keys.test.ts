import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadKeys } from '../../online/redis/read-keys.ts';
import { redisKey } from '../../online/redis/redis-keys.ts';

describe('ReadKeys', () => {
  it("gives each entity's redisKey, in order, whatever it holds, when full and after starting again", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.array(
          fc.tuple(
            fc.constantFrom('user_activity', 'product_catalog', 'a:b'),
            fc.array(fc.oneof(fc.constantFrom('u1', 'u2', 'p1', ''), fc.string()), {
              maxLength: 8,
            }),
          ),
          { maxLength: 40 },
        ),
        (max, reads) => {
          const keys = new ReadKeys('ns', max);
          for (const [view, entities] of reads)
            expect(keys.keys(view, entities)).toEqual(entities.map((e) => redisKey('ns', view, e)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
