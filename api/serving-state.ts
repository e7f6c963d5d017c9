/**
 * What a request is served from: the loaded repository and the online store, swapped as one
 * object on a registry reload. A request reads `state.current` once at its start and keeps that
 * snapshot, so a swap never affects a request in flight.
 */
import type { ModelSet } from '../models/model-set.ts';
import type { OnlineStore } from '../online/online-store.ts';
import type { Repository } from '../definitions/repository.ts';

export interface ServingSnapshot {
  readonly repo: Repository;
  readonly store: OnlineStore;
  /** ONNX sessions of the repository's models (loaded at start and on every reload). */
  readonly models?: ModelSet;
  /** Registry version the repository was loaded for (0 when not from a registry file). */
  readonly version: number;
  readonly loadedAt: number;
}

/**
 * @example
 * const state = new ServingState({ repo, store, version: 1, loadedAt: Date.now() });
 * const { repo } = state.current;
 */
export class ServingState {
  #current: ServingSnapshot;

  constructor(initial: ServingSnapshot) {
    this.#current = initial;
  }

  get current(): ServingSnapshot {
    return this.#current;
  }

  /** Atomically replaces the snapshot; returns the previous one (close its store later). */
  swap(next: ServingSnapshot): ServingSnapshot {
    const prev = this.#current;
    this.#current = next;
    return prev;
  }
}
