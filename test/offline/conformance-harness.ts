/** What the offline-store conformance suite needs from a store under test. */
import type { OfflineStore } from '../../offline/offline-store.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';

export interface ConformanceHarness {
  store: OfflineStore;
  /**
   * Replaces the raw data of `source` with these JSON Lines (`lines`, one record a line, may
   * hold bad records when `rawFiles`); `file` names the file (default `part-00000.jsonl`).
   */
  writeSource(source: BatchSourceSpec, lines: string[], file?: string): Promise<void>;
  /** Reads raw JSON Lines files, so rejects are reported with file names and line numbers. */
  rawFiles: boolean;
  /** Stops the store and removes what the harness created. */
  close(): Promise<void>;
}
