// A held run's lifecycle inside the agent: an explicit union of phases, and how an ending becomes a status.
import type { Run, TerminalStatus, Worker } from '@nightshift/shared';
import type { TailState } from './rundir.js';
import { type ExitStatus, judge } from './stream.js';

export type StopReason = 'timeout' | 'cancel' | 'result_hang';

export interface Outcome {
  status: TerminalStatus;
  error: string | null;
  exitCode: number | null;
  /** Said in a note event beside the status (e.g. "stopped 30 s after its result"). */
  note: string | null;
}

export type Phase =
  /** Claimed (`starting`): workspace and launch under way. */
  | { name: 'preparing' }
  /** The session runs; the log is tailed each tick. */
  | { name: 'running' }
  /** Being stopped: SIGINT sent at sinceMs, then SIGTERM, then the session is killed. */
  | { name: 'stopping'; reason: StopReason; sinceMs: number; step: 'interrupted' | 'terminated' | 'killed' }
  /** The outcome is decided; the terminal write is retried each tick until Firestore takes it. */
  | { name: 'finishing'; outcome: Outcome };

export interface HeldRun {
  runId: string;
  workerId: string;
  session: string;
  dir: string;
  run: Run;
  worker: Worker | null;
  workspace: string | null;
  startCommit: string | null;
  /** Whether `running` is written in Firestore (a finish from `starting` must write it first). */
  runningWritten: boolean;
  launched: boolean;
  deadlineMs: number | null;
  tail: TailState;
  resultSeenAtMs: number | null;
  cancelReason: string | null;
  phase: Phase;
  progress: ProgressWatch;
  /**
   * What the push at the finish did: kept, so a terminal write retried on a later tick neither pushes
   * again nor forgets that the push failed. Null until a push was tried.
   */
  push: { branch: string; failure: string | null } | null;
}

export interface ProgressWatch {
  lastWriteMs: number;
  textVersion: number;
  fileStamp: string | null;
  text: string | null;
  dirty: boolean;
}

export const newProgressWatch = (): ProgressWatch => ({
  lastWriteMs: 0,
  textVersion: 0,
  fileStamp: null,
  text: null,
  dirty: false,
});

/** How a run that stopped or exited ends. */
export function decideOutcome(held: HeldRun, exit: (ExitStatus & { note?: string | null }) | null): Outcome {
  const stop = held.phase.name === 'stopping' ? held.phase.reason : null;
  const exitCode = exit?.code ?? null;
  if (stop === 'timeout') {
    return {
      status: 'timed_out',
      error: `exceeded maxDurationMinutes (${held.run.maxDurationMinutes})`,
      exitCode,
      note: null,
    };
  }
  if (stop === 'cancel') {
    return { status: 'cancelled', error: held.cancelReason || 'cancel requested', exitCode, note: null };
  }
  const verdict = judge(held.tail.stream, exit ?? { code: null, signal: 'SIGKILL' }, {
    ignoreExit: stop === 'result_hang',
  });
  const note = stop === 'result_hang' ? 'worker was still alive after its result and was stopped' : null;
  if (verdict.status === 'succeeded') return { status: 'succeeded', error: null, exitCode, note };
  const extra = exit?.note ? `; ${exit.note}` : '';
  // Without a result, stderr is where the worker said why (not logged in, refused to run as root, …).
  const said = held.tail.stream.result === null ? stderrSummary(exit?.stderrTail) : '';
  return { status: 'failed', error: `${verdict.error}${extra}${said}`, exitCode, note };
}

/** The outcome once a requested push has failed: a success becomes a failure; other endings keep their status. */
export function withPushFailure(outcome: Outcome, why: string): Outcome {
  return outcome.status === 'succeeded'
    ? { ...outcome, status: 'failed', error: `the worker finished, but ${why}` }
    : { ...outcome, error: outcome.error ? `${outcome.error}; ${why}` : why };
}

const STDERR_IN_ERROR_CHARS = 500;

/** The last non-empty lines of stderr, on one line, for a run's error; empty when there are none. */
export function stderrSummary(tail: string | null | undefined): string {
  const text = (tail ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' | ');
  if (text === '') return '';
  return `; stderr: ${text.length > STDERR_IN_ERROR_CHARS ? `…${text.slice(-STDERR_IN_ERROR_CHARS)}` : text}`;
}
