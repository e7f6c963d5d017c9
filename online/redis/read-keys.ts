/**
 * The Redis keys of reads, kept per view by entity key (bounded). A read of 1 user × 100
 * products names ≈ 200 keys; a key built afresh is a new string (a concatenation) whose hash
 * each map it is looked up in computes again — the read's deduplication, the plain read
 * connection's last answers — where a kept key's is computed once and found by identity.
 */
import { redisKey } from './redis-keys.ts';

/** Keys kept at most (over all views): ≈ 100 bytes each with the map's entry. */
const MAX_KEYS = 65_536;

export class ReadKeys {
  readonly #namespace: string;
  readonly #max: number;
  readonly #byView = new Map<string, Map<string, string>>();
  #size = 0;
  /** Keys found and not found since the maps filled (-1: not full). */
  #hitsFull = -1;
  #missesFull = 0;

  constructor(namespace: string, max = MAX_KEYS) {
    this.#namespace = namespace;
    this.#max = max;
  }

  /**
   * The keys of `entities` of `view` (`redisKey`), in order. When full, the keys held are kept
   * (a working set a little larger than the bound still finds most) and others built afresh,
   * until fewer than 1 in 4 lookups since it filled found theirs, over at least 4 per key held:
   * then it starts again (the working set moved).
   *
   * @example
   * new ReadKeys('larder').keys('user_activity', ['u1']); // ['larder:user_activity:{u1}']
   */
  keys(view: string, entities: readonly string[]): string[] {
    let byEntity = this.#byView.get(view);
    if (byEntity === undefined) this.#byView.set(view, (byEntity = new Map()));
    const out = new Array<string>(entities.length);
    for (let i = 0; i < entities.length; i++) {
      const e = entities[i]!;
      let key = byEntity.get(e);
      if (key === undefined) {
        key = redisKey(this.#namespace, view, e);
        if (this.#size < this.#max) {
          byEntity.set(e, key);
          this.#size++;
        } else this.#missFull();
      } else if (this.#hitsFull >= 0) this.#hitsFull++;
      out[i] = key;
    }
    return out;
  }

  #missFull(): void {
    if (this.#hitsFull < 0) this.#hitsFull = this.#missesFull = 0;
    const misses = ++this.#missesFull;
    const seen = misses + this.#hitsFull;
    if (seen < 4 * this.#size || this.#hitsFull * 4 >= seen) return;
    this.#byView.clear();
    this.#size = 0;
    this.#hitsFull = -1;
  }
}
