/**
 * Micro-benchmark of `ReadPlan.evaluate` (the CPU part of every online read): one product of
 * `product_engagement` (20 minute + 15 hour tiles) and the user of `user_activity` /
 * `user_purchases` (30 min + 60 h + 10 d tiles), as bench/online-read.ts populates them.
 * Prints CPU µs per evaluation (process.cpuUsage, robust on a loaded machine), median of 5.
 *
 *   npx tsx bench/read-plan.ts
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../core/duration.ts';
import { loadRepository } from '../definitions/load.ts';
import { readPlan } from '../online/read-plan.ts';
import { seededHops } from './seeded-hops.ts';

const repo = await loadRepository('examples/ecommerce/features');
const spec = (name: string) => repo.featureViews.get(name)!.spec;
const T = Date.now();
const { rnd, hops } = seededHops(T);
type Entity = { fields: string[]; values: string[] };
const entity = (
  tiles: [number, number[], () => Record<string, unknown>][],
  life: Record<string, unknown> = {},
): Entity => {
  const fields: string[] = [];
  const values: string[] = [];
  for (const [hopMs, hs, st] of tiles)
    for (const h of hs) {
      fields.push(`${hopMs}:${h}`);
      values.push(JSON.stringify(st()));
    }
  for (const [k, v] of Object.entries(life)) {
    fields.push(`l:${k}`);
    values.push(JSON.stringify(v));
  }
  return { fields, values };
};
const CATS = ['electronics', 'fashion', 'books', 'home', 'toys'];
const cases: [string, ReturnType<typeof spec>, Entity][] = [
  [
    'product_engagement',
    spec('product_engagement'),
    entity([
      [
        MINUTE_MS,
        hops(MINUTE_MS, 60, 20),
        () => {
          const v = 1 + rnd(10);
          return { views_5m: v, views_1h: v };
        },
      ],
      [
        HOUR_MS,
        hops(HOUR_MS, 24, 15),
        () => ({ views_24h: 5 + rnd(100), cart_adds_24h: rnd(10), purchases_24h: rnd(4) }),
      ],
    ]),
  ],
  [
    'product_catalog',
    spec('product_catalog'),
    entity([], {
      price: { v: 12.99, ts: T - 1000, id: 'e-1' },
      category: { v: 'books', ts: T - 1000, id: 'e-1' },
    }),
  ],
  [
    'user_activity',
    spec('user_activity'),
    entity(
      [
        [
          MINUTE_MS,
          hops(MINUTE_MS, 60, 30),
          () => ({ page_views_1h: 1 + rnd(5), clicks_1h: rnd(3) }),
        ],
        [
          HOUR_MS,
          hops(HOUR_MS, 168, 60),
          () => {
            const n = 1 + rnd(20);
            return {
              page_views_7d: n,
              cart_adds_7d: rnd(2),
              searches_24h: rnd(4),
              events_24h: n + 3,
            };
          },
        ],
      ],
      {
        last_platform: { v: 'mobile', ts: T - 5000, id: 'e-1' },
        last_event_ts: { v: T - 5000, ts: T - 5000, id: 'e-1' },
      },
    ),
  ],
  [
    'user_purchases',
    spec('user_purchases'),
    entity([
      [
        DAY_MS,
        hops(DAY_MS, 30, 10),
        () => {
          const a = 10 + rnd(200) + 0.99;
          return {
            purchases_30d: 1,
            spend_30d: a,
            avg_order_value_30d: { sum: a, count: 1 },
            max_order_value_30d: a,
            preferred_category_30d: { [CATS[rnd(5)]!]: 1 + rnd(3) },
          };
        },
      ],
    ]),
  ],
];

const ITER = Number(process.env.ITER ?? 20000);
let sink = 0;
for (const [name, view, e] of cases) {
  const plan = readPlan({ view, entityKeys: ['x'], t: T });
  // Fresh string copies per call, as a store returns them (no parse cache hit on identity).
  const copies = Array.from({ length: 64 }, () => e.values.map((v) => (' ' + v).slice(1)));
  const runs: number[] = [];
  for (let r = 0; r < 6; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < ITER; i++)
      sink += plan.evaluate(T, e.fields, copies[i & 63]!, true, T + 5).length;
    const c = process.cpuUsage(c0);
    if (r > 0) runs.push((c.user + c.system) / ITER);
  }
  runs.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(20)} ${String(e.fields.length).padStart(3)} fields  ${runs[2]!.toFixed(2).padStart(7)} µs CPU / evaluate (median of 5 × ${ITER})`,
  );
}
if (sink < 0) console.log(sink);
