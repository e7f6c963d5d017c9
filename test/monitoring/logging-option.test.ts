import { describe, expect, it } from 'vitest';
import { featureService } from '../../definitions/index.ts';
import { DefinitionError } from '../../core/errors.ts';

const fields = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DefinitionError);
    return (e as DefinitionError).problems.map((p) => `${p.field}: ${p.message}`);
  }
  throw new Error('expected a DefinitionError');
};

describe('featureService({ logging })', () => {
  it('records sample and destinations (default: every request, to Parquet); absent = off', () => {
    const on = featureService({ name: 's', features: [{ view: 'v' }], logging: {} });
    expect(on.spec.logging).toEqual({ sample: 1, destinations: ['parquet'] });
    const both = featureService({
      name: 's',
      features: [{ view: 'v' }],
      logging: { sample: 0.25, destination: ['kafka', 'parquet', 'kafka'] },
    });
    expect(both.spec.logging).toEqual({ sample: 0.25, destinations: ['kafka', 'parquet'] });
    expect('logging' in featureService({ name: 's', features: [{ view: 'v' }] }).spec).toBe(false);
  });

  it('rejects a sample outside (0, 1], an unknown destination and unknown keys at definition', () => {
    for (const sample of [0, -0.5, 1.5])
      expect(
        fields(() =>
          featureService({ name: 's', features: [{ view: 'v' }], logging: { sample } }),
        ).join(),
      ).toMatch(/^logging\.sample: /);
    expect(
      fields(() =>
        featureService({
          name: 's',
          features: [{ view: 'v' }],
          logging: { destination: 'bigtable' as 'kafka' },
        }),
      ).join(),
    ).toMatch(/^logging\.destination/);
    expect(
      fields(() =>
        featureService({
          name: 's',
          features: [{ view: 'v' }],
          logging: { rate: 1 } as object,
        }),
      ).join(),
    ).toMatch(/^logging: .*rate/);
  });
});
