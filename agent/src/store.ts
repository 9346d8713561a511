// The agent's only door to Firestore: reads, status moves (announced as run.status events), updates and worker locks, each under a deadline.
import type { DocumentSnapshot, Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import {
  ACCOUNT_LIMIT_ID,
  type AccountLimit,
  type AgentHeartbeat,
  collections,
  createRunMover,
  GRPC,
  grpcCode,
  isAlreadyExists,
  type MoveOptions,
  type MoveResult,
  publishRunStatus,
  type Run,
  type RunStatus,
  type RunStatusEvent,
  runStatusTopic,
  type VmRecord,
  type VmRef,
  type WorkerLock,
  withDeadline,
} from '@nightshift/shared';
import { errorMessage, type Logger } from './log.js';
import type { Clock } from './options.js';

export { DeadlineError, type MoveResult, withDeadline } from '@nightshift/shared';

/** How many queued runs one queue scan reads (the oldest are taken first). */
const QUEUE_SCAN_LIMIT = 100;

export interface Store {
  readonly agentId: string;
  run(runId: string): Promise<DocumentSnapshot<Run>>;
  /** The run and `limits/account` (undefined when none was ever recorded) in one read: the claim's first step. */
  runAndLimit(runId: string): Promise<{ snap: DocumentSnapshot<Run>; limit: AccountLimit | undefined }>;
  /** The documents of the given runs that exist, in one read (the cancel poll). */
  runs(runIds: string[]): Promise<Run[]>;
  /** Queued runs of any worker (at most QUEUE_SCAN_LIMIT; the caller orders them). */
  queuedRuns(): Promise<Run[]>;
  /** The runs Firestore records as this agent's and not yet ended (`starting` or `running`). */
  ownActiveRuns(): Promise<Run[]>;
  /** The `waiting` runs whose last piece this agent ran (their resume timers, resume-timer.ts). */
  ownWaitingRuns(): Promise<Run[]>;
  /** `agents/<id>`, or undefined (a resume's holder, pin.ts). */
  agentHeartbeat(agentId: string): Promise<AgentHeartbeat | undefined>;
  /** Every run of a worker (the day budget's spend at a launch, day-budget.ts). */
  runsOfWorker(workerId: string): Promise<Run[]>;
  /**
   * Moves a run to `to` through the shared mover: transition(), `patch` and its status event in one batch
   * under a lastUpdateTime precondition, after this store's earlier unsettled writes to the run, then the
   * run.status event on its topic (a publish failure is logged, never fails the move).
   */
  move(runId: string, to: RunStatus, opts: MoveOptions): Promise<MoveResult>;
  /**
   * The claim's one commit: `lock` created and the run moved to `starting` (through `move`, under its
   * precondition) in one batch, so neither lands without the other. `locked` when the lock already
   * exists (nothing was written). Its `starting` announcement is published beside the caller's next
   * steps; the run's next announcement waits for it.
   */
  claim(lock: WorkerLock, opts: MoveOptions): Promise<MoveResult | { ok: false; locked: true }>;
  update(runId: string, patch: Partial<Run>): Promise<void>;
  /** Sets the run's leaseExpiresAt (the heartbeat's renewal). */
  renewLease(runId: string, leaseExpiresAt: string): Promise<void>;
  note(runId: string, message: string): Promise<void>;
  /** The `stalled` event of a stall that began at `since` (once per stall, whoever writes it). */
  stalled(runId: string, since: string, message: string): Promise<void>;
  /** A note written once under `key` (a second write of the same key is dropped): a reason said once per run. */
  noteOnce(runId: string, key: string, message: string): Promise<void>;
  /** `limits/account`, or undefined when none was ever recorded. */
  accountLimit(): Promise<AccountLimit | undefined>;
  /** Records an account-wide usage limit; only ever moves `until` later. */
  holdAccount(limit: AccountLimit): Promise<void>;
  /** Writes `agents/<id>`. */
  heartbeat(beat: AgentHeartbeat): Promise<void>;
  createLock(lock: WorkerLock): Promise<boolean>;
  readLock(workerId: string): Promise<DocumentSnapshot<WorkerLock>>;
  /** Deletes the worker's lock if it names runId (and is still the version read). */
  releaseLock(workerId: string, runId: string): Promise<void>;
  deleteLockIfUnchanged(snapshot: DocumentSnapshot<WorkerLock>): Promise<boolean>;
  /**
   * Rewrites `vms/<name>` with `change(current)` in one transaction (the idle stop's record of a stop;
   * the functions write the starts). `current` is undefined when nothing was recorded about the VM yet;
   * `change` returning undefined leaves the document as it is.
   */
  changeVm(vm: VmRef, change: (current: VmRecord | undefined) => VmRecord | undefined): Promise<void>;
}

export interface StoreOptions {
  db: Firestore;
  pubsub: PubSub;
  agentId: string;
  /** Each Firestore call's deadline. */
  deadlineMs: number;
  /** Deadline of publishing one run.status event. */
  publishDeadlineMs: number;
  clock: Clock;
  log: Logger;
}

export function createStore(options: StoreOptions): Store {
  const { db, agentId, deadlineMs, clock, log } = options;
  const cols = collections(db);
  const locks = cols.workerLocks;
  const statusTopic = runStatusTopic(options.pubsub);
  const dl = <T>(what: string, p: Promise<T>) => withDeadline(what, deadlineMs, p);
  const now = () => clock.now();

  // A write given up on at its deadline is not cancelled: the client library keeps retrying it (for up to
  // ten minutes) and it may land long after. The unconditional updates of a run (progress, lease) are kept
  // here until they settle, and a status move waits for them first, so a late one can never land on top
  // of the status written after it (a terminal run with stale usage, progress or a lease again).
  const unsettled = new Map<string, Set<Promise<void>>>();
  const track = (runId: string, write: Promise<unknown>): Promise<unknown> => {
    let writes = unsettled.get(runId);
    if (writes === undefined) {
      writes = new Set();
      unsettled.set(runId, writes);
    }
    const settled = write.then(
      () => {},
      () => {},
    );
    writes.add(settled);
    void settled.then(() => {
      writes.delete(settled);
      if (writes.size === 0 && unsettled.get(runId) === writes) unsettled.delete(runId);
    });
    return write;
  };
  const earlierWrites = async (runId: string) => {
    const writes = unsettled.get(runId);
    if (writes !== undefined && writes.size > 0)
      await dl(`earlier writes to run ${runId}`, Promise.all([...writes]));
  };

  const publish = (event: RunStatusEvent) =>
    withDeadline(
      `publish run.status of run ${event.runId}`,
      options.publishDeadlineMs,
      publishRunStatus(statusTopic, event),
    );
  // The move stands: the scheduler tick's sweep is the safety net for an event that was lost.
  const onAnnounceError = (event: RunStatusEvent, error: unknown) =>
    log.warn('run.status event not published', {
      runId: event.runId,
      to: event.to,
      eventId: event.eventId,
      error: errorMessage(error),
    });
  // A claim's `starting` goes out beside the launch (the prepare does not wait for Pub/Sub); the run's
  // next announcement waits for it, so one run's events leave in the order of its moves.
  const announcing = new Map<string, Promise<void>>();
  const movers = { cols, agentId, deadlineMs, now, beforeMove: earlierWrites, onAnnounceError };
  const move = createRunMover({
    ...movers,
    announce: async (event) => {
      await announcing.get(event.runId);
      return publish(event);
    },
  });
  const claimMove = createRunMover({
    ...movers,
    announce: (event) => {
      const sent = publish(event).then(
        () => {},
        (error: unknown) => onAnnounceError(event, error),
      );
      announcing.set(event.runId, sent);
      void sent.then(() => {
        if (announcing.get(event.runId) === sent) announcing.delete(event.runId);
      });
      return Promise.resolve();
    },
  });

  const store: Store = {
    agentId,
    run: (runId) => dl(`read run ${runId}`, cols.runs.doc(runId).get()),
    async runAndLimit(runId) {
      const [snap, limit] = await dl(
        `read run ${runId} and the account limit`,
        db.getAll(cols.runs.doc(runId), cols.limits.doc(ACCOUNT_LIMIT_ID)),
      );
      // Firestore#getAll is not generic; each ref carries its converter, so the documents are typed as read.
      return {
        snap: snap as DocumentSnapshot<Run>,
        limit: (limit as DocumentSnapshot<AccountLimit> | undefined)?.data(),
      };
    },
    async runs(runIds) {
      if (runIds.length === 0) return [];
      const snaps = await dl('read held runs', db.getAll(...runIds.map((id) => cols.runs.doc(id))));
      return snaps.flatMap((snap) => {
        // Firestore#getAll is not generic; the refs carry the run converter, so each document is a Run.
        const run = snap.data() as Run | undefined;
        return run === undefined ? [] : [run];
      });
    },
    async queuedRuns() {
      const snap = await dl(
        'queue scan',
        cols.runs.where('status', '==', 'queued').limit(QUEUE_SCAN_LIMIT).get(),
      );
      return snap.docs.map((d) => d.data());
    },
    async ownActiveRuns() {
      const snap = await dl(
        'read own runs',
        cols.runs.where('agentId', '==', agentId).where('status', 'in', ['starting', 'running']).get(),
      );
      return snap.docs.map((d) => d.data());
    },
    async ownWaitingRuns() {
      const snap = await dl(
        'read own waiting runs',
        cols.runs.where('agentId', '==', agentId).where('status', '==', 'waiting').get(),
      );
      return snap.docs.map((d) => d.data());
    },
    async agentHeartbeat(id) {
      return (await dl(`read agent ${id}`, cols.agents.doc(id).get())).data();
    },
    move: (runId, to, opts) => move(runId, to, opts),
    async runsOfWorker(workerId) {
      const snap = await dl(
        `read the runs of worker ${workerId}`,
        cols.runs.where('workerId', '==', workerId).get(),
      );
      return snap.docs.map((d) => d.data());
    },
    async claim(lock, opts) {
      try {
        return await claimMove(lock.runId, 'starting', {
          ...opts,
          alsoWrite: (batch) => batch.create(locks.doc(lock.workerId), lock),
        });
      } catch (error) {
        if (isAlreadyExists(error)) return { ok: false, locked: true };
        throw error;
      }
    },
    async update(runId, patch) {
      await dl(
        `update run ${runId}`,
        track(runId, cols.runs.doc(runId).update({ ...patch, updatedAt: now().toISOString() })),
      );
    },
    async renewLease(runId, leaseExpiresAt) {
      await dl(`renew lease of run ${runId}`, track(runId, cols.runs.doc(runId).update({ leaseExpiresAt })));
    },
    async note(runId, message) {
      const at = now().toISOString();
      const id = `note-${Date.parse(at)}-${Math.random().toString(36).slice(2, 8)}`;
      await dl(
        `note on run ${runId}`,
        cols.runEvents(runId).doc(id).set({ type: 'note', id, runId, at, message, agentId }),
      );
    },
    async stalled(runId, since, message) {
      const at = now().toISOString();
      const id = `stalled-${Date.parse(since)}`;
      try {
        await dl(
          `stalled event on run ${runId}`,
          cols.runEvents(runId).doc(id).create({ type: 'stalled', id, runId, at, since, message, agentId }),
        );
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
    },
    async noteOnce(runId, key, message) {
      const at = now().toISOString();
      const id = `note-${key}`;
      try {
        await dl(
          `note on run ${runId}`,
          cols.runEvents(runId).doc(id).create({ type: 'note', id, runId, at, message, agentId }),
        );
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
    },
    async accountLimit() {
      return (await dl('read the account limit', cols.limits.doc(ACCOUNT_LIMIT_ID).get())).data();
    },
    holdAccount(limit) {
      const ref = cols.limits.doc(ACCOUNT_LIMIT_ID);
      return dl(
        'record the account limit',
        db.runTransaction(async (tx) => {
          const current = (await tx.get(ref)).data();
          if (current === undefined || Date.parse(current.until) < Date.parse(limit.until))
            tx.set(ref, limit);
        }),
      );
    },
    async heartbeat(beat) {
      await dl('heartbeat', cols.agents.doc(beat.id).set(beat));
    },
    async createLock(lock) {
      try {
        await dl(`lock worker ${lock.workerId}`, locks.doc(lock.workerId).create(lock));
        return true;
      } catch (error) {
        if (isAlreadyExists(error)) return false;
        throw error;
      }
    },
    readLock: (workerId) => dl(`read lock ${workerId}`, locks.doc(workerId).get()),
    async releaseLock(workerId, runId) {
      const snap = await store.readLock(workerId);
      if (snap.exists && snap.data()?.runId === runId) await store.deleteLockIfUnchanged(snap);
    },
    async deleteLockIfUnchanged(snap) {
      if (!snap.exists || snap.updateTime === undefined) return false;
      try {
        await dl(`unlock worker ${snap.id}`, snap.ref.delete({ lastUpdateTime: snap.updateTime }));
        return true;
      } catch (error) {
        const code = grpcCode(error);
        if (code === GRPC.FAILED_PRECONDITION || code === GRPC.NOT_FOUND) return false;
        throw error;
      }
    },
    changeVm(vm, change) {
      const ref = cols.vms.doc(vm.name);
      return dl(
        `record VM ${vm.name}`,
        db.runTransaction(async (tx) => {
          const next = change((await tx.get(ref)).data());
          if (next !== undefined) tx.set(ref, next);
        }),
      );
    },
  };
  return store;
}
