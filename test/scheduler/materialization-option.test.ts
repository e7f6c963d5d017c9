import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { DefinitionError } from '../../core/errors.ts';
import {
  batchSource,
  batchView,
  col,
  count,
  entity,
  featureView,
} from '../../definitions/index.ts';

const user = entity({ name: 'user', joinKey: 'user_id' });
const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), userId: z.string(), kind: z.string(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
const view = (materialization: unknown) =>
  featureView({
    name: 'activity',
    entities: [user],
    source: events,
    keys: { user_id: col('userId') },
    ttl: '30d',
    features: { clicks_1h: count({ window: '1h' }) },
    ...(materialization === undefined
      ? {}
      : { materialization: materialization as { every: string } }),
  });
const batch = (materialization: unknown, schedule: object = { every: '1d' }) =>
  batchView({
    name: 'kinds',
    entities: [user],
    source: events,
    columns: { user_id: col('userId') },
    ...schedule,
    ttl: '2d',
    query: 'SELECT user_id, COUNT(*) AS n FROM source GROUP BY user_id',
    features: { n: 'int64' },
    materialization: materialization as { every: string },
  });
const problems = (f: () => unknown): { field: string; message: string; hint?: string }[] => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DefinitionError);
    return (e as DefinitionError).problems;
  }
  throw new Error('no DefinitionError');
};

describe('materialization: the schedule larder scheduler runs', () => {
  it('is absent from the spec when not declared (content hashes of existing views keep)', () => {
    expect('materialization' in view(undefined).spec).toBe(false);
  });

  it('parses every/offset with its defaults', () => {
    expect(view({ every: '1h', offset: '5m' }).spec.materialization).toEqual({
      everyMs: HOUR_MS,
      offsetMs: 5 * MINUTE_MS,
      cron: null,
      retries: 0,
      retryDelayMs: 5 * MINUTE_MS,
      backoff: 'fixed',
      timeoutMs: null,
      catchUp: false,
    });
  });

  it("parses the original pipeline's DAG: daily 02:00, 2 retries 5 minutes apart, 2 h timeout", () => {
    const m = view({ cron: '0 2 * * *', retries: 2, retryDelay: '5m', timeout: '2h' }).spec
      .materialization;
    expect(m).toEqual({
      everyMs: DAY_MS,
      offsetMs: 2 * HOUR_MS,
      cron: '0 2 * * *',
      retries: 2,
      retryDelayMs: 5 * MINUTE_MS,
      backoff: 'fixed',
      timeoutMs: 2 * HOUR_MS,
      catchUp: false,
    });
  });

  it('refuses bad declarations with the field and a hint', () => {
    expect(problems(() => view({}))).toEqual([
      expect.objectContaining({
        field: 'materialization',
        message: 'a materialization schedule needs every or cron',
        hint: "add every: '1h' or cron: '0 2 * * *'",
      }),
    ]);
    expect(problems(() => view({ every: '1h', cron: '0 2 * * *' }))[0]).toMatchObject({
      field: 'materialization.cron',
      message: 'give either cron or every (with an optional offset), not both',
    });
    expect(problems(() => view({ cron: '0 2,14 * * *' }))[0]).toMatchObject({
      field: 'materialization.cron',
      message: expect.stringContaining('has no fixed period'),
    });
    expect(problems(() => view({ every: '1h', offset: '1h' }))[0]).toMatchObject({
      field: 'materialization.offset',
      message: 'offset 1h must be shorter than every 1h',
    });
    expect(problems(() => view({ every: '2s' }))[0]).toMatchObject({
      field: 'materialization.every',
      message: expect.stringContaining('is not a duration'),
    });
    expect(problems(() => view({ every: '1h', timeout: 'soon' }))[0]).toMatchObject({
      field: 'materialization.timeout',
    });
    expect(problems(() => view({ offset: '5m' }))[0]).toMatchObject({
      field: 'materialization.offset',
      message: 'an offset needs every',
    });
    expect(problems(() => view({ every: '1h', retries: -1 }))[0]).toMatchObject({
      field: 'materialization.retries',
    });
    expect(problems(() => view({ every: '1h', when: 'daily' }))[0]).toMatchObject({
      field: 'materialization',
      message: expect.stringContaining('when'),
    });
  });

  it("a batch view's materialization runs at its snapshot times unless it names its own", () => {
    expect(batch({ retries: 1 }, { cron: '30 2 * * *' }).spec.materialization).toMatchObject({
      everyMs: DAY_MS,
      offsetMs: 2 * HOUR_MS + 30 * MINUTE_MS,
      cron: '30 2 * * *',
      retries: 1,
    });
    expect(batch({ every: '1h' }).spec.materialization).toMatchObject({
      everyMs: HOUR_MS,
      offsetMs: 0,
    });
  });
});
