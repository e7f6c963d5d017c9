import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { BASE_REPO, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** Loads a repository expected to be invalid and returns its problems. */
async function problemsOf(files: Record<string, string>): Promise<DefinitionError['problems']> {
  const r = tempRepo(files);
  cleanups.push(r.cleanup);
  const err = await loadRepository(r.dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DefinitionError);
  return (err as DefinitionError).problems;
}

describe('definition validation', () => {
  it('accepts the base repository', async () => {
    const r = tempRepo({ 'repo.ts': BASE_REPO });
    cleanups.push(r.cleanup);
    const repo = await loadRepository(r.dir);
    expect(repo.featureViews.get('activity')?.spec.features.map((f) => f.name)).toEqual([
      'clicks_1h',
      'spend_7d',
      'last_kind',
    ]);
  });

  it('names the file, line, object and field of an unknown feature in a service', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO,
      'service.ts': `import { featureService, select } from 'larder';\nimport { activity } from './repo.ts';\n\nexport const svc = featureService({ name: 'svc', features: [select(activity, ['clicks_1h', 'clicks_2h'])] });\n`,
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      object: 'feature service "svc"',
      field: 'features[0]',
      message: 'unknown feature "activity:clicks_2h"',
    });
    expect(problems[0]!.at).toMatch(/service\.ts:4$/);
    expect(problems[0]!.hint).toContain('clicks_1h, spend_7d, last_kind');
  });

  it('reports duplicate names with both locations', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO,
      'dup.ts': `import { entity } from 'larder';\nexport const user2 = entity({ name: 'user', joinKey: 'uid' });\n`,
    });
    // Files load in name order: dup.ts comes first, so repo.ts's `user` is the duplicate.
    expect(problems[0]!.message).toMatch(/^duplicate name: also defined at .*dup\.ts:2$/);
    expect(problems[0]!.at).toMatch(/repo\.ts:4$/);
  });

  it('refuses a window that is not a multiple of its hop, suggesting a fix', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace("window: '1h' }", "window: '90m', hop: '1h' }"),
    });
    expect(problems[0]).toMatchObject({
      object: 'feature view "activity"',
      field: 'features.clicks_1h',
      message: 'window 90m is not a multiple of hop 1h',
    });
    expect(problems[0]!.hint).toContain('1h');
  });

  it('catches a type mismatch in an on-demand input', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO,
      'odfv.ts': `import { feature, onDemandFeatureView } from 'larder';
import { activity, user } from './repo.ts';
export const od = onDemandFeatureView({
  name: 'od', entities: [user],
  inputs: { k: feature(activity, 'last_kind', 'int64') },
  features: { k2: 'int64' },
  transform: ({ k }) => ({ k2: k }),
});
`,
    });
    expect(problems[0]).toMatchObject({ object: 'on demand feature view "od"', field: 'inputs.k' });
    expect(problems[0]!.message).toBe(
      'type mismatch: "activity:last_kind" is string but the transform declares int64',
    );
    expect(problems[0]!.hint).toBe("declare feature(activity, 'last_kind', 'string')");
  });

  it('requires an expression for every entity join key', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace("keys: { user_id: col('userId') }", 'keys: {}'),
    });
    expect(problems[0]).toMatchObject({
      field: 'keys.user_id',
      message: 'no expression for the join key "user_id" of entity "user"',
    });
    expect(problems[0]!.hint).toContain("user_id: col('<field of the source record>')");
  });

  it('reports unknown record fields with the known ones', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace("col('kind').eq('click')", "col('knd').eq('click')"),
    });
    expect(problems[0]!.field).toBe('features.clicks_1h');
    expect(problems[0]!.message).toContain(
      'the record has no field "knd" (fields: id, userId, kind, amount, ts)',
    );
  });

  it('lists every problem of a view at once', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace("ttl: '30d'", "ttl: '30 days'")
        .replace("sum(col('amount'), { window: '7d' })", "sum(col('kind'), { window: '7d' })")
        .replace("last(col('kind'))", "count({ where: col('kind').eq(3), window: '1h' })"),
    });
    const byField = Object.fromEntries(problems.map((p) => [p.field, p.message]));
    expect(byField.ttl).toContain('"30 days" is not a duration');
    expect(byField['features.spend_7d']).toBe('sum needs a number, but kind is string');
    expect(byField['features.last_kind']).toContain('compares string with int64');
  });

  it('refuses per-element (array path) inputs outside mode: the offline engines unnest them for mode only', async () => {
    const withItems = BASE_REPO.replace(
      'amount: z.number(),',
      'amount: z.number(), items: z.array(z.object({ price: z.number(), cat: z.string() })),',
    ).replace('import { batchSource,', 'import { mode, batchSource,');
    const problems = await problemsOf({
      'repo.ts': withItems.replace(
        "sum(col('amount'), { window: '7d' })",
        "sum(col('items[].price'), { window: '7d' })",
      ),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toBe('features.spend_7d');
    expect(problems[0]!.message).toBe(
      'sum of items[].price reads one value per array element; only mode takes per-element inputs',
    );
    // mode over the same array, weighted by it, stays valid.
    const r = tempRepo({
      'repo.ts': withItems.replace(
        "last(col('kind'))",
        "mode(col('items[].cat'), { weight: col('items[].price'), window: '7d' })",
      ),
    });
    cleanups.push(r.cleanup);
    const repo = await loadRepository(r.dir);
    expect(repo.featureViews.get('activity')?.spec.features.map((f) => f.aggregation)).toEqual([
      'count',
      'sum',
      'mode',
    ]);
  });

  it('refuses windowless aggregations other than last', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace(
        "count({ where: col('kind').eq('click'), window: '1h' })",
        "count({ where: col('kind').eq('click') } as never)",
      ),
    });
    expect(problems[0]!.message).toBe('count needs a window');
  });

  it('rejects malformed builder options through zod, naming the field', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace("joinKey: 'user_id'", "joinKey: 'User Id'"),
    });
    expect(problems[0]).toMatchObject({ object: 'entity "user"', field: 'joinKey' });
    expect(problems[0]!.message).toContain('snake_case');
  });

  it('reports a file that fails to import', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO,
      'broken.ts': 'export const x = ;\n',
    });
    expect(problems[0]!.at).toMatch(/broken\.ts:1$/); // the line of the syntax error
    expect(problems[0]!.message).toContain('failed to load');
  });

  describe('typos that mean something else', () => {
    /** A source with an enum field and a map whose keys are declared. */
    const TYPO_REPO = `
import { z } from 'zod';
import { batchSource, col, count, entity, featureView, last } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const product = entity({ name: 'product', joinKey: 'product_id' });
export const events = batchSource({
  name: 'events',
  schema: z.object({
    id: z.string(),
    userId: z.string().nullable(),
    eventType: z.enum(['page_view', 'add_to_cart', 'purchase']),
    properties: z.record(z.string(), z.string()),
    ts: z.number().int(),
  }),
  timestampField: 'ts',
  idField: 'id',
  mapKeys: { properties: ['productId', 'category', 'price'] },
});
export const activity = featureView({
  name: 'activity', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '30d',
  features: {
    cart_adds_1h: count({ where: col('eventType').eq('add_to_cart'), window: '1h' }),
    buys_1h: count({ where: col('eventType').in(['purchase']), window: '1h' }),
    last_category: last(col('properties.category')),
  },
});
export const products = featureView({
  name: 'products', entities: [product], source: events,
  keys: { product_id: col('properties.productId') }, ttl: '30d',
  features: { views_1h: count({ where: col('eventType').ne('page_view'), window: '1h' }) },
});
`;

    it('accepts enum values and declared map keys', async () => {
      const r = tempRepo({ 'repo.ts': TYPO_REPO });
      cleanups.push(r.cleanup);
      const repo = await loadRepository(r.dir);
      expect(repo.batchSources.get('events')!.spec.schema.fields.properties).toEqual({
        kind: 'map',
        nullable: false,
        values: { kind: 'string', nullable: false },
        keys: ['productId', 'category', 'price'],
      });
    });

    it('refuses a comparison with a value the enum does not have, listing its values', async () => {
      const problems = await problemsOf({
        'repo.ts': TYPO_REPO.replace("eq('add_to_cart')", "eq('add_to_kart')").replace(
          "in(['purchase'])",
          "in(['purchase', 'checkout'])",
        ),
      });
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatchObject({
        object: 'feature view "activity"',
        field: 'features.cart_adds_1h',
        message:
          'where: "add_to_kart" is not a value of eventType, so eventType = "add_to_kart" is never true',
        hint: 'did you mean "add_to_cart"? eventType is one of: page_view, add_to_cart, purchase',
      });
      expect(problems[0]!.at).toMatch(/repo\.ts:19$/);
      expect(problems[1]).toMatchObject({
        field: 'features.buys_1h',
        message: expect.stringContaining('"checkout" is not a value of eventType'),
        hint: 'eventType is one of: page_view, add_to_cart, purchase',
      });
    });

    it('refuses a map key the source does not declare, in join keys and inputs alike', async () => {
      const [input] = await problemsOf({
        'repo.ts': TYPO_REPO.replace("col('properties.category')", "col('properties.categroy')"),
      });
      expect(input).toMatchObject({
        object: 'feature view "activity"',
        field: 'features.last_category',
        message: 'input: "properties.categroy": properties has no declared key "categroy"',
        hint: 'did you mean "properties.category"? declared keys of properties: productId, category, price (mapKeys of batch source "events")',
      });
      const problems = await problemsOf({
        'repo.ts': TYPO_REPO.replace(
          "col('properties.productId')",
          "col('properties.product_id')",
        ).replace("ne('page_view')", "ne('pageview')"),
      });
      expect(problems.map((p) => [p.object, p.field])).toEqual([
        ['feature view "products"', 'keys.product_id'],
        ['feature view "products"', 'features.views_1h'],
      ]);
      expect(problems[0]!.message).toBe(
        '"properties.product_id": properties has no declared key "product_id"',
      );
      expect(problems[0]!.hint).toContain('did you mean "properties.productId"?');
      expect(problems[1]!.message).toBe(
        'where: "pageview" is not a value of eventType, so eventType != "pageview" is always true for non-null values',
      );
      expect(problems[1]!.hint).toContain('did you mean "page_view"?');
    });

    it('without mapKeys, refuses one map key read in two spellings across views', async () => {
      const open = TYPO_REPO.replace(
        "  mapKeys: { properties: ['productId', 'category', 'price'] },\n",
        '',
      );
      const r = tempRepo({ 'repo.ts': open });
      cleanups.push(r.cleanup);
      // Undeclared keys are accepted when spelled one way...
      await expect(loadRepository(r.dir)).resolves.toBeDefined();
      // ...and a second spelling of a key another view reads is reported on both views.
      const problems = await problemsOf({
        'repo.ts': open,
        'more.ts': `import { col, last, featureView } from 'larder';
import { events, user } from './repo.ts';
export const more = featureView({
  name: 'more', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '30d',
  features: { last_product: last(col('properties.product_id')) },
});
`,
      });
      // Files load in name order: more.ts first.
      expect(problems.map((p) => [p.object, p.field])).toEqual([
        ['feature view "more"', 'features.last_product'],
        ['feature view "products"', 'keys.product_id'],
      ]);
      expect(problems[0]!.message).toBe(
        '"properties.product_id" reads key "product_id" of properties, but feature view "products" reads "productId": one of the two spellings is probably a typo',
      );
      expect(problems[0]!.hint).toBe(
        'use one spelling, or declare the keys of properties in mapKeys of batch source "events"',
      );
      expect(problems[0]!.at).toMatch(/more\.ts:3$/);
      expect(problems[1]!.message).toContain('but feature view "more" reads "product_id"');
    });

    it('refuses mapKeys that do not name a map of the schema', async () => {
      const problems = await problemsOf({
        'repo.ts': TYPO_REPO.replace(
          "mapKeys: { properties: ['productId', 'category', 'price'] }",
          "mapKeys: { properties: ['productId'], eventType: ['x'], nope: ['y'] }",
        ),
      });
      expect(problems.map((p) => [p.object, p.field, p.message])).toEqual([
        ['batch source "events"', 'mapKeys.eventType', '"eventType" is a string, not a map'],
        [
          'batch source "events"',
          'mapKeys.nope',
          '"nope": the record has no field "nope" (fields: id, userId, eventType, properties, ts)',
        ],
      ]);
    });
  });
});
