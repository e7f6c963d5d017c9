import type { Catalog } from './catalog.ts';
import { CATEGORIES, CATEGORY_NAMES } from './categories.ts';
import type { Rng } from './rng.ts';
import type { Visitor } from './user-profiles.ts';

export type StepType = 'page_view' | 'click' | 'purchase' | 'add_to_cart' | 'search';

/** One planned event of a session. Prices are looked up when the event is emitted. */
export interface SessionStep {
  /** ms after the session start. */
  offset: number;
  type: StepType;
  /** Product index, or -1 (search, home and category pages, purchase). */
  product: number;
  /** Category index, or -1. */
  category: number;
  page: string;
  query: string | null;
}

export interface CartLine {
  product: number;
  quantity: number;
}

/** A session's events in order, and the cart its purchase (if any) checks out. */
export interface SessionPlan {
  steps: SessionStep[];
  cart: CartLine[];
}

const SHARES = CATEGORIES.map((c) => c.share);

/** (platform|category) → affinity, as in the spec's device_optimization on-demand feature. */
const DEVICE_AFFINITY: Record<string, number> = {
  'mobile|electronics': 0.8,
  'mobile|fashion': 0.9,
  'desktop|electronics': 0.9,
  'desktop|fashion': 0.7,
  'tablet|books': 0.9,
};

/**
 * Plans one visit as a funnel: an entry (search, home page, category page or a product landing
 * page), then 1–10 browsing rounds (optional search → product page view → click 35% →
 * add to cart 35% of clicks, 6% straight from the page), then, for logged-in visitors with a
 * non-empty cart, a purchase 45% of the time. Gaps between events are seconds to minutes.
 *
 * @example
 * const { steps, cart } = planSession(rng, catalog, visitor);
 */
export function planSession(rng: Rng, catalog: Catalog, visitor: Visitor): SessionPlan {
  const b: Builder = { rng, steps: [], t: 0, focus: -1, favorite: visitor.favoriteCategory };
  // Conversion carries signal a ranker can learn: the visitor's own propensity, their favourite
  // category, and the device/category affinities of the spec's device_optimization feature.
  const lift = (c: number): number =>
    Math.min(
      3,
      visitor.propensity *
        (c === visitor.favoriteCategory ? 1.8 : 0.8) *
        ((DEVICE_AFFINITY[`${visitor.platform}|${CATEGORY_NAMES[c] ?? ''}`] ?? 0.5) / 0.5) ** 1.5,
    );
  const cart: CartLine[] = [];
  const entry = rng.next();
  if (entry < 0.35) {
    search(b);
  } else if (entry < 0.6) {
    add(b, 'page_view', -1, -1, '/');
    gap(b, 5, 40);
  } else if (entry < 0.75) {
    b.focus = rng.weighted(SHARES);
    add(b, 'page_view', -1, b.focus, `/c/${CATEGORY_NAMES[b.focus] as string}`);
    gap(b, 5, 40);
  }

  let rounds = 1;
  while (rounds < 10 && rng.chance(0.6)) rounds++;
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      gap(b, 10, 120);
      if (rng.chance(0.4)) search(b);
      else if (rng.chance(0.5)) b.focus = -1;
    }
    const p = b.focus >= 0 ? catalog.sampleInCategory(rng, b.focus) : catalog.samplePopular(rng);
    const c = catalog.categoryIndex(p);
    const page = `/product/${catalog.productId(p)}`;
    add(b, 'page_view', p, c, page);
    let toCart = false;
    if (rng.chance(0.35)) {
      gap(b, 5, 60);
      add(b, 'click', p, c, page);
      toCart = rng.chance(Math.min(0.95, 0.35 * lift(c)));
    } else {
      toCart = rng.chance(0.06 * lift(c));
    }
    if (toCart) {
      gap(b, 2, 20);
      add(b, 'add_to_cart', p, c, page);
      const line = cart.find((l) => l.product === p);
      if (line) line.quantity = Math.min(3, line.quantity + 1);
      else cart.push({ product: p, quantity: rng.chance(0.75) ? 1 : rng.range(2, 3) });
    }
  }

  if (visitor.userId !== null && cart.length > 0 && rng.chance(0.45)) {
    gap(b, 30, 240);
    add(b, 'purchase', -1, -1, '/checkout');
  }
  return { steps: b.steps, cart };
}

/** The planner's running state (plain functions over it: no closures in the hot path). */
interface Builder {
  rng: Rng;
  steps: SessionStep[];
  /** Offset of the next event, ms. */
  t: number;
  /** Category the visitor is currently browsing, or -1. */
  focus: number;
  favorite: number;
}

function add(
  b: Builder,
  type: StepType,
  product: number,
  category: number,
  page: string,
  query: string | null = null,
): void {
  b.steps.push({ offset: b.t, type, product, category, page, query });
}

function gap(b: Builder, minS: number, maxS: number): void {
  b.t += b.rng.range(minS, maxS) * 1000 + b.rng.int(1000);
}

function search(b: Builder): void {
  b.focus = b.rng.chance(0.55) ? b.favorite : b.rng.weighted(SHARES);
  const spec = CATEGORIES[b.focus] as (typeof CATEGORIES)[number];
  add(b, 'search', -1, -1, '/search', b.rng.pick(spec.queries));
  gap(b, 3, 25);
}
