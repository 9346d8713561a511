// A held run inside the agent: the per-run object, owning its phase (an explicit union, each phase with its own data).
import type { PauseKind, Progress, Run, RunCheckout, TerminalStatus } from '@nightshift/shared';
import type { SeenLimit } from './limit.js';
import type { Logger } from './log.js';
import { runDirOf, type TailState } from './rundir.js';
import { emptyStreamState } from './stream.js';
import { sessionNameOf } from './tmux.js';

export type StopReason = 'timeout' | 'cancel' | 'result_hang' | 'stall';
export type StopStep = 'interrupted' | 'terminated' | 'killed';

/**
 * A piece that ends without ending its run: `waiting` until `resumeAt` (a usage limit), or `queued` at once
 * (an interruption resumed).
 */
export interface Pause {
  /** `day_budget`: the worker's day USD was spent before the piece launched (day-budget.ts); nothing ran. */
  kind: PauseKind | 'day_budget';
  status: 'waiting' | 'queued';
  resumeAt: string | null;
  /** What happened, for the status event and the run's waitReason. */
  reason: string;
}

/** How a piece ends: its run's terminal status and why, or a pause. */
export interface Outcome {
  status: TerminalStatus | Pause['status'];
  error: string | null;
  exitCode: number | null;
  /** Said in a note event beside the status (e.g. "stopped 30 s after its result"). */
  note: string | null;
  /**
   * What the worker reported about the plan's usage limit, until the finish settles it (a wait or a
   * failure, by the run's autopilot settings): null once settled, or when there was none.
   */
  limit: SeenLimit | null;
  /** What interrupted the worker (it died with its VM or its session), until the finish settles it. */
  interrupted: string | null;
  /** Set once settled to a pause: the run goes on in a later piece. */
  pause: Pause | null;
}

/** The one constructor of an outcome: an ending the agent decided without an exit status says only why. */
export function outcomeOf(
  status: TerminalStatus,
  error: string | null,
  more: {
    exitCode?: number | null;
    note?: string | null;
    limit?: SeenLimit | null;
    interrupted?: string | null;
  } = {},
): Outcome {
  return {
    status,
    error,
    exitCode: more.exitCode ?? null,
    note: more.note ?? null,
    limit: more.limit ?? null,
    interrupted: more.interrupted ?? null,
    pause: null,
  };
}

/** Facts of a launched worker, carried from `running` through `stopping` into `finishing`. */
export interface Launched {
  /** When this piece's worker was launched. */
  startedMs: number;
  /** When maxDurationMinutes runs out (counted per piece: a wait of hours is no work time). */
  deadlineMs: number;
  /** Whether `running` is written in Firestore (a finish from `starting` must write it first). */
  runningWritten: boolean;
}

/** What the push at the finish did; kept, so a retried terminal write neither pushes again nor forgets a failure. */
export interface PushResult {
  branch: string;
  failure: string | null;
}

/**
 * What the run left in its workspace, taken once at the finish: the progress file read before the
 * workspace was cleaned, and the branch its uncommitted changes were kept on (null: there were none).
 */
export interface LeftWork {
  wipBranch: string | null;
  progress: Progress | null;
}

export type Phase =
  /** Claimed (`starting`): workspace and launch under way. */
  | { name: 'preparing' }
  /** The session runs; the log is tailed each tick. */
  | { name: 'running'; launched: Launched; resultSeenAtMs: number | null }
  /** Being stopped: SIGINT sent at sinceMs, then SIGTERM, then the session is killed. */
  | { name: 'stopping'; launched: Launched; reason: StopReason; sinceMs: number; step: StopStep }
  /**
   * The outcome is decided; the terminal write is retried each tick until Firestore takes it. `launched`
   * is null when no worker ever ran; `push` is null until a push was tried; `left` is null until the
   * workspace was looked at.
   */
  | {
      name: 'finishing';
      outcome: Outcome;
      launched: Launched | null;
      push: PushResult | null;
      left: LeftWork | null;
    };

export type PhaseName = Phase['name'];

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

/** One run this agent holds: created when it is claimed or adopted, dropped once its terminal status is written. */
export class HeldRun {
  readonly runId: string;
  readonly workerId: string;
  readonly session: string;
  readonly dir: string;
  /** What the run works in, from the run document: never the worker's current settings. */
  readonly checkout: RunCheckout;
  /** The agent's logger with this run's id on every entry. */
  readonly log: Logger;
  /** Read by the progress writer each tick; only it changes the watch. */
  readonly progress: ProgressWatch = newProgressWatch();
  #run: Run;
  #workspace: string | null = null;
  #startCommit: string | null;
  #tail: TailState = { offset: 0, stream: emptyStreamState() };
  #cancelReason: string | null;
  #phase: Phase = { name: 'preparing' };

  constructor(run: Run, home: string, log: Logger) {
    this.runId = run.id;
    this.workerId = run.workerId;
    this.session = run.session ?? sessionNameOf(run.workerId, run.id);
    this.dir = runDirOf(home, run.id);
    this.checkout = run.checkout;
    this.log = log.child({ runId: run.id });
    this.#run = run;
    this.#startCommit = run.startCommit;
    this.#cancelReason = run.cancelRequestedAt ? (run.cancelReason ?? 'cancel requested') : null;
  }

  /** The run document as last read or written by this agent. */
  get run(): Run {
    return this.#run;
  }

  /** Records what this agent wrote to the run (or the run a move returned). */
  recorded(patch: Partial<Run>): void {
    this.#run = { ...this.#run, ...patch };
  }

  /** The checkout the worker runs in, once known (prepared at launch, or read back at adopt). */
  get workspace(): string | null {
    return this.#workspace;
  }

  /** The commit the workspace was at when the run started. */
  get startCommit(): string | null {
    return this.#startCommit;
  }

  /** The workspace is ready; `startCommit` is kept from the run document when not given. */
  inWorkspace(dir: string, startCommit: string | null = this.#startCommit): void {
    this.#workspace = dir;
    this.#startCommit = startCommit;
  }

  /** How far the log has been read, and what it said: advanced in place by the tail readers. */
  get tail(): TailState {
    return this.#tail;
  }

  /** Resumes reading the log where a saved tail ends (after a restart). */
  resumeTail(tail: TailState): void {
    this.#tail = tail;
  }

  /** The cancel reason, once a cancel request was seen; it stops the run in any phase. */
  get cancelReason(): string | null {
    return this.#cancelReason;
  }

  /** Notes a cancel request; false when one was already seen. */
  requestCancel(reason: string | null): boolean {
    if (this.#cancelReason !== null) return false;
    this.#cancelReason = reason ?? 'cancel requested';
    return true;
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** Every phase change goes through here, and is logged with why. */
  moveTo(next: Phase, why: string): void {
    const from = this.#phase.name;
    this.#phase = next;
    this.log.info('run phase', { from, to: next.name, why });
  }

  /** The worker's launch facts, once it was launched. */
  get launched(): Launched | null {
    return this.#phase.name === 'preparing' ? null : this.#phase.launched;
  }

  /** Why the run is being stopped, if it is. */
  get stopReason(): StopReason | null {
    return this.#phase.name === 'stopping' ? this.#phase.reason : null;
  }

  /** Notes when the worker's result was first seen: a worker still alive long after it is stopped. */
  resultSeen(atMs: number): void {
    const phase = this.#phase;
    if (phase.name === 'running' && phase.resultSeenAtMs === null)
      this.#phase = { ...phase, resultSeenAtMs: atMs };
  }

  /** `running` is in Firestore (or someone else moved the run on): the finish need not write it first. */
  runningWritten(): void {
    const launched = this.launched;
    if (launched !== null) launched.runningWritten = true;
  }

  /** Keeps what the push did, so a retried terminal write neither pushes again nor forgets a failure. */
  pushed(push: PushResult): void {
    if (this.#phase.name === 'finishing') this.#phase = { ...this.#phase, push };
  }

  /** Keeps what the run left in its workspace, so a retried terminal write neither looks again nor forgets it. */
  leftWork(left: LeftWork): void {
    if (this.#phase.name === 'finishing') this.#phase = { ...this.#phase, left };
  }

  /** The ending's note is written: a retried terminal write does not write it again. */
  noted(): void {
    if (this.#phase.name === 'finishing')
      this.#phase = { ...this.#phase, outcome: { ...this.#phase.outcome, note: null } };
  }

  /** The runner started the piece afresh: a result seen before is the failed resume's, not this worker's. */
  freshStartSeen(): void {
    this.freshStartsNoted++;
    if (this.#phase.name === 'running') this.#phase = { ...this.#phase, resultSeenAtMs: null };
  }

  /** How many of the stream's fresh starts have been noted as events. */
  freshStartsNoted = 0;

  /** The outcome settled (a usage limit or an interruption decided by the run's settings). */
  settled(ending: Outcome): void {
    if (this.#phase.name === 'finishing') this.#phase = { ...this.#phase, outcome: ending };
  }

  /** Decides the run's ending: the terminal write follows, retried each tick until it lands. */
  finishWith(ending: Outcome, why: string): void {
    this.moveTo({ name: 'finishing', outcome: ending, launched: this.launched, push: null, left: null }, why);
  }
}
