import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Transaction, UserEvent } from '../../examples/ecommerce/features/schemas.ts';
import {
  EVENT_TYPES,
  TRANSACTION_STATUSES,
  TransactionSchema,
  UserEventSchema,
} from '../../examples/ecommerce/features/schemas.ts';
import type {
  GenDataOptions,
  GenDataSummary,
  GeneratedRecord,
} from '../../examples/ecommerce/datagen/index.ts';
import { genData, generateRecords } from '../../examples/ecommerce/datagen/index.ts';

const DAY = 86_400_000;
const BASE = {
  users: 400,
  products: 300,
  days: 7,
  events: 20_000,
  seed: 7,
  end: Date.UTC(2024, 0, 15, 6, 30),
};
const START = BASE.end - BASE.days * DAY;

const eventsAvro = avro.Type.forSchema(
  JSON.parse(readFileSync('examples/ecommerce/features/avro/events.avsc', 'utf8')),
);
const txAvro = avro.Type.forSchema(
  JSON.parse(readFileSync('examples/ecommerce/features/avro/transactions.avsc', 'utf8')),
);

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-datagen-'));
  dirs.push(dir);
  return dir;
}

async function run(
  over: Partial<GenDataOptions> = {},
): Promise<{ dir: string; summary: GenDataSummary }> {
  const dir = await tempDir();
  const summary = await genData({ ...BASE, outDir: dir, format: 'jsonl', ...over });
  return { dir, summary };
}

function lines(text: string): string[] {
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

async function readJsonl<T>(dir: string, topic: string): Promise<T[]> {
  const files = (await readdir(join(dir, 'raw', topic))).filter((f) => f.endsWith('.jsonl')).sort();
  const out: T[] = [];
  for (const f of files) {
    for (const line of lines(await readFile(join(dir, 'raw', topic, f), 'utf8')))
      out.push(JSON.parse(line) as T);
  }
  return out;
}

let dir = '';
let summary: GenDataSummary;
let events: UserEvent[] = [];
let txs: Transaction[] = [];
let stream: GeneratedRecord[] = [];

// A few seconds on a quiet machine; more than the default 10 s under load (a whole-suite run of
// 2026-12-08 at a load of ~20 failed here), so this hook has the tests' own 30 s and more.
beforeAll(async () => {
  ({ dir, summary } = await run());
  events = await readJsonl<UserEvent>(dir, 'user_events');
  txs = await readJsonl<Transaction>(dir, 'transactions');
  stream = [...generateRecords(BASE)];
}, 60_000);

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('genData', () => {
  it('writes the exact number of events and reports what it wrote', () => {
    expect(summary.events).toBe(BASE.events);
    expect(events).toHaveLength(BASE.events);
    expect(txs).toHaveLength(summary.transactions);
    // One transaction per purchase event (and there are some).
    expect(summary.transactions).toBe(events.filter((e) => e.eventType === 'purchase').length);
    expect(summary.transactions).toBeGreaterThan(0);
    expect(summary.anonymousEvents).toBe(events.filter((e) => e.userId === null).length);
    expect(summary.files).toEqual([
      join(dir, 'raw', 'user_events', 'part-00000.jsonl'),
      join(dir, 'raw', 'transactions', 'part-00000.jsonl'),
    ]);
    expect(summary.start).toBe(START);
    expect(summary.end).toBe(BASE.end);
  });

  it('is deterministic: same seed → identical bytes, another seed → different bytes', async () => {
    const again = await run();
    const other = await run({ seed: 8 });
    for (const topic of ['user_events', 'transactions']) {
      const file = join('raw', topic, 'part-00000.jsonl');
      const a = await readFile(join(dir, file));
      expect((await readFile(join(again.dir, file))).equals(a)).toBe(true);
      expect((await readFile(join(other.dir, file))).equals(a)).toBe(false);
    }
  });

  it('files hold exactly the records generateRecords yields, in order', () => {
    expect(stream.filter((r) => r.topic === 'user_events').map((r) => r.record)).toEqual(events);
    expect(stream.filter((r) => r.topic === 'transactions').map((r) => r.record)).toEqual(txs);
  });

  it('every record validates against the zod and the Avro schemas', () => {
    for (const e of events) {
      expect(UserEventSchema.safeParse(e).success).toBe(true);
      expect(eventsAvro.isValid(e)).toBe(true);
    }
    for (const t of txs) {
      expect(TransactionSchema.safeParse(t).success).toBe(true);
      expect(txAvro.isValid(t)).toBe(true);
    }
    // avsc's default (wrapUnions 'auto') takes a nullable string as a plain value.
    const anonymous = events.find((e) => e.userId === null);
    expect(anonymous && eventsAvro.isValid(anonymous)).toBe(true);
    expect(eventsAvro.isValid({ ...anonymous, userId: { string: 'u1' } })).toBe(false);
  });

  it('timestamps are within [start, end) and nondecreasing, across both sources', () => {
    let last = -Infinity;
    for (const { record } of stream) {
      expect(record.timestamp).toBeGreaterThanOrEqual(Math.max(last, START));
      expect(record.timestamp).toBeLessThan(BASE.end);
      last = record.timestamp;
    }
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(new Set(txs.map((t) => t.transactionId)).size).toBe(txs.length);
  });

  it('product popularity is Zipf-like: the top 10% of products get > 40% of page views', () => {
    const views = new Map<string, number>();
    for (const e of events) {
      const p = e.properties.productId;
      if (e.eventType === 'page_view' && p) views.set(p, (views.get(p) ?? 0) + 1);
    }
    const counts = [...views.values()].sort((a, b) => b - a);
    const total = counts.reduce((a, b) => a + b, 0);
    const top = counts.slice(0, Math.ceil(BASE.products / 10)).reduce((a, b) => a + b, 0);
    expect(top / total).toBeGreaterThan(0.4);
  });

  it('has ~10% anonymous events, every event type, platform and status, and null referrers', () => {
    const share = summary.anonymousEvents / summary.events;
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.15);
    expect(new Set(events.map((e) => e.eventType))).toEqual(new Set(EVENT_TYPES));
    expect(new Set(txs.map((t) => t.status))).toEqual(new Set(TRANSACTION_STATUSES));
    expect(txs.filter((t) => t.status === 'completed').length / txs.length).toBeGreaterThan(0.7);
    expect(new Set(events.map((e) => e.context.platform))).toEqual(
      new Set(['desktop', 'mobile', 'tablet']),
    );
    expect(events.some((e) => e.context.referrer === null)).toBe(true);
    expect(events.some((e) => e.context.referrer !== null)).toBe(true);
    expect(new Set(txs.map((t) => t.currency))).toEqual(new Set(['USD', 'EUR']));
    const categories = new Set(events.map((e) => e.properties.category).filter(Boolean));
    for (const c of ['electronics', 'fashion', 'books']) expect(categories.has(c)).toBe(true);
  });

  it('carries the properties each event type needs', () => {
    for (const e of events) {
      const p = e.properties;
      if (e.eventType === 'search') {
        expect(p.query).toMatch(/\S/);
        expect(p.productId).toBeUndefined();
      } else if (e.eventType === 'page_view') {
        expect(p.page).toMatch(/\S/);
        if (p.productId) expect(p.price).toMatch(/^\d+\.\d{2}$/);
      } else {
        expect(p.productId).toMatch(/^p\d{5}$/);
        expect(p.category).toMatch(/\S/);
        expect(p.price).toMatch(/^\d+\.\d{2}$/);
        expect(p.page).toMatch(/\S/);
      }
      if (e.eventType === 'purchase') expect(p.amount).toMatch(/^\d+\.\d{2}$/);
      else expect(p.amount).toBeUndefined();
    }
    expect(
      events.some((e) => e.eventType === 'page_view' && e.properties.productId === undefined),
    ).toBe(true);
  });

  it('changes some product prices over the period', () => {
    const prices = new Map<string, Set<string>>();
    for (const e of events) {
      const { productId, price } = e.properties;
      if (productId && price)
        prices.set(productId, (prices.get(productId) ?? new Set()).add(price));
    }
    const changed = [...prices.values()].filter((s) => s.size > 1).length;
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThan(prices.size); // some prices never change
  });

  it('follows a diurnal curve: more traffic in the evening (UTC) than in the morning', () => {
    const hourOf = (ts: number): number => new Date(ts).getUTCHours();
    const evening = events.filter(
      (e) => hourOf(e.timestamp) >= 18 && hourOf(e.timestamp) < 22,
    ).length;
    const morning = events.filter(
      (e) => hourOf(e.timestamp) >= 6 && hourOf(e.timestamp) < 10,
    ).length;
    expect(evening).toBeGreaterThan(1.5 * morning);
  });

  it('gives every purchase event exactly one transaction, consistent with it', () => {
    const purchases = stream.filter(
      (r) => r.topic === 'user_events' && r.record.eventType === 'purchase',
    );
    expect(purchases).toHaveLength(txs.length);
    stream.forEach((item, i) => {
      if (item.topic !== 'transactions') return;
      const prev = stream[i - 1];
      if (prev?.topic !== 'user_events')
        throw new Error('a transaction must follow its purchase event');
      const e = prev.record;
      const t = item.record;
      expect(e.eventType).toBe('purchase');
      expect(t.userId).toBe(e.userId);
      expect(t.timestamp).toBe(e.timestamp);
      expect(e.properties.amount).toBe(t.totalAmount.toFixed(2));
      expect(e.properties.productId).toBe(t.orderItems[0]?.productId);
      expect(e.properties.price).toBe(t.orderItems[0]?.price.toFixed(2));
      expect(t.orderItems.length).toBeGreaterThan(0);
      const cents = t.orderItems.reduce((s, o) => s + Math.round(o.price * 100) * o.quantity, 0);
      expect(t.totalAmount).toBe(cents / 100);
      for (const o of t.orderItems) {
        expect(o.quantity).toBeGreaterThanOrEqual(1);
        expect(o.quantity).toBeLessThanOrEqual(3);
      }
      // The items were added to the cart earlier in the same session.
      const session = events.filter(
        (x) => x.sessionId === e.sessionId && x.eventType === 'add_to_cart',
      );
      for (const o of t.orderItems)
        expect(session.some((x) => x.properties.productId === o.productId)).toBe(true);
    });
    expect(events.filter((e) => e.eventType === 'purchase' && e.userId === null)).toHaveLength(0);
  });

  it('rolls a new part every partSize records; the parts concatenate to the single file', async () => {
    const rolled = await run({ partSize: 6_000 });
    expect(rolled.summary.files.map((f) => f.slice(rolled.dir.length))).toEqual([
      '/raw/user_events/part-00000.jsonl',
      '/raw/user_events/part-00001.jsonl',
      '/raw/user_events/part-00002.jsonl',
      '/raw/user_events/part-00003.jsonl',
      '/raw/transactions/part-00000.jsonl',
    ]);
    const parts = await Promise.all(
      rolled.summary.files.slice(0, 4).map((f) => readFile(f, 'utf8')),
    );
    expect(parts.join('')).toBe(
      await readFile(join(dir, 'raw/user_events/part-00000.jsonl'), 'utf8'),
    );
  });

  it('handles tiny and empty runs, and replaces the parts of a previous run', async () => {
    const { dir: d, summary: big } = await run({ events: 2_000, partSize: 500 });
    expect(big.files).toHaveLength(5);
    const one = await genData({ ...BASE, events: 1, outDir: d, format: 'jsonl' });
    expect(one.events).toBe(1);
    expect(await readdir(join(d, 'raw/user_events'))).toEqual(['part-00000.jsonl']);
    const empty = await genData({ ...BASE, events: 0, outDir: d, format: 'jsonl' });
    expect(empty).toMatchObject({ events: 0, transactions: 0 });
    expect(await readFile(join(d, 'raw/user_events/part-00000.jsonl'), 'utf8')).toBe('');
    expect(await readFile(join(d, 'raw/transactions/part-00000.jsonl'), 'utf8')).toBe('');
  });

  it('rejects invalid options', async () => {
    await expect(run({ events: -1 })).rejects.toThrow(RangeError);
    await expect(run({ products: 0 })).rejects.toThrow(/products/);
    expect(() => [...generateRecords({ ...BASE, days: 0 })]).toThrow(/days/);
  });

  it('makes everyone anonymous when there are no users', () => {
    const records = [...generateRecords({ ...BASE, users: 0, events: 500 })];
    expect(records.every((r) => r.topic === 'user_events' && r.record.userId === null)).toBe(true);
    expect(records).toHaveLength(500);
  });
});

describe('genData parquet', () => {
  it('writes Parquet files DuckDB reads back with the same rows and values as JSON Lines', async () => {
    const pq = await run({ format: 'parquet', partSize: 15_000 });
    expect(pq.summary.files.map((f) => f.slice(pq.dir.length))).toEqual([
      '/raw/user_events/part-00000.parquet',
      '/raw/user_events/part-00001.parquet',
      '/raw/transactions/part-00000.parquet',
    ]);
    expect(await readdir(join(pq.dir, 'raw/user_events'))).toEqual([
      'part-00000.parquet',
      'part-00001.parquet',
    ]);
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const read = async (topic: string, order: string): Promise<unknown[]> => {
        const glob = join(pq.dir, 'raw', topic, '*.parquet');
        const reader = await conn.runAndReadAll(
          `SELECT to_json(x) AS j FROM read_parquet('${glob}') x ORDER BY ${order}`,
        );
        return reader.getRowObjectsJson().map((r) => JSON.parse(String(r.j)));
      };
      expect(await read('user_events', 'eventId')).toEqual(events);
      expect(await read('transactions', 'transactionId')).toEqual(txs);
      const types = await conn.runAndReadAll(
        `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${join(pq.dir, 'raw/user_events/*.parquet')}'))`,
      );
      expect(
        Object.fromEntries(types.getRowsJson().map(([n, t]) => [String(n), String(t)])),
      ).toMatchObject({
        timestamp: 'BIGINT',
        properties: 'MAP(VARCHAR, VARCHAR)',
      });
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
