/**
 * The evaluator's state: `$LARDER_HOME/alerts/state.json`, written whole under a temporary
 * name and renamed after every evaluation, so a restart keeps what fired and what was sent, and
 * the dashboard (`GET /ui/api/alerts`) reads it from another process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LarderError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/write-file-atomic.ts';
import type { AlertRecord, SignalMemory } from './alert-types.ts';

export interface AlertState {
  format: 1;
  /** The last evaluation (epoch ms); null before the first. */
  evaluatedAt: number | null;
  alerts: Record<string, AlertRecord>;
  memory: SignalMemory;
}

export const alertStatePath = (home: string): string => join(home, 'alerts', 'state.json');

export const emptyAlertState = (): AlertState => ({
  format: 1,
  evaluatedAt: null,
  alerts: {},
  memory: {},
});

export function readAlertState(path: string): AlertState {
  if (!existsSync(path)) return emptyAlertState();
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as AlertState;
    if (s.format !== 1 || typeof s.alerts !== 'object') throw new Error('not an alert state');
    return { ...s, memory: s.memory ?? {} };
  } catch (e) {
    throw new LarderError('LARDER_CONFIG_INVALID', `the alert state file ${path} is not valid`, {
      hint: 'remove it: alerts firing now fire again on the next evaluation',
      cause: e,
    });
  }
}

export function writeAlertState(path: string, state: AlertState): void {
  writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
}
