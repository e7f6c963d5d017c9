/**
 * `POST /push`: Feast's push API. A push names a push source (or, in Larder, a stream source:
 * both are pushable) and carries column-wise rows of the source's batch-source records.
 */
import type { ApplyObserver } from '../../streaming/apply-records.ts';
import type { ServingSnapshot } from '../serving-state.ts';

export type PushTarget = 'online' | 'offline' | 'online_and_offline';

export interface PushRequest {
  source: string;
  /** Column-wise records, as Feast's `df`. */
  columns: Readonly<Record<string, readonly unknown[]>>;
  to: PushTarget;
  /**
   * The `Idempotency-Key` header: a repeat within 24 h (per namespace) answers the first answer
   * and applies nothing.
   */
  idempotencyKey?: string;
}

export interface PushResult {
  rows: number;
  /** Feature views updated online. */
  views: string[];
  /** JSONL file appended (offline pushes). */
  file: string | null;
  /** True when the answer is the stored one of an earlier push with the same idempotency key. */
  replayed?: boolean;
}

/** Where pushed rows go. The streaming path implements the same interface. */
export interface PushHandler {
  /**
   * Validates and applies a push against a serving snapshot; LarderError on bad rows.
   * `observer` hears what the online apply wrote (the dashboard's freshness and live stats).
   */
  push(
    snapshot: ServingSnapshot,
    request: PushRequest,
    observer?: ApplyObserver,
  ): Promise<PushResult>;
}
