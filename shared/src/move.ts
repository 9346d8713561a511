// The one way a run changes status, for the agent and the functions alike: conditional, atomic with its
// event, announced on the run-status topic.
import type { DocumentSnapshot, Precondition, WriteBatch } from '@google-cloud/firestore';
import { withDeadline } from './deadline.js';
import type { Collections } from './firestore.js';
import { isPreconditionFailed } from './grpc.js';
import { newEventId, type Run, type RunEvent } from './run.js';
import { type RunStatusEvent, runStatusEventOf } from './run-status.js';
import { type RunStatus, transition } from './status.js';

export type StatusEvent = Extract<RunEvent, { type: 'status' }>;

export type MoveResult =
  | { ok: true; run: Run; event: StatusEvent }
  | { ok: false; current: Run | null; why: string };

export interface MoveOptions {
  /** Fields written with the status (finishedAt, error, usage, …). */
  patch?: Partial<Run>;
  /** Why the run moved; kept on its status event. */
  reason?: string | null;
  /** The statuses it may move from; without it, any status transition() allows. */
  expect?: readonly RunStatus[];
  /** The run as the caller just read it, saving one read on the first attempt. */
  snapshot?: DocumentSnapshot<Run>;
  /**
   * Writes committed in the move's batch (the agent's claim creates its worker lock there): the batch fails
   * whole, and an error of theirs other than the run's precondition is thrown to the caller.
   */
  alsoWrite?: (batch: WriteBatch) => void;
}

export interface RunMoverOptions {
  cols: Collections;
  /** The agent that moves runs, or null for the functions; recorded on each status event. */
  agentId: string | null;
  /** Each Firestore call's deadline. */
  deadlineMs: number;
  now?: () => Date;
  /**
   * Publishes the run.status event once the move landed. A failure is reported, never thrown: the move
   * stands, and the scheduler tick's sweep is the safety net for an event that was lost.
   */
  announce?: (event: RunStatusEvent) => Promise<unknown>;
  onAnnounceError?: (event: RunStatusEvent, error: unknown) => void;
  /** Awaited before each move (the agent waits here for its earlier unconditional writes to the run). */
  beforeMove?: (runId: string) => Promise<void>;
}

export type MoveRun = (runId: string, to: RunStatus, options?: MoveOptions) => Promise<MoveResult>;

/** How often a move is tried again when another writer changed the run between our read and write. */
const MOVE_ATTEMPTS = 8;

/**
 * Makes the status-move function. A move reads the run, checks `expect` and transition(), then writes the
 * run and its status event in one batch under a lastUpdateTime precondition (no transaction: concurrent
 * transactions on one emulator document can stall for 30 s). When another writer got there first, it
 * reads again and decides anew. Any other error (a deadline) is thrown: the caller tries again later.
 */
export function createRunMover(options: RunMoverOptions): MoveRun {
  const { cols, agentId, deadlineMs } = options;
  const now = options.now ?? (() => new Date());
  const db = cols.runs.firestore;
  const dl = <T>(what: string, p: Promise<T>) => withDeadline(what, deadlineMs, p);

  const announce = async (run: Run, event: StatusEvent) => {
    if (options.announce === undefined) return;
    const message = runStatusEventOf(run, event);
    try {
      await options.announce(message);
    } catch (error) {
      options.onAnnounceError?.(message, error);
    }
  };

  return async (runId, to, { patch = {}, reason = null, expect, snapshot, alsoWrite } = {}) => {
    await options.beforeMove?.(runId);
    let snap = snapshot;
    for (let attempt = 0; attempt < MOVE_ATTEMPTS; attempt++) {
      if (snap === undefined || attempt > 0) snap = await dl(`read run ${runId}`, cols.runs.doc(runId).get());
      const current = snap.exists ? (snap.data() ?? null) : null;
      if (current === null || snap.updateTime === undefined)
        return { ok: false, current, why: 'run not found' };
      if (expect && !expect.includes(current.status)) {
        return { ok: false, current, why: `run is ${current.status}` };
      }
      const t = transition(current.status, to);
      if (!t.ok) return { ok: false, current, why: t.error.message };
      const atDate = now();
      const at = atDate.toISOString();
      const fields: Partial<Run> = { ...patch, status: to, updatedAt: at };
      const event: StatusEvent = {
        type: 'status',
        id: newEventId(atDate),
        runId,
        at,
        from: current.status,
        to,
        reason,
        agentId,
      };
      const batch = db.batch();
      batch.update(cols.runs.doc(runId), fields, { lastUpdateTime: snap.updateTime } as Precondition);
      batch.set(cols.runEvents(runId).doc(event.id), event);
      alsoWrite?.(batch);
      try {
        await dl(`move run ${runId} to ${to}`, batch.commit());
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error;
        continue; // someone else wrote first: read again and decide anew
      }
      const run = { ...current, ...fields } as Run;
      await announce(run, event);
      return { ok: true, run, event };
    }
    return { ok: false, current: null, why: 'the run kept changing under us' };
  };
}
