// The run lifecycle: statuses and the one pure function that decides every move between them.
import * as z from 'zod';

export const RUN_STATUSES = [
  'queued',
  'waiting',
  'starting',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'lost',
] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'timed_out', 'lost'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
/**
 * Statuses of a run that holds its worker (or will, once claimed). A waiting run keeps its worker (and its
 * workspace, as it left it) until it has resumed and ended.
 */
export const ACTIVE_STATUSES = ['queued', 'waiting', 'starting', 'running'] as const;
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];

/**
 * Every legal move. A queued run may be cancelled at once, or failed (its agent found its worker gone);
 * a claimed run (starting) may end without ever running (clone failed, cancelled, agent gone).
 * A piece of a run may end without the run ending: `waiting` until its `resumeAt` (a usage limit; a queued
 * run that may not start yet, such as over a daily budget), or straight back to `queued` (its worker was
 * interrupted with its VM and resumes now). A waiting run goes back to `queued`, or ends without running
 * again (cancelled; failed when it cannot resume).
 */
const NEXT: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['starting', 'waiting', 'cancelled', 'failed'],
  waiting: ['queued', 'cancelled', 'failed'],
  starting: ['running', 'waiting', 'queued', 'failed', 'cancelled', 'timed_out', 'lost'],
  running: ['succeeded', 'failed', 'cancelled', 'timed_out', 'lost', 'waiting', 'queued'],
  succeeded: [],
  failed: [],
  cancelled: [],
  timed_out: [],
  lost: [],
};

export function isTerminal(status: RunStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly RunStatus[]).includes(status);
}

export function isActive(status: RunStatus): status is ActiveStatus {
  return (ACTIVE_STATUSES as readonly RunStatus[]).includes(status);
}

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
  constructor(
    readonly from: RunStatus,
    readonly to: RunStatus,
  ) {
    super(
      isTerminal(from)
        ? `run is already ${from} and cannot become ${to}`
        : `run cannot move from ${from} to ${to} (allowed: ${NEXT[from].join(', ')})`,
    );
  }
}

export type Transition = { ok: true; status: RunStatus } | { ok: false; error: IllegalTransitionError };

/** Decides a move: the next status, or a typed error for an illegal one. Never throws. */
export function transition(from: RunStatus, to: RunStatus): Transition {
  return NEXT[from].includes(to)
    ? { ok: true, status: to }
    : { ok: false, error: new IllegalTransitionError(from, to) };
}
