/**
 * The product categories of the synthetic shop: their share of the catalog, a log-uniform base
 * price range and the search queries shoppers type for them. `electronics`, `fashion` and
 * `books` matter beyond realism: the on-demand feature `device_optimization` keys on them.
 */
export interface CategorySpec {
  name: string;
  /** Relative share of the catalog's products. */
  share: number;
  /** Base prices are log-uniform in [minPrice, maxPrice] (currency units). */
  minPrice: number;
  maxPrice: number;
  queries: readonly string[];
}

export const CATEGORIES: readonly CategorySpec[] = [
  {
    name: 'electronics',
    share: 0.18,
    minPrice: 9.99,
    maxPrice: 1499,
    queries: [
      'wireless headphones',
      'usb c cable',
      'laptop',
      '4k monitor',
      'phone case',
      'smart watch',
      'bluetooth speaker',
      'mechanical keyboard',
    ],
  },
  {
    name: 'fashion',
    share: 0.2,
    minPrice: 7.99,
    maxPrice: 299,
    queries: [
      'running shoes',
      'denim jacket',
      'summer dress',
      'leather belt',
      'wool sweater',
      'sneakers',
      'sunglasses',
    ],
  },
  {
    name: 'books',
    share: 0.14,
    minPrice: 4.99,
    maxPrice: 59.99,
    queries: [
      'science fiction',
      'cookbook',
      'mystery novel',
      'children book',
      'history',
      'programming typescript',
    ],
  },
  {
    name: 'home',
    share: 0.14,
    minPrice: 6.99,
    maxPrice: 599,
    queries: [
      'coffee maker',
      'bed sheets',
      'desk lamp',
      'storage box',
      'cast iron pan',
      'throw pillow',
    ],
  },
  {
    name: 'beauty',
    share: 0.09,
    minPrice: 3.99,
    maxPrice: 129,
    queries: ['face cream', 'shampoo', 'lipstick', 'sunscreen', 'perfume'],
  },
  {
    name: 'sports',
    share: 0.1,
    minPrice: 8.99,
    maxPrice: 449,
    queries: ['yoga mat', 'dumbbells', 'tennis racket', 'bike helmet', 'water bottle'],
  },
  {
    name: 'toys',
    share: 0.08,
    minPrice: 4.99,
    maxPrice: 149,
    queries: ['lego', 'board game', 'puzzle', 'plush toy', 'remote control car'],
  },
  {
    name: 'grocery',
    share: 0.07,
    minPrice: 0.99,
    maxPrice: 39.99,
    queries: ['coffee beans', 'olive oil', 'dark chocolate', 'green tea', 'pasta'],
  },
];

/** The category names, in {@link CATEGORIES} order. */
export const CATEGORY_NAMES: readonly string[] = CATEGORIES.map((c) => c.name);
