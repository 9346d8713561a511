// How a run ended, as an exit code: the statuses are the API's, checked against the contracts at typecheck.
import type { TerminalStatus } from '@nightshift/shared';
import type { RunStatus } from './api.js';
import { EXIT } from './errors.js';

/** The statuses a run never leaves. A type-only import of the contracts keeps them from drifting. */
export const TERMINAL = [
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'lost',
] as const satisfies readonly (TerminalStatus | RunStatus)[];
type Covers = Exclude<TerminalStatus, (typeof TERMINAL)[number]> extends never ? true : false;
const covers: Covers = true;
void covers;

export const isTerminal = (status: RunStatus) => (TERMINAL as readonly string[]).includes(status);

/** 0 for a run that succeeded, 1 for one that ended any other way. */
export const exitCodeOfRun = (status: RunStatus) => (status === 'succeeded' ? EXIT.ok : EXIT.failure);
