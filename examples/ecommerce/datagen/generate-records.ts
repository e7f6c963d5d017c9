import type { Transaction, UserEvent } from '../features/schemas.ts';
import { Catalog } from './catalog.ts';
import { CATEGORY_NAMES } from './categories.ts';
import type { GeneratedRecord, GenRecordsOptions } from './gen-data-options.ts';
import { spanStart, validateGenOptions } from './gen-data-options.ts';
import { idWidth, pad } from './ids.ts';
import { MinHeap } from './min-heap.ts';
import { Rng } from './rng.ts';
import type { CartLine, SessionStep } from './session-planner.ts';
import { planSession } from './session-planner.ts';
import { trafficWeight } from './traffic.ts';
import type { Visitor } from './user-profiles.ts';
import { UserBase } from './user-profiles.ts';

const BIN = 60_000;
const ANONYMOUS_SHARE = 0.1;

const REFERRERS = [
  'https://www.google.com/',
  'https://www.bing.com/',
  'https://www.facebook.com/',
  'https://www.instagram.com/',
  'https://t.co/',
  'https://www.youtube.com/',
  'https://mail.google.com/',
  'https://www.pinterest.com/',
];
const REFERRER_WEIGHTS = [0.45, 0.07, 0.12, 0.1, 0.04, 0.07, 0.1, 0.05];

const STATUSES = ['completed', 'pending', 'failed', 'refunded'];
const STATUS_WEIGHTS = [0.86, 0.05, 0.06, 0.03];

/** A session in flight: its plan and the index and time of its next event. */
interface ActiveSession {
  seq: number;
  id: string;
  visitor: Visitor;
  referrer: string | null;
  start: number;
  steps: SessionStep[];
  cart: CartLine[];
  next: number;
  ts: number;
}

const bySchedule = (a: ActiveSession, b: ActiveSession): number => a.ts - b.ts || a.seq - b.seq;

/**
 * Generates the synthetic history as one stream of records in nondecreasing timestamp order
 * (a transaction directly follows the purchase event it belongs to, at the same timestamp).
 * This is the single source of truth behind both the files of {@link genData} and
 * {@link produceToKafka}; it is deterministic in its options.
 *
 * Sessions are started minute by minute, as many as the diurnal traffic curve asks for, and
 * kept in a time-ordered queue; each minute the queue emits every event due before the next
 * minute. Memory is bounded by the sessions in flight, not by the number of events.
 *
 * @example
 * for (const { topic, record } of generateRecords({ users: 100, products: 50, days: 1, events: 1000, seed: 1, end: Date.UTC(2024, 0, 8) })) {
 *   if (topic === 'transactions') console.log(record.totalAmount);
 * }
 */
export function* generateRecords(
  opts: GenRecordsOptions,
): Generator<GeneratedRecord, void, undefined> {
  validateGenOptions(opts);
  const { seed, end, events: total } = opts;
  const start = spanStart(opts);
  const rng = new Rng(seed);
  const catalog = new Catalog(seed, opts.products);
  const users = new UserBase(seed, opts.users);
  const width = idWidth(total, 6);
  const heap = new MinHeap<ActiveSession>(bySchedule);

  const bins = Math.ceil((end - start) / BIN);
  let totalWeight = 0;
  for (let b = 0; b < bins; b++) totalWeight += binWeight(start, end, b);

  let planned = 0;
  let sessions = 0;
  let eventSeq = 0;
  let txSeq = 0;
  let cumWeight = 0;
  for (let b = 0; b < bins; b++) {
    const binStart = start + b * BIN;
    const binEnd = Math.min(end, binStart + BIN);
    cumWeight += binWeight(start, end, b);
    const target =
      b === bins - 1 ? total : Math.min(total, Math.round((total * cumWeight) / totalWeight));
    while (planned < target) {
      const anonymous = users.size === 0 || rng.chance(ANONYMOUS_SHARE);
      const visitor = anonymous
        ? users.anonymous(rng)
        : users.visitor(users.sampleActive(rng), rng);
      const { steps, cart } = planSession(rng, catalog, visitor);
      if (planned + steps.length > total) steps.length = total - planned;
      const sessionStart = binStart + rng.int(binEnd - binStart);
      fitSpan(steps, sessionStart, end);
      planned += steps.length;
      const referrer = rng.chance(0.35)
        ? null
        : (REFERRERS[rng.weighted(REFERRER_WEIGHTS)] as string);
      heap.push({
        seq: sessions,
        id: `s-${seed}-${pad(sessions, width)}`,
        visitor,
        referrer,
        start: sessionStart,
        steps,
        cart,
        next: 0,
        ts: sessionStart,
      });
      sessions++;
    }
    for (let s = heap.peek(); s !== undefined && s.ts < binEnd; s = heap.peek()) {
      heap.pop();
      const step = s.steps[s.next] as SessionStep;
      const ts = s.ts;
      const event = buildEvent(s, step, ts, `evt-${seed}-${pad(eventSeq++, width)}`);
      if (step.type === 'purchase') {
        const tx = buildTransaction(s, ts, `tx-${seed}-${pad(txSeq++, width)}`);
        event.properties.amount = tx.totalAmount.toFixed(2);
        yield { topic: 'user_events', record: event };
        yield { topic: 'transactions', record: tx };
      } else {
        yield { topic: 'user_events', record: event };
      }
      s.next++;
      if (s.next < s.steps.length) {
        s.ts = s.start + (s.steps[s.next] as SessionStep).offset;
        heap.push(s);
      }
    }
  }

  function buildEvent(s: ActiveSession, step: SessionStep, ts: number, eventId: string): UserEvent {
    const properties: Record<string, string> = {};
    if (step.type === 'purchase') {
      const first = s.cart[0] as CartLine;
      properties.productId = catalog.productId(first.product);
      properties.category = catalog.category(first.product);
      properties.price = formatCents(catalog.priceCents(first.product, ts));
    } else if (step.product >= 0) {
      properties.productId = catalog.productId(step.product);
      properties.category = catalog.category(step.product);
      properties.price = formatCents(catalog.priceCents(step.product, ts));
    } else if (step.category >= 0) {
      properties.category = CATEGORY_NAMES[step.category] as string;
    }
    if (step.query !== null) properties.query = step.query;
    properties.page = step.page;
    const v = s.visitor;
    return {
      eventId,
      userId: v.userId,
      sessionId: s.id,
      eventType: step.type,
      timestamp: ts,
      properties,
      context: { userAgent: v.userAgent, ip: v.ip, platform: v.platform, referrer: s.referrer },
    };
  }

  function buildTransaction(s: ActiveSession, ts: number, transactionId: string): Transaction {
    let totalCents = 0;
    const orderItems = s.cart.map((line) => {
      const cents = catalog.priceCents(line.product, ts);
      totalCents += cents * line.quantity;
      return {
        productId: catalog.productId(line.product),
        quantity: line.quantity,
        price: cents / 100,
        category: catalog.category(line.product),
      };
    });
    return {
      transactionId,
      userId: s.visitor.userId as string,
      orderItems,
      totalAmount: totalCents / 100,
      currency: s.visitor.currency,
      paymentMethod: rng.chance(0.8) ? s.visitor.paymentMethod : 'card',
      status: STATUSES[rng.weighted(STATUS_WEIGHTS)] as string,
      timestamp: ts,
    };
  }
}

/** The traffic weight of minute bin `b`, scaled down for a partial last bin. */
function binWeight(start: number, end: number, b: number): number {
  const binStart = start + b * BIN;
  const len = Math.min(end, binStart + BIN) - binStart;
  return (trafficWeight(binStart + len / 2) * len) / BIN;
}

/** Compresses a session's offsets so its last event falls before `end`. */
function fitSpan(steps: SessionStep[], sessionStart: number, end: number): void {
  const last = steps[steps.length - 1];
  if (!last || sessionStart + last.offset < end) return;
  const room = end - 1 - sessionStart;
  const scale = last.offset === 0 ? 0 : room / last.offset;
  for (const step of steps) step.offset = Math.floor(step.offset * scale);
}

/** `1999` → `"19.99"` (non-negative cents). */
function formatCents(cents: number): string {
  const frac = cents % 100;
  return `${(cents - frac) / 100}.${frac < 10 ? '0' : ''}${frac}`;
}
