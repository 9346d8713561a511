// Finish: how an ending becomes a terminal status, unfinished work kept on its wip branch, the push, and the terminal write.

import { type Progress, type Run, tailOf, type Usage } from '@nightshift/shared';
import type { GitAuth } from './git-auth/credentials.js';
import { markRunning } from './launch.js';
import {
  type HeldRun,
  type LeftWork,
  type Outcome,
  outcomeOf,
  type PushResult,
  type StopReason,
} from './lifecycle.js';
import { errorMessage } from './log.js';
import type { Clock } from './options.js';
import { finalProgress } from './progress.js';
import type { Store } from './store.js';
import { type ExitStatus, judge, keepEnd, type StreamState } from './stream.js';
import type { Tmux } from './tmux.js';
import {
  branchExists,
  commitsSince,
  keepUncommitted,
  pushBranch,
  pushRef,
  remoteOf,
  wipBranchOf,
  wipMessageOf,
} from './workspace.js';

/** A run document holds at most 1 MiB (and the prompt may take 400 KB of it): a longer result keeps its end. */
export const RESULT_TEXT_MAX_CHARS = 100_000;
const STDERR_IN_ERROR_CHARS = 500;

/** What decides an ending besides the exit status. */
export interface EndingFacts {
  /** Why the agent was stopping the worker, if it was. */
  stop: StopReason | null;
  maxDurationMinutes: number;
  cancelReason: string | null;
  stream: StreamState;
}

export const endingFactsOf = (held: HeldRun): EndingFacts => ({
  stop: held.stopReason,
  maxDurationMinutes: held.run.maxDurationMinutes,
  cancelReason: held.cancelReason,
  stream: held.tail.stream,
});

/** How a run that stopped or exited ends (the Finish table of PROTOCOL.md). */
export function decideOutcome(
  facts: EndingFacts,
  exit: (ExitStatus & { note?: string | null }) | null,
): Outcome {
  const { stop } = facts;
  const exitCode = exit?.code ?? null;
  if (stop === 'timeout') {
    return outcomeOf('timed_out', `exceeded maxDurationMinutes (${facts.maxDurationMinutes})`, { exitCode });
  }
  if (stop === 'cancel')
    return outcomeOf('cancelled', facts.cancelReason || 'cancel requested', { exitCode });
  const verdict = judge(facts.stream, exit ?? { code: null, signal: 'SIGKILL' }, {
    ignoreExit: stop === 'result_hang',
  });
  const note = stop === 'result_hang' ? 'worker was still alive after its result and was stopped' : null;
  if (verdict.status === 'succeeded') return outcomeOf('succeeded', null, { exitCode, note });
  const extra = exit?.note ? `; ${exit.note}` : '';
  // Without a result, stderr is where the worker said why (not logged in, refused to run as root, …).
  const said = facts.stream.result === null ? stderrSummary(exit?.stderrTail) : '';
  return outcomeOf('failed', `${verdict.error}${extra}${said}`, { exitCode, note });
}

/** The ending of a session that is gone without an exit status: VM rebooted or session killed. */
export const sessionGone = (session: string): Outcome =>
  outcomeOf('lost', `tmux session ${session} is gone without an exit status (VM rebooted or session killed)`);

/** A worker that ended (exit.json was written) but whose exit status cannot be read: its ending is unknown. */
export const exitUnreadable = (why: string): Outcome =>
  outcomeOf('lost', `the worker ended, but its exit status file is unreadable: ${why}`);

/** The outcome once a requested push has failed: a success becomes a failure; other endings keep their status. */
export function withPushFailure(ending: Outcome, why: string): Outcome {
  return ending.status === 'succeeded'
    ? { ...ending, status: 'failed', error: `the worker finished, but ${why}` }
    : { ...ending, error: ending.error ? `${ending.error}; ${why}` : why };
}

/** The last non-empty lines of stderr, on one line, for a run's error; empty when there are none. */
export function stderrSummary(tail: string | null | undefined): string {
  const text = (tail ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' | ');
  if (text === '') return '';
  return `; stderr: ${text.length > STDERR_IN_ERROR_CHARS ? `…${tailOf(text, STDERR_IN_ERROR_CHARS)}` : text}`;
}

/** What is recorded with the terminal status, beside the outcome. */
export interface FinalFacts {
  at: Date;
  usage: Usage;
  commits: string[];
  push: PushResult | null;
  resultText: string | null;
  progress: Progress | null;
  /** The branch the run's uncommitted changes were kept on; null when it left none. */
  wipBranch: string | null;
}

/** The terminal update of a run: its status comes from the outcome, everything else is written with it. */
export function terminalUpdate(
  ending: Outcome,
  facts: FinalFacts,
): { status: Outcome['status']; patch: Partial<Run> } {
  // The owner asked for the commits on the remote: a run that did not deliver them has not succeeded.
  const final = facts.push?.failure ? withPushFailure(ending, facts.push.failure) : ending;
  return {
    status: final.status,
    patch: {
      finishedAt: facts.at.toISOString(),
      exitCode: final.exitCode,
      usage: { ...facts.usage },
      commits: facts.commits,
      pushedBranch: facts.push !== null && facts.push.failure === null ? facts.push.branch : null,
      result: facts.resultText === null ? null : keepEnd(facts.resultText, RESULT_TEXT_MAX_CHARS),
      error: final.error,
      progress: facts.progress,
      wipBranch: facts.wipBranch,
      leaseExpiresAt: null,
    },
  };
}

export interface FinishDeps {
  store: Store;
  tmux: Tmux;
  clock: Clock;
  /** The git credentials of the pushes. */
  gitAuth: GitAuth;
}

/**
 * Looks at what the run left in its workspace, once: the progress (read first, since a PROGRESS.md left
 * uncommitted goes with the cleaning), then its uncommitted changes, kept as one commit on
 * `nightshift/wip/<runId>` and pushed with `repo.push`. A failure here is a note: the run's own ending
 * stands, and changes that could not be kept stay in the workspace for the next prepare to keep.
 */
async function takeLeftWork(deps: FinishDeps, held: HeldRun, status: Outcome['status']): Promise<LeftWork> {
  const progress = await finalProgress(deps.clock, held);
  const dir = held.workspace;
  if (dir === null) return { wipBranch: null, progress };
  const branch = wipBranchOf(held.runId);
  const notes: string[] = [];
  let wipBranch: string | null = null;
  try {
    const kept = await keepUncommitted(dir, branch, wipMessageOf(held.runId, status));
    // Nothing left now, yet the branch is there: an earlier attempt of this finish kept it (the agent
    // restarted before the terminal write).
    if (kept !== null || (await branchExists(dir, branch))) wipBranch = branch;
  } catch (error) {
    notes.push(
      `the run's uncommitted changes could not be kept on ${branch} (${errorMessage(error)}); they stay in ${dir}`,
    );
  }
  if (wipBranch !== null) {
    held.log.info('uncommitted work kept', { branch });
    const repo = held.checkout.repo;
    if (repo?.push) {
      try {
        await pushRef(dir, remoteOf(repo, deps.gitAuth), wipBranch);
      } catch (error) {
        notes.push(
          `pushing ${wipBranch} failed (${errorMessage(error)}); the run's uncommitted work is kept in ${dir}`,
        );
      }
    }
  }
  for (const note of notes) {
    held.log.warn('unfinished work', { note });
    await deps.store.note(held.runId, note).catch(() => {});
  }
  return { wipBranch, progress };
}

/**
 * Keeps the run's unfinished work, pushes (once) and writes the terminal status, then kills the session
 * and releases the worker lock. Throws when Firestore does not take it: the caller tries again on the
 * next tick.
 */
export async function finishRun(deps: FinishDeps, held: HeldRun): Promise<void> {
  const phase = held.phase;
  if (phase.name !== 'finishing') throw new Error(`run ${held.runId} is ${phase.name}, not finishing`);
  const { store, tmux, clock } = deps;
  const commits = held.workspace ? await commitsSince(held.workspace, held.startCommit) : [];
  // The wip commit is made beside HEAD, never on it: the run's commits stay its own.
  if (phase.left === null) held.leftWork(await takeLeftWork(deps, held, phase.outcome.status));
  const repo = held.checkout.repo;
  if (repo?.push && held.workspace && commits.length > 0 && phase.push === null) {
    // The run's own branch when it has one (its commits were made there), else its checkout's branch:
    // both from the run document, so an agent that adopted the run after a restart pushes the same one.
    const branch = held.run.workBranch ?? repo.branch;
    try {
      await pushBranch(held.workspace, remoteOf(repo, deps.gitAuth), branch);
      held.pushed({ branch, failure: null });
    } catch (error) {
      held.pushed({
        branch,
        failure: `pushing ${branch} failed (${errorMessage(error)}); the run's ${commits.length} commit(s) are kept in ${held.workspace}`,
      });
    }
  }
  const push = held.phase.name === 'finishing' ? held.phase.push : null;
  const left = held.phase.name === 'finishing' ? held.phase.left : null;
  await markRunning(store, held, clock.now().toISOString());
  const { status, patch } = terminalUpdate(phase.outcome, {
    at: clock.now(),
    usage: held.tail.stream.usage,
    commits,
    push,
    resultText: held.tail.stream.result?.text ?? null,
    progress: left?.progress ?? null,
    wipBranch: left?.wipBranch ?? null,
  });
  // The note first: whoever sees the terminal status (the owner, the reactor's summary) sees the note too.
  if (phase.outcome.note) {
    await store.note(held.runId, phase.outcome.note).catch(() => {});
    held.noted();
  }
  const moved = await store.move(held.runId, status, {
    patch,
    reason: patch.error ?? null,
    expect: ['starting', 'running'],
  });
  if (!moved.ok) held.log.warn('final status not written', { status, why: moved.why });
  await tmux.killSession(held.session);
  await store.releaseLock(held.workerId, held.runId);
  held.log.info('run finished', { status, error: patch.error ?? null });
}
