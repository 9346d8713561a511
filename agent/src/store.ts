// Firestore writes of the agent: status moves with their events, worker locks, each call under a deadline.
import type { DocumentReference, DocumentSnapshot, Firestore, Precondition } from '@google-cloud/firestore';
import {
  type Collections,
  collections,
  GRPC,
  grpcCode,
  isAlreadyExists,
  isPreconditionFailed,
  type Run,
  type RunStatus,
  transition,
  type WorkerLock,
  withDeadline,
} from '@nightshift/shared';

export { DeadlineError, withDeadline } from '@nightshift/shared';

export type MoveResult = { ok: true; run: Run } | { ok: false; current: Run | null; why: string };

export interface Store {
  readonly db: Firestore;
  readonly cols: Collections;
  readonly agentId: string;
  run(runId: string): Promise<DocumentSnapshot<Run>>;
  /**
   * Moves a run to `to` through transition(), with `patch`, in one batch with its status event, under a
   * lastUpdateTime precondition (retried when another writer got there first). `expect` limits the
   * statuses it may move from.
   */
  move(
    runId: string,
    to: RunStatus,
    opts: {
      patch?: Partial<Run>;
      reason?: string | null;
      expect?: RunStatus[];
      snapshot?: DocumentSnapshot<Run>;
    },
  ): Promise<MoveResult>;
  update(runId: string, patch: Partial<Run>): Promise<void>;
  /** Sets the run's leaseExpiresAt (the heartbeat's renewal). */
  renewLease(runId: string, leaseExpiresAt: string): Promise<void>;
  note(runId: string, message: string): Promise<void>;
  lockRef(workerId: string): DocumentReference<WorkerLock>;
  createLock(lock: WorkerLock): Promise<boolean>;
  readLock(workerId: string): Promise<DocumentSnapshot<WorkerLock>>;
  /** Deletes the lock if it still is the given version (or, without one, if it names runId). */
  releaseLock(workerId: string, runId: string): Promise<void>;
  deleteLockIfUnchanged(snapshot: DocumentSnapshot<WorkerLock>): Promise<boolean>;
}

export function createStore(
  db: Firestore,
  agentId: string,
  deadlineMs: number,
  now: () => Date = () => new Date(),
): Store {
  const cols = collections(db);
  const locks = cols.workerLocks;
  const dl = <T>(what: string, p: Promise<T>) => withDeadline(what, deadlineMs, p);

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

  const store: Store = {
    db,
    cols,
    agentId,
    run: (runId) => dl(`read run ${runId}`, cols.runs.doc(runId).get()),
    async move(runId, to, { patch = {}, reason = null, expect, snapshot }) {
      await earlierWrites(runId);
      let snap = snapshot;
      for (let attempt = 0; attempt < 8; attempt++) {
        if (snap === undefined || attempt > 0) snap = await store.run(runId);
        const current = snap.exists ? (snap.data() ?? null) : null;
        if (current === null || snap.updateTime === undefined)
          return { ok: false, current, why: 'run not found' };
        if (expect && !expect.includes(current.status)) {
          return { ok: false, current, why: `run is ${current.status}` };
        }
        const t = transition(current.status, to);
        if (!t.ok) return { ok: false, current, why: t.error.message };
        const at = now().toISOString();
        const fields: Partial<Run> = { ...patch, status: to, updatedAt: at };
        const batch = db.batch();
        batch.update(cols.runs.doc(runId), fields, { lastUpdateTime: snap.updateTime } as Precondition);
        batch.set(cols.runEvents(runId).doc(`status-${to}`), {
          type: 'status',
          id: `status-${to}`,
          runId,
          at,
          from: current.status,
          to,
          reason,
          agentId,
        });
        try {
          await dl(`move run ${runId} to ${to}`, batch.commit());
          return { ok: true, run: { ...current, ...fields } };
        } catch (error) {
          if (!isPreconditionFailed(error)) throw error;
        }
      }
      return { ok: false, current: null, why: 'the run kept changing under us' };
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
    lockRef: (workerId) => locks.doc(workerId),
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
  };
  return store;
}
