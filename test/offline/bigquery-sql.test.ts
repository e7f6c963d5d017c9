/**
 * BigQuery SQL rendering: expressions (map lookups, STRUCT paths, toNumber, …) and golden
 * SQL for one feature of each kind and for materialization tiles
 * (`test/offline/golden/bigquery/<name>.sql`). Regenerate the
 * golden files after an intended change (a missing file fails, it is never written silently) with `UPDATE_GOLDEN=1 npx vitest run test/offline/bigquery-sql.test.ts`
 * and review the diff.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bqExportSql } from '../../offline/bigquery/sql/export-sql.ts';
import { bqTilesSql } from '../../offline/bigquery/sql/tiles-sql.ts';
import { bqSequenceEventsSql } from '../../offline/bigquery/sql/sequence-events-sql.ts';
import { renderBqExpr } from '../../offline/bigquery/sql/render-expr.ts';
import { bqSourceSql } from '../../offline/bigquery/sql/ingest-rules-sql.ts';
import type { Pass } from '../../offline/export/pass.ts';
import { col } from '../../definitions/expr/expr.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { expectGolden } from '../support/golden.ts';
import { tempRepo } from '../support/temp-repo.ts';
import { CONFORMANCE_REPO } from './conformance-repo.ts';

const GOLDEN = join(import.meta.dirname, 'golden/bigquery');
const ENT = '`proj.ds._larder_entities_x`';
/** The ingest rules of the reads: a fixed clock (the store's at the read) and the default skew. */
const RULES = { now: 1_700_100_000_000, maxFutureSkewMs: 5 * 60_000 };

let shop: Repository;
let conf: Repository;
let cleanup: () => void;

beforeAll(async () => {
  shop = await loadRepository('examples/ecommerce/features');
  const r = tempRepo({ 'repo.ts': CONFORMANCE_REPO });
  cleanup = r.cleanup;
  conf = await loadRepository(r.dir);
});
afterAll(() => cleanup?.());

function passOf(repo: Repository, view: string, features: string[]): Pass {
  const def = repo.featureViews.get(view)!;
  const s = def.source;
  const src = ('batch' in s ? s.batch : s).spec;
  return {
    schema: src.schema,
    // What `BigQueryEngine.source` reads: the table's rows the ingest rules accept.
    srcTable: bqSourceSql(
      `\`proj.ds.${src.bigqueryTable}\``,
      Object.keys(src.schema.fields),
      src.timestampField,
      RULES,
    ),
    timestampField: src.timestampField,
    idField: src.idField,
    keys: def.entityDefs.map((e) => ({
      joinKey: e.spec.joinKey,
      expr: def.spec.keys[e.spec.joinKey]!,
    })),
    filter: def.spec.filter,
    features: def.spec.features
      .filter((f) => features.includes(f.name))
      .map((f, i) => ({ col: `__f${i}`, view: def.spec, feature: f })),
  };
}

/** A missing golden file fails; only `UPDATE_GOLDEN=1` writes them (test/support/golden.ts). */
function golden(name: string, sql: string): void {
  expectGolden(GOLDEN, `${name}.sql`, sql);
}

describe('BigQuery expressions', () => {
  it('renders map lookups, STRUCT paths, comparisons and toNumber', () => {
    const schema = shop.batchSources.get('user_events_batch')!.spec.schema;
    expect(renderBqExpr(schema, col('properties.productId').node, { table: 's' })).toBe(
      "(SELECT __kv.value FROM UNNEST(s.`properties`) AS __kv WHERE __kv.key = 'productId' LIMIT 1)",
    );
    expect(renderBqExpr(schema, col('context.platform').node)).toBe('`context`.`platform`');
    expect(renderBqExpr(schema, col('eventType').eq("it's").node)).toBe("(`eventType` = 'it\\'s')");
    expect(renderBqExpr(schema, col('userId').isNotNull().node)).toBe('(`userId` IS NOT NULL)');
    expect(renderBqExpr(schema, col('timestamp').toNumber().node)).toBe(
      'CAST(`timestamp` AS FLOAT64)',
    );
    expect(renderBqExpr(schema, col('properties.price').toNumber().node)).toContain(
      'SAFE_CAST(REGEXP_EXTRACT(',
    );
    // Integers beyond int64 are FLOAT64 literals (an INT64 literal would not parse).
    expect(renderBqExpr(schema, col('timestamp').lt(2 ** 63).node)).toBe(
      "(`timestamp` < CAST('9223372036854776000' AS FLOAT64))",
    );
    expect(renderBqExpr(schema, col('timestamp').lt(1e21).node)).toBe(
      "(`timestamp` < CAST('1e+21' AS FLOAT64))",
    );
    const tx = shop.batchSources.get('transactions_batch')!.spec.schema;
    expect(
      renderBqExpr(tx, col('orderItems[].category').node, {
        unnested: { orderItems: '__item' },
      }),
    ).toBe('__item.`category`');
  });
});

describe('BigQuery golden SQL per feature kind', () => {
  const cases: [string, () => Pass][] = [
    ['count-where', () => passOf(shop, 'user_activity', ['page_views_1h'])],
    ['count-map-key', () => passOf(shop, 'product_engagement', ['views_24h'])],
    [
      'sum-avg-max',
      () =>
        passOf(shop, 'user_purchases', ['spend_30d', 'avg_order_value_30d', 'max_order_value_30d']),
    ],
    ['min', () => passOf(conf, 'stats', ['min_1h'])],
    ['last-windowed', () => passOf(conf, 'stats', ['last_kind_1h'])],
    ['last-lifetime', () => passOf(shop, 'user_activity', ['last_platform', 'last_event_ts'])],
    ['last-lifetime-to-number', () => passOf(shop, 'product_catalog', ['price'])],
    ['mode-unnest-weighted', () => passOf(shop, 'user_purchases', ['preferred_category_30d'])],
    ['mode-scalar', () => passOf(conf, 'stats', ['mode_kind_1h'])],
    [
      'count-distinct-last-n',
      () =>
        passOf(shop, 'user_interest', [
          'recently_viewed_products',
          'distinct_products_viewed_24h',
          'distinct_categories_viewed_7d',
        ]),
    ],
    [
      'two-entity-view',
      () => passOf(shop, 'user_product_engagement', ['up_views_7d', 'up_last_view_ts']),
    ],
    [
      'sessions',
      () =>
        passOf(
          shop,
          'user_sessions',
          shop.featureViews.get('user_sessions')!.spec.features.map((f) => f.name),
        ),
    ],
    ['previous-event', () => passOf(shop, 'user_risk', ['fast_events_1h', 'ip_changes_1h'])],
  ];
  it.each(cases)('%s', (name, pass) => {
    golden(name, bqExportSql([pass()], ENT).sql);
  });

  // Materialization (computeTiles): one query per hop size, then the lifetime query.
  const tileCases: [string, () => Pass][] = [
    [
      'tiles-user-activity',
      () =>
        passOf(
          shop,
          'user_activity',
          shop.featureViews.get('user_activity')!.spec.features.map((f) => f.name),
        ),
    ],
    [
      'tiles-user-purchases',
      () =>
        passOf(
          shop,
          'user_purchases',
          shop.featureViews.get('user_purchases')!.spec.features.map((f) => f.name),
        ),
    ],
    ['tiles-stats', () => passOf(conf, 'stats', ['min_1h', 'last_kind_1h', 'mode_kind_1h'])],
    [
      'tiles-user-interest',
      () =>
        passOf(
          shop,
          'user_interest',
          shop.featureViews.get('user_interest')!.spec.features.map((f) => f.name),
        ),
    ],
  ];
  it.each(tileCases)('%s', (name, pass) => {
    const queries = bqTilesSql(pass(), 1_700_000_000_000, 1_700_086_400_000);
    golden(
      name,
      queries
        .map(
          (q) =>
            `-- hop ${q.hopMs ?? 'lifetime'}: ${q.features.map((f) => f.name).join(', ')}\n${q.sql}`,
        )
        .join('\n'),
    );
  });

  // Materialization of sequence features: the events, folded locally into sequence states.
  it('sequence-events-user-risk', () => {
    const pass = passOf(shop, 'user_risk', ['fast_events_1h', 'ip_changes_1h']);
    golden(
      'sequence-events-user-risk',
      bqSequenceEventsSql(
        pass,
        pass.features.map((pf) => pf.feature),
        1_700_000_000_000,
        1_700_086_400_000,
      ),
    );
  });

  it('joins several passes on __rid and names result columns rid, c0, c1, …', () => {
    const q = bqExportSql(
      [
        passOf(shop, 'user_activity', ['events_24h']),
        passOf(shop, 'product_catalog', ['category']),
      ],
      ENT,
    );
    expect(q.columns).toEqual(['__f0', '__f0']);
    expect(q.sql).toMatch(
      /SELECT e\.__rid AS rid, COALESCE\(p0_h3600000\.`__f0`, 0\) AS c0, p1_life\.`__f0` AS c1 FROM/,
    );
    expect(q.sql.trimEnd().endsWith('ORDER BY e.__rid')).toBe(true);
  });
});
