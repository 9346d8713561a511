// Resumes on time: the agent that holds a waiting run arms a timer for its resumeAt and queues it then itself (the tick's move), instead of waiting up to a tick for the scheduler.
import { type Run, resumeMoveOf } from '@nightshift/shared';
import { errorMessage, type Logger } from './log.js';
import type { Clock } from './options.js';
import type { Store } from './store.js';
import { type AgentTimings, RESUME_TIMER_MAX_MS } from './timings.js';

/** How timers are set: Node's by default (unref'd); tests may give their own. */
export interface TimerScheduler {
  set(fire: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

/** Node's timers, unref'd: an armed resume hours away never keeps the process alive. */
export const NODE_TIMERS: TimerScheduler = {
  set(fire, delayMs) {
    const handle = setTimeout(fire, delayMs);
    handle.unref();
    return handle;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ResumeTimerDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  timings: Pick<AgentTimings, 'resumeHoldsVmMs'>;
  timers?: TimerScheduler;
}

/** How long to arm a timer for a resume at `atMs` (pure): never negative, never beyond what Node's timers take. */
export function armDelayMs(atMs: number, nowMs: number): number {
  return Math.min(Math.max(0, atMs - nowMs), RESUME_TIMER_MAX_MS);
}

/** Whether a resume at `atMs` is near enough that the idle stop keeps the VM up for it (pure). */
export function holdsVm(atMs: number, nowMs: number, holdMs: number): boolean {
  return atMs - nowMs <= holdMs;
}

/**
 * The resume timers of one agent: one per waiting run it holds. A timer fires `due(runId)` at the run's
 * resumeAt by the agent's clock (re-armed if it fired early or the resume was beyond one timer's reach).
 */
export class ResumeTimers {
  private readonly armed = new Map<string, { atMs: number; handle: unknown }>();
  private readonly timers: TimerScheduler;
  private stopped = false;

  constructor(
    private readonly deps: ResumeTimerDeps,
    private readonly due: (runId: string) => void,
  ) {
    this.timers = deps.timers ?? NODE_TIMERS;
  }

  /** Arms (or re-arms) the run's timer for its resumeAt; a run without one is left to the tick. */
  arm(run: Pick<Run, 'id' | 'resumeAt'>): void {
    if (this.stopped || run.resumeAt === null) return;
    const atMs = Date.parse(run.resumeAt);
    if (Number.isNaN(atMs)) return;
    this.disarm(run.id);
    const schedule = () => {
      const handle = this.set(() => {
        if (this.armed.get(run.id)?.handle !== handle) return;
        if (this.deps.clock.now().getTime() < atMs) return schedule();
        this.armed.delete(run.id);
        this.due(run.id);
      }, atMs);
      this.armed.set(run.id, { atMs, handle });
    };
    schedule();
    this.deps.log.info('resume timer armed', { runId: run.id, resumeAt: run.resumeAt });
  }

  /** After a restart: arms a timer for every waiting run this agent holds. Never throws (the tick is the backstop). */
  async armOwn(): Promise<void> {
    try {
      for (const run of await this.deps.store.ownWaitingRuns()) this.arm(run);
    } catch (error) {
      this.deps.log.warn('could not read the waiting runs of this agent; the scheduler tick resumes them', {
        error: errorMessage(error),
      });
    }
  }

  disarm(runId: string): void {
    const armed = this.armed.get(runId);
    if (armed === undefined) return;
    this.timers.clear(armed.handle);
    this.armed.delete(runId);
  }

  /** Whether a resume this agent holds is due soon enough to keep the VM up (the idle stop's fact). */
  holdsVm(): boolean {
    const nowMs = this.deps.clock.now().getTime();
    return [...this.armed.values()].some((a) => holdsVm(a.atMs, nowMs, this.deps.timings.resumeHoldsVmMs));
  }

  /** The armed resumes (run id and time), for the log and the tests. */
  pending(): Array<{ runId: string; atMs: number }> {
    return [...this.armed].map(([runId, a]) => ({ runId, atMs: a.atMs }));
  }

  stop(): void {
    this.stopped = true;
    for (const runId of [...this.armed.keys()]) this.disarm(runId);
  }

  private set(fire: () => void, atMs: number): unknown {
    return this.timers.set(fire, armDelayMs(atMs, this.deps.clock.now().getTime()));
  }
}

/** What resumeDue did. */
export type ResumeDue = 'queued' | 'not-waiting' | 'not-due' | 'unknown';

/**
 * At a run's resumeAt: `waiting → queued` with the tick's own move (resumeMoveOf), under its precondition,
 * so the tick and the agent never both move it. The caller then claims the run itself.
 */
export async function resumeDue(
  deps: Pick<ResumeTimerDeps, 'store' | 'clock' | 'log'>,
  runId: string,
): Promise<ResumeDue> {
  const snap = await deps.store.run(runId);
  const run = snap.data();
  if (run === undefined) return 'unknown';
  if (run.status !== 'waiting') return 'not-waiting';
  if (run.resumeAt !== null && Date.parse(run.resumeAt) > deps.clock.now().getTime()) return 'not-due';
  const moved = await deps.store.move(runId, 'queued', { ...resumeMoveOf(run), snapshot: snap });
  if (!moved.ok) return 'not-waiting';
  deps.log.info('resumed a waiting run on time', { runId, resumeAt: run.resumeAt });
  return 'queued';
}
