/**
 * Field names shared by every online store (see docs/online-store-format.md):
 * `<hopMs>:<hop>` for a tile, `l:<feature>` for a lifetime `last` state.
 */

export const LIFETIME_PREFIX = 'l:';

/** `60000:28333333`: the tile of hop `hop` (hop size `hopMs`). */
export function tileField(hopMs: number, hop: number): string {
  return `${hopMs}:${hop}`;
}

/** `l:last_platform`: the lifetime state of a feature. */
export function lifetimeField(feature: string): string {
  return LIFETIME_PREFIX + feature;
}

/** Whether a field holds a lifetime state (`l:` prefix), without allocating. */
export function isLifetimeField(field: string): boolean {
  return field.charCodeAt(0) === 108 /* l */ && field.charCodeAt(1) === 58; /* : */
}
