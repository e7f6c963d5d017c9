/**
 * Shrunk counterexamples of the differential fuzzer, kept as fixed cases: each runs every
 * in-process path (export with both engines, materialized and pushed SQLite) against the
 * reference, like the bounded run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../../registry/duration.ts';
import type { ViewPlan } from './definitions.ts';
import { describeMismatches } from './differential.ts';
import { atAnchor, type FuzzCase } from './fuzz-case.ts';
import { ANCHOR, openInProcessEnv, type InProcessEnv } from './in-process.ts';

const NOW = 40 * 24 * HOUR_MS + MINUTE_MS + 1;

const tx = (id: string, method: string, ts: number, extra: Record<string, unknown> = {}) => ({
  source: 'transactions' as const,
  record: {
    transactionId: id,
    userId: 'u1',
    orderItems: [],
    totalAmount: 1,
    currency: 'EUR',
    paymentMethod: method,
    status: 'completed',
    timestamp: ts,
    ...extra,
  },
});

const countView = (features: ViewPlan['features']): ViewPlan => ({
  name: 'v0',
  source: 'transactions',
  entity: 'user',
  key: { col: 'paymentMethod' },
  filter: null,
  ttlMinutes: 90 * 24 * 60,
  features,
});

const REGRESSIONS: { name: string; case: FuzzCase }[] = [
  {
    // A record exactly at the materialization end ("now"), read at now and one hop later.
    name: 'a record at now counts at now, in every path',
    case: {
      plans: [
        countView([
          {
            name: 'n',
            aggregation: 'count',
            input: null,
            weight: null,
            windowMinutes: 60,
            hopMinutes: null,
            where: null,
          },
          {
            name: 'last_status',
            aggregation: 'last',
            input: { col: 'status' },
            weight: null,
            windowMinutes: null,
            hopMinutes: null,
            where: null,
          },
        ]),
      ],
      now: NOW,
      records: [tx('2', '-3', NOW), tx('é32', '-3', NOW, { status: 'pending' })],
      exportRows: [
        { user_id: '-3', product_id: 'p', t: NOW - 1 },
        { user_id: '-3', product_id: 'p', t: NOW },
      ],
      onlineReads: [
        { user_id: '-3', product_id: 'p', t: NOW },
        { user_id: '-3', product_id: 'p', t: NOW + MINUTE_MS },
      ],
    },
  },
];

describe('differential fuzzing regressions', () => {
  let env: InProcessEnv;
  beforeAll(async () => {
    env = await openInProcessEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  it.each(REGRESSIONS)('$name', async ({ case: c }) => {
    expect(describeMismatches(await env.check(atAnchor(c, ANCHOR)))).toBe('');
  });
});
