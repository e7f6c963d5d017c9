import { CATEGORIES } from './categories.ts';
import { hash32, hashUnit } from './hash.ts';
import { coprimeStride, idWidth, pad } from './ids.ts';
import type { Rng } from './rng.ts';
import { ZipfSampler } from './zipf-sampler.ts';

const DAY = 86_400_000;
const SALT_CATEGORY = 11;
const SALT_PRICE = 12;
const SALT_REPRICE = 13;
const SALT_PERIOD = 14;
const SALT_PHASE = 15;
const SALT_FACTOR = 16;
const SALT_ORDER = 17;

/** Price multipliers a repriced period can take: mostly unchanged, sometimes a sale or a rise. */
const FACTORS = [1, 1, 1, 1, 1, 0.9, 0.85, 0.8, 0.75, 1.05, 1.1, 1.15] as const;

/**
 * The product catalog: ids, categories, base prices, prices over time and popularity.
 * Popularity is Zipf over a seeded permutation of the products (so `p00000` is not the best
 * seller); about half of the products are repriced every 2–9 days (sales and rises), so
 * `properties.price` of one product changes across days. Memory: a few bytes per product.
 *
 * @example
 * const catalog = new Catalog(42, 1000);
 * const p = catalog.samplePopular(rng);
 * catalog.productId(p); catalog.category(p); catalog.priceCents(p, ts);
 */
export class Catalog {
  readonly size: number;
  readonly #seed: number;
  readonly #width: number;
  readonly #category: Uint8Array;
  readonly #baseCents: Int32Array;
  /** Repricing period in ms (0 = fixed price) and its phase. */
  readonly #period: Float64Array;
  readonly #phase: Float64Array;
  readonly #zipf: ZipfSampler;
  readonly #stride: number;
  readonly #offset: number;
  /** Per category: its products ordered by global popularity, and a Zipf sampler over them. */
  readonly #byCategory: { products: Int32Array; zipf: ZipfSampler | null }[];

  constructor(seed: number, products: number, zipfS = 1.1) {
    this.size = products;
    this.#seed = seed;
    this.#width = idWidth(products, 5);
    this.#category = new Uint8Array(products);
    this.#baseCents = new Int32Array(products);
    this.#period = new Float64Array(products);
    this.#phase = new Float64Array(products);
    const shares = CATEGORIES.map((c) => c.share);
    const totalShare = shares.reduce((a, b) => a + b, 0);
    const counts = new Array<number>(CATEGORIES.length).fill(0);
    for (let i = 0; i < products; i++) {
      // The first products cycle through every category, so even a tiny catalog has them all.
      let c = i % CATEGORIES.length;
      if (i >= CATEGORIES.length) {
        let x = hashUnit(seed, i, SALT_CATEGORY) * totalShare;
        for (c = 0; c < shares.length - 1; c++) {
          x -= shares[c] as number;
          if (x < 0) break;
        }
      }
      this.#category[i] = c;
      counts[c] = (counts[c] as number) + 1;
      const spec = CATEGORIES[c] as (typeof CATEGORIES)[number];
      const u = hashUnit(seed, i, SALT_PRICE);
      const price = Math.exp(Math.log(spec.minPrice) + u * Math.log(spec.maxPrice / spec.minPrice));
      this.#baseCents[i] = retailCents(price * 100);
      if (hashUnit(seed, i, SALT_REPRICE) < 0.5) {
        this.#period[i] = (2 + (hash32(seed, i, SALT_PERIOD) % 8)) * DAY;
        this.#phase[i] = hash32(seed, i, SALT_PHASE) % DAY;
      }
    }
    this.#zipf = new ZipfSampler(products, zipfS);
    this.#stride = coprimeStride(products, hash32(seed, products, SALT_ORDER));
    this.#offset = hash32(seed, products + 1, SALT_ORDER) % products;
    const lists = counts.map((n) => new Int32Array(n));
    const filled = new Array<number>(CATEGORIES.length).fill(0);
    for (let rank = 0; rank < products; rank++) {
      const p = this.#byRank(rank);
      const c = this.#category[p] as number;
      (lists[c] as Int32Array)[filled[c] as number] = p;
      filled[c] = (filled[c] as number) + 1;
    }
    this.#byCategory = lists.map((list) => ({
      products: list,
      zipf: list.length > 0 ? new ZipfSampler(list.length, zipfS) : null,
    }));
  }

  /** A product index, drawn by global popularity. */
  samplePopular(rng: Rng): number {
    return this.#byRank(this.#zipf.sample(rng));
  }

  /** A product index of category `c` (by popularity within it), or a popular one if `c` is empty. */
  sampleInCategory(rng: Rng, c: number): number {
    const entry = this.#byCategory[c];
    if (!entry?.zipf) return this.samplePopular(rng);
    return entry.products[entry.zipf.sample(rng)] as number;
  }

  productId(p: number): string {
    return `p${pad(p, this.#width)}`;
  }

  /** The category index (into {@link CATEGORIES}) of product `p`. */
  categoryIndex(p: number): number {
    return this.#category[p] as number;
  }

  category(p: number): string {
    return (CATEGORIES[this.#category[p] as number] as (typeof CATEGORIES)[number]).name;
  }

  /** The price of product `p` at time `ts`, in cents. */
  priceCents(p: number, ts: number): number {
    const base = this.#baseCents[p] as number;
    const period = this.#period[p] as number;
    if (period === 0) return base;
    const k = Math.floor((ts + (this.#phase[p] as number)) / period);
    const f = FACTORS[hash32(this.#seed ^ SALT_FACTOR, p, k) % FACTORS.length] as number;
    return f === 1 ? base : retailCents(base * f);
  }

  #byRank(rank: number): number {
    return (rank * this.#stride + this.#offset) % this.size;
  }
}

/** Rounds a price in cents to a retail-looking one ending in 9 (`19.99`, `4.49`, `0.99`). */
function retailCents(cents: number): number {
  const c = Math.round(cents);
  return Math.max(99, c - (c % 10) + 9);
}
