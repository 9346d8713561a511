// Finish: how an ending becomes a terminal status, unfinished work kept on its wip branch, the push, and the terminal write.

import { stat } from 'node:fs/promises';
import { type Piece, type Progress, paidByOf, type Run, tailOf, type Usage } from '@nightshift/shared';
import { explainBudgetStop, waitForNextDay } from './day-budget.js';
import type { GitAuth } from './git-auth/credentials.js';
import { markRunning, parentSessionOf, pieceModeOf } from './launch.js';
import {
  type HeldRun,
  type LeftWork,
  type Outcome,
  outcomeOf,
  type Pause,
  type PushResult,
  type StopReason,
} from './lifecycle.js';
import { resumePlanOf, type SeenLimit } from './limit.js';
import { errorMessage } from './log.js';
import type { Clock } from './options.js';
import { finalProgress } from './progress.js';
import { blockerOf, progressAtStartOf, roadmapOpenOf } from './seed-files.js';
import { stallError } from './stall.js';
import type { Store } from './store.js';
import { type ExitStatus, judge, keepEnd, pieceAccountOf, type StreamState, usageLimitOf } from './stream.js';
import type { AgentTimings } from './timings.js';
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
  /** The run's stallMinutes (a stall stop names it). */
  stallMinutes?: number;
  cancelReason: string | null;
  stream: StreamState;
}

export const endingFactsOf = (held: HeldRun): EndingFacts => ({
  stop: held.stopReason,
  maxDurationMinutes: held.run.maxDurationMinutes,
  stallMinutes: held.run.autopilot.stallMinutes,
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
  if (stop === 'stall') return outcomeOf('timed_out', stallError(facts.stallMinutes ?? 0), { exitCode });
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
  const error = `${verdict.error}${extra}${said}`;
  // The finish settles these by the run's settings: a wait for the reset, a resume, or this failure.
  const limit = usageLimitOf(facts.stream);
  if (limit !== null) return outcomeOf('failed', error, { exitCode, note, limit });
  return outcomeOf('failed', error, { exitCode, note });
}

/** What the runner writes in exit.json when the session was closed under the worker (runner.mjs). */
export const SESSION_CLOSED_NOTE = 'the tmux session was closed while the worker ran';

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
  timings: Pick<AgentTimings, 'limitMarginMs' | 'limitFallbackMs'>;
}

/**
 * The zone Claude Code prints a reset time in when it names none: this machine's, where the worker runs.
 * Read at the first limit, not at import: Intl's first use maps ICU's data, some 6 MB of resident memory
 * (measured: 32.0 → 38.2 MB of the node binary's pages) that an agent without limits never needs.
 */
let machineZone: string | undefined;
const machineZoneOf = (): string =>
  (machineZone ??= Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');

/** Names a limit for the owner: which one, when the worker said. */
function limitName(limit: SeenLimit): string {
  return limit.type ? `the usage limit (${limit.type})` : 'the usage limit';
}

/**
 * Settles a usage limit or an interruption by the run's autopilot settings (pure but for the time): a pause
 * (waiting until the reset plus a margin, or queued again at once) while the run has waits left, else the
 * ending it had, its error saying why it did not wait. `workspaceKept`: the workspace is still on the disk.
 */
export function settle(
  ending: Outcome,
  run: Pick<Run, 'autopilot' | 'waits' | 'sessionId'>,
  facts: { now: Date; marginMs: number; fallbackMs: number; localZone: string; workspaceKept: boolean },
): Outcome {
  const { autopilot, waits } = run;
  const capped = waits >= autopilot.maxWaits;
  const waited = `the run already paused ${waits} time(s) (maxWaits ${autopilot.maxWaits})`;
  if (ending.limit !== null) {
    const limit = ending.limit;
    const plan = resumePlanOf(limit, facts.now, facts);
    const resumeAt = new Date(plan.resumeAtMs).toISOString();
    const how = {
      event: 'as the worker reported',
      text: 'read from its message',
      fallback: 'not known: five hours assumed',
    }[plan.source];
    const said = limit.text ? ` ("${keepEnd(limit.text, 200)}")` : '';
    const reason = `the worker hit ${limitName(limit)}${said}; it resets around ${resumeAt} (${how}, with a margin)`;
    const base = { ...ending, limit: null };
    if (autopilot.onUsageLimit === 'fail')
      return { ...base, status: 'failed', error: `${reason}; onUsageLimit is fail` };
    if (capped) return { ...base, status: 'failed', error: `${reason}; not waiting again: ${waited}` };
    return {
      ...base,
      status: 'waiting',
      error: null,
      pause: { kind: 'usage_limit', status: 'waiting', resumeAt, reason: `waiting for the reset: ${reason}` },
    };
  }
  if (ending.interrupted !== null) {
    const what = ending.interrupted;
    const base = { ...ending, interrupted: null };
    const lost = (why: string) => ({
      ...base,
      status: 'lost' as const,
      error: `${ending.error ?? `the worker was interrupted: ${what}`}; not resumed: ${why}`,
    });
    if (autopilot.onInterrupt !== 'resume') return { ...base, status: 'lost', error: ending.error ?? what };
    if (run.sessionId === null) return lost('the run has no Claude session id');
    if (!facts.workspaceKept) return lost('its workspace is gone');
    if (capped) return lost(waited);
    return {
      ...base,
      status: 'queued',
      error: null,
      pause: {
        kind: 'interrupted',
        status: 'queued',
        resumeAt: null,
        reason: `the worker was interrupted (${what}); resuming its session in the same workspace`,
      },
    };
  }
  return ending;
}

/** What an account-wide limit record says about a limit seen now. */
function accountLimitOf(held: HeldRun, limit: SeenLimit, until: string, at: Date) {
  return {
    until,
    limitType: limit.type,
    reason: `run ${held.runId} hit ${limitName(limit)}; no run is launched until ${until}`,
    runId: held.runId,
    at: at.toISOString(),
  };
}

/** Settles the finishing outcome once (a limit or an interruption), recording an account-wide limit. */
async function settleOnce(deps: FinishDeps, held: HeldRun): Promise<Outcome> {
  const phase = held.phase;
  if (phase.name !== 'finishing') throw new Error(`run ${held.runId} is ${phase.name}, not finishing`);
  const ending = phase.outcome;
  if (ending.limit === null && ending.interrupted === null) return ending;
  const now = deps.clock.now();
  const workspaceKept =
    held.workspace !== null &&
    (await stat(held.workspace).then(
      (s) => s.isDirectory(),
      () => false,
    ));
  const settled = settle(ending, held.run, {
    now,
    marginMs: deps.timings.limitMarginMs,
    fallbackMs: deps.timings.limitFallbackMs,
    // Only a limit's reset time reads the zone.
    localZone: ending.limit === null ? 'UTC' : machineZoneOf(),
    workspaceKept,
  });
  if (ending.limit !== null) {
    // The plan's limit is the account's: whatever this run does, no other run is sent into the same wall.
    const plan = resumePlanOf(ending.limit, now, {
      marginMs: deps.timings.limitMarginMs,
      fallbackMs: deps.timings.limitFallbackMs,
      localZone: machineZoneOf(),
    });
    const until = new Date(plan.resumeAtMs).toISOString();
    await deps.store
      .holdAccount(accountLimitOf(held, ending.limit, until, now))
      .catch((error: unknown) =>
        held.log.warn('could not record the account-wide usage limit', { error: errorMessage(error) }),
      );
  }
  // A cancel asked for meanwhile wins over a pause: the owner wants the run to end, not to wait.
  const final =
    settled.pause !== null && held.cancelReason !== null
      ? outcomeOf('cancelled', held.cancelReason, { exitCode: settled.exitCode })
      : settled;
  held.settled(final);
  held.log.info('piece ending settled', { status: final.status, pause: final.pause?.kind ?? null });
  return final;
}

/**
 * A piece that paused: its usage and the piece are recorded with `waiting` (or `queued`), the session is
 * killed, and nothing else is touched: the workspace stays as it is (no wip commit, no push) and the worker
 * lock stays with the run, so no other run of the worker starts there until it has resumed and ended.
 */
async function pauseRun(deps: FinishDeps, held: HeldRun, ending: Outcome & { pause: Pause }): Promise<void> {
  const { store, tmux, clock } = deps;
  const kind = ending.pause.kind;
  if (kind === 'day_budget') return waitForNextDay(store, held, ending.pause);
  const at = clock.now();
  await markRunning(store, held, at.toISOString());
  const launched = held.launched;
  const piece: Piece = {
    startedAt: launched ? new Date(launched.startedMs).toISOString() : held.run.startedAt,
    endedAt: at.toISOString(),
    mode: pieceModeOf(held.run, store.agentId),
    ...pieceAccountOf(
      held.tail.stream,
      pieceModeOf(held.run, store.agentId),
      parentSessionOf(held.run) !== null,
    ),
    ending: kind,
    // This agent's disk holds the workspace and the session: the next piece is pinned to it (pin.ts).
    agentId: store.agentId,
  };
  const patch: Partial<Run> = {
    usage: { ...held.tail.stream.usage },
    pieces: [...held.run.pieces, piece],
    waits: held.run.waits + 1,
    resumeAt: ending.pause.resumeAt,
    waitReason: ending.pause.reason,
    exitCode: ending.exitCode,
    session: null,
    leaseExpiresAt: null,
    progress: await finalProgress(clock, held),
  };
  const moved = await store.move(held.runId, ending.pause.status, {
    patch,
    reason: ending.pause.reason,
    expect: ['starting', 'running'],
  });
  if (!moved.ok) held.log.warn('pause not written', { status: ending.pause.status, why: moved.why });
  await tmux.killSession(held.session);
  held.log.info('run paused', { status: ending.pause.status, resumeAt: ending.pause.resumeAt });
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

/** Runs whose blocker was said in an event: a finish tried again after a Firestore error says it once. */
const blockedNoted = new WeakSet<HeldRun>();

/**
 * Keeps the run's unfinished work, pushes (once) and writes the terminal status, then kills the session
 * and releases the worker lock. Throws when Firestore does not take it: the caller tries again on the
 * next tick.
 */
export async function finishRun(deps: FinishDeps, held: HeldRun): Promise<void> {
  await explainBudgetStop(deps.store, held, deps.clock.now());
  const ending = await settleOnce(deps, held);
  if (ending.pause !== null) return pauseRun(deps, held, { ...ending, pause: ending.pause });
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
  // What the worker's files say: a blocker it reported, and the open items a chain goes on with.
  const workspace = held.workspace;
  patch.blocked = blockerOf(
    held.tail.stream.result?.text ?? null,
    left?.progress?.text ?? null,
    await progressAtStartOf(workspace, held.checkout, held.startCommit),
  );
  patch.roadmapOpen = await roadmapOpenOf(workspace, held.checkout).catch(() => null);
  patch.stalledSince = null;
  const source = held.tail.stream.apiKeySource;
  if (typeof source === 'string') patch.paidBy = paidByOf(source);
  // A run of several pieces records its last one too, so the pieces add up to its usage; so does a follow-up
  // that forked its parent's session, so a follow-up of it knows what that session's saved total holds.
  if (held.run.pieces.length > 0 || parentSessionOf(held.run) !== null)
    patch.pieces = [
      ...held.run.pieces,
      {
        startedAt: held.launched ? new Date(held.launched.startedMs).toISOString() : null,
        endedAt: patch.finishedAt ?? clock.now().toISOString(),
        mode: pieceModeOf(held.run, store.agentId),
        ...pieceAccountOf(
          held.tail.stream,
          pieceModeOf(held.run, store.agentId),
          parentSessionOf(held.run) !== null,
        ),
        ending: 'ended',
        agentId: store.agentId,
      },
    ];
  // The note first: whoever sees the terminal status (the owner, the reactor's summary) sees the note too.
  if (phase.outcome.note) {
    await store.note(held.runId, phase.outcome.note).catch(() => {});
    held.noted();
  }
  if (patch.blocked && !blockedNoted.has(held)) {
    await store
      .note(
        held.runId,
        `blocked: ${patch.blocked.text} (reported in ${patch.blocked.source === 'result' ? 'its final result' : held.checkout.progressPath})`,
      )
      .catch(() => {});
    blockedNoted.add(held);
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
