// Supervise: following a launched worker each tick (log, exit status, session) and stopping it (timeout, cancel, result hang) with escalation.
import { type FSWatcher, watch } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { decideOutcome, endingFactsOf, exitUnreadable, sessionGone } from './finish.js';
import { markRunning, noteFreshStarts } from './launch.js';
import type { HeldRun, Phase, StopReason, StopStep } from './lifecycle.js';
import type { Clock } from './options.js';
import { advanceTail, finishTail, RUN_FILES, readExitStatus, readPids, writeJsonAtomic } from './rundir.js';
import { checkStall } from './stall.js';
import type { Store } from './store.js';
import type { AgentTimings } from './timings.js';
import type { Tmux } from './tmux.js';

export interface SuperviseDeps {
  store: Store;
  tmux: Tmux;
  clock: Clock;
  timings: Pick<AgentTimings, 'resultExitGraceMs' | 'stopEscalationMs' | 'minuteMs'>;
}

type RunningPhase = Extract<Phase, { name: 'running' }>;

/** Which stop a running worker is due for, if any: a cancel first, then its time limit, then a hang after its result. */
export function stopDue(
  phase: Pick<RunningPhase, 'launched' | 'resultSeenAtMs'>,
  facts: { nowMs: number; cancelReason: string | null; resultExitGraceMs: number },
): StopReason | null {
  if (facts.cancelReason !== null) return 'cancel';
  if (facts.nowMs >= phase.launched.deadlineMs) return 'timeout';
  if (phase.resultSeenAtMs !== null && facts.nowMs - phase.resultSeenAtMs >= facts.resultExitGraceMs)
    return 'result_hang';
  return null;
}

export interface StopSignal {
  step: StopStep;
  signal: 'SIGTERM' | 'SIGKILL';
  /** After SIGKILL the session itself is killed too. */
  killSession: boolean;
}

/**
 * The next step of a stop's escalation, `elapsedMs` after its SIGINT: SIGTERM after one escalation
 * period, SIGKILL and the session's kill after two; null while it is not yet due (or nothing is left).
 */
export function nextStopSignal(step: StopStep, elapsedMs: number, escalationMs: number): StopSignal | null {
  if (step === 'interrupted' && elapsedMs >= escalationMs)
    return { step: 'terminated', signal: 'SIGTERM', killSession: false };
  if (step === 'terminated' && elapsedMs >= 2 * escalationMs)
    return { step: 'killed', signal: 'SIGKILL', killSession: true };
  return null;
}

/**
 * One look at a launched run: reads the new log, and moves it to `finishing` when its worker exited or its
 * session is gone; otherwise starts or escalates a stop that is due. Preparing and finishing runs are left alone.
 * Returns whether the run is now finishing.
 */
export async function superviseRun(deps: SuperviseDeps, held: HeldRun): Promise<boolean> {
  const { store, tmux, clock, timings } = deps;
  const phase = held.phase;
  if (phase.name !== 'running' && phase.name !== 'stopping') return phase.name === 'finishing';
  await markRunning(store, held, clock.now().toISOString());

  await advanceTail(held.dir, held.tail);
  await noteFreshStarts(store, held);
  if (held.tail.stream.result !== null) held.resultSeen(clock.now().getTime());
  // An unreadable exit.json beside a live session is judged when the session ends.
  const { exit } = await readExitStatus(held.dir);
  if (exit !== null) {
    await finishTail(held.dir, held.tail);
    held.finishWith(decideOutcome(endingFactsOf(held), exit), 'the worker exited');
    return true;
  }
  if (!(await tmux.hasSession(held.session))) {
    const late = await readExitStatus(held.dir); // the runner may have written it as the session closed
    await finishTail(held.dir, held.tail);
    const ending =
      late.exit !== null
        ? decideOutcome(endingFactsOf(held), late.exit)
        : late.unreadable !== null
          ? exitUnreadable(late.unreadable)
          : phase.name === 'stopping' && phase.step === 'killed'
            ? decideOutcome(endingFactsOf(held), null)
            : sessionGone(held.session);
    held.finishWith(ending, 'the session is gone');
    return true;
  }

  const nowMs = clock.now().getTime();
  // Read again: the result may just have been seen, or the cancel poll may have begun a stop meanwhile.
  const current = held.phase;
  if (current.name === 'running') {
    const reason = stopDue(current, {
      nowMs,
      cancelReason: held.cancelReason,
      resultExitGraceMs: timings.resultExitGraceMs,
    });
    if (reason !== null) await beginStop(clock, held, reason);
    else if (await checkStall(deps, held)) await beginStop(clock, held, 'stall');
    return false;
  }
  if (current.name !== 'stopping') return current.name === 'finishing';
  const next = nextStopSignal(current.step, nowMs - current.sinceMs, timings.stopEscalationMs);
  if (next === null) return false;
  held.moveTo(
    { ...current, step: next.step },
    `still running ${nowMs - current.sinceMs} ms after SIGINT: ${next.signal}`,
  );
  await signalWorker(held, next.signal);
  if (next.killSession) await tmux.killSession(held.session);
  return false;
}

/**
 * Calls `onExit` as soon as the runner writes exit.json in the run directory `dir` (by rename, so the
 * name appears whole), so the finish does not wait for the next tick; the tick stays the fallback for
 * whatever a watch can miss (no inotify, the directory replaced, an agent restarted meanwhile).
 * Returns the watch's closer; a directory that cannot be watched gives a no-op.
 */
export function watchExit(dir: string, onExit: () => void): () => void {
  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (name === RUN_FILES.exit) onExit();
    });
  } catch {
    return () => {};
  }
  watcher.on('error', () => watcher.close());
  return () => watcher.close();
}

/** Sends SIGINT to a running worker and moves it to `stopping`. */
export async function beginStop(clock: Clock, held: HeldRun, reason: StopReason): Promise<void> {
  const phase = held.phase;
  if (phase.name !== 'running') return;
  held.moveTo(
    {
      name: 'stopping',
      launched: phase.launched,
      reason,
      sinceMs: clock.now().getTime(),
      step: 'interrupted',
    },
    `stopping the worker (${reason})`,
  );
  await signalWorker(held, 'SIGINT');
}

async function signalWorker(held: HeldRun, signal: NodeJS.Signals): Promise<void> {
  const pids = await readPids(held.dir).catch(() => null); // unreadable: the session kill still comes
  try {
    if (pids?.worker) process.kill(-pids.worker, signal);
    else if (pids?.runner) process.kill(pids.runner, signal);
  } catch (error) {
    // The worker user's processes (the VM: agent/PROTOCOL.md, Worker isolation), which the agent's user
    // may not signal: the runner, that user's own process, passes the signal on. Else already gone.
    if ((error as NodeJS.ErrnoException).code === 'EPERM') await askRunner(held.dir, signal);
  }
}

/** signal.json, group-readable (the runner reads it as the worker user); a later ask replaces an earlier. */
async function askRunner(dir: string, signal: NodeJS.Signals): Promise<void> {
  const path = join(dir, RUN_FILES.signal);
  try {
    await writeJsonAtomic(path, { signal });
    await chmod(path, 0o640);
  } catch {
    // the run directory is gone: so is the run
  }
}
