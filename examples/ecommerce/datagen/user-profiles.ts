import { CATEGORIES } from './categories.ts';
import { hash32, hashUnit } from './hash.ts';
import { coprimeStride, idWidth, pad } from './ids.ts';
import type { Rng } from './rng.ts';

export const PLATFORMS = ['desktop', 'mobile', 'tablet'] as const;
export type Platform = (typeof PLATFORMS)[number];

const PLATFORM_WEIGHTS = [0.42, 0.48, 0.1];
const CATEGORY_SHARES = CATEGORIES.map((c) => c.share);

const USER_AGENTS: Record<Platform, readonly string[]> = {
  desktop: [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
  ],
  mobile: [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36',
  ],
  tablet: [
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
  ],
};

const PAYMENT_METHODS = ['card', 'paypal', 'apple_pay', 'google_pay', 'bank_transfer', 'gift_card'];
const PAYMENT_WEIGHTS = [0.55, 0.2, 0.1, 0.08, 0.04, 0.03];

/** First octets of plausible public IPv4 addresses. */
const IP_PREFIXES = [24, 31, 46, 50, 62, 68, 73, 81, 89, 92, 98, 104, 109, 151, 176, 185, 203];

/** What a session needs to know about who is browsing. */
export interface Visitor {
  userId: string | null;
  platform: Platform;
  userAgent: string;
  ip: string;
  currency: string;
  paymentMethod: string;
  /** Index into {@link CATEGORIES} of the category this visitor searches most. */
  favoriteCategory: number;
  /** How readily this visitor adds to cart, relative to the average (0.35–2.5; 1 for anonymous). */
  propensity: number;
}

const SALT = {
  platform: 21,
  ua: 22,
  ip: 23,
  currency: 24,
  pay: 25,
  fav: 26,
  order: 27,
  buy: 28,
} as const;

/**
 * The user base. Every attribute of a user (preferred platform, user agent, IP, currency,
 * payment method, favourite category) is a pure hash of (seed, user), so the population costs
 * no memory. Activity is skewed: a few users account for many sessions.
 *
 * @example
 * const users = new UserBase(42, 5000);
 * const v = users.visitor(users.sampleActive(rng), rng); // v.userId === 'u01234'
 */
export class UserBase {
  readonly size: number;
  readonly #seed: number;
  readonly #width: number;
  readonly #stride: number;
  readonly #offset: number;

  constructor(seed: number, users: number) {
    this.size = users;
    this.#seed = seed;
    this.#width = idWidth(users, 5);
    this.#stride = coprimeStride(users, hash32(seed, users, SALT.order));
    this.#offset = users > 0 ? hash32(seed, users + 1, SALT.order) % users : 0;
  }

  /** A user index, skewed toward a seeded set of heavy users. */
  sampleActive(rng: Rng): number {
    const rank = Math.floor(this.size * Math.pow(rng.next(), 2));
    return (rank * this.#stride + this.#offset) % this.size;
  }

  /** The visitor of a logged-in user's session: mostly on the user's preferred platform. */
  visitor(u: number, rng: Rng): Visitor {
    const s = this.#seed;
    const preferred = pickWeighted(PLATFORM_WEIGHTS, hashUnit(s, u, SALT.platform));
    const platform = rng.chance(0.85)
      ? preferred
      : (PLATFORMS[rng.weighted(PLATFORM_WEIGHTS)] as Platform);
    return {
      userId: `u${pad(u, this.#width)}`,
      platform,
      userAgent: userAgent(platform, hash32(s, u, SALT.ua)),
      ip: ipAddress(hash32(s, u, SALT.ip)),
      currency: hashUnit(s, u, SALT.currency) < 0.12 ? 'EUR' : 'USD',
      paymentMethod: PAYMENT_METHODS[
        pickIndex(PAYMENT_WEIGHTS, hashUnit(s, u, SALT.pay))
      ] as string,
      favoriteCategory: pickIndex(CATEGORY_SHARES, hashUnit(s, u, SALT.fav)),
      propensity: 0.35 + 2.15 * Math.pow(hashUnit(s, u, SALT.buy), 2),
    };
  }

  /** An anonymous visitor (userId null) with random device and address. */
  anonymous(rng: Rng): Visitor {
    const platform = PLATFORMS[rng.weighted(PLATFORM_WEIGHTS)] as Platform;
    return {
      userId: null,
      platform,
      userAgent: userAgent(platform, rng.int(1 << 30)),
      ip: ipAddress(rng.int(2 ** 31)),
      currency: 'USD',
      paymentMethod: 'card',
      favoriteCategory: rng.int(CATEGORIES.length),
      propensity: 1,
    };
  }
}

function userAgent(platform: Platform, h: number): string {
  const list = USER_AGENTS[platform];
  return list[h % list.length] as string;
}

function ipAddress(h: number): string {
  const first = IP_PREFIXES[h % IP_PREFIXES.length] as number;
  return `${first}.${(h >>> 5) & 255}.${(h >>> 13) & 255}.${1 + ((h >>> 21) % 254)}`;
}

function pickIndex(weights: readonly number[], u: number): number {
  let total = 0;
  for (const w of weights) total += w;
  let x = u * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i] as number;
    if (x < 0) return i;
  }
  return weights.length - 1;
}

function pickWeighted(weights: readonly number[], u: number): Platform {
  return PLATFORMS[pickIndex(weights, u)] as Platform;
}
