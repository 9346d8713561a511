// One scheduler tick: queue each enabled worker's due cron slot (at most one per worker), exactly once; resume due waiting runs.
import {
  ACCOUNT_LIMIT_ID,
  ACTIVE_STATUSES,
  limitHolds,
  newEventId,
  type Run,
  type ScheduleState,
  type Worker,
  workerDay,
} from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { type DigestOutcome, sendDigestIfDue } from '../notifications/digest.js';
import type { NotifyOptions } from '../notifications/send.js';
import {
  appendEvent,
  createRun,
  type RepublishResult,
  type ResumeResult,
  republishQueuedRuns,
  resumeWaitingRuns,
} from '../runs/service.js';
import { type CapacityOutcome, ensureCapacity } from '../vms/starter.js';
import {
  type AdmitResult,
  admitDueWaitingRuns,
  budgetWaitReason,
  stopOverBudgetRuns,
} from '../workers/budget.js';
import { dueSlot, nextSlotAfter, type SlotWait, scheduledRunId, skipReasonOf } from './slots.js';

export interface TickResult {
  at: string;
  queued: Array<{ workerId: string; slot: string; runId: string; created: boolean }>;
  /**
   * Slots not queued: a run still active (`onBusy: skip`, activeRunId), or a run that would wait past the
   * worker's next slot (its budget or the account's usage limit; activeRunId null). No run is made for them.
   */
  skipped: Array<{
    workerId: string;
    slot: string;
    runId: string;
    reason: string;
    activeRunId: string | null;
  }>;
  failed: Array<{ workerId: string; slot?: string; error: string }>;
  /** The sweep: queued runs whose run.start was published again (see republishQueuedRuns). */
  republished: RepublishResult;
  /** Waiting runs whose resumeAt had come, queued again (see resumeWaitingRuns). */
  resumed: ResumeResult;
  /** The safety net of VM starts: worker VMs started for queued runs that no live agent can take. */
  vms: CapacityOutcome;
  /** The daily digest to the notification sinks (notifications/digest.ts); absent without notifications. */
  digest?: DigestOutcome;
  /** Running runs asked to stop because their worker's day reached budget.maxUsdPerDay. */
  budgetStops: string[];
  /** Due waiting runs that waited for maxRunsPerDay: given a slot of the new day, or deferred to the next. */
  budgetAdmits: AdmitResult;
}

function stateRef(deps: Deps, workerId: string) {
  return deps.cols.scheduleState.doc(workerId);
}

async function scheduledWorkers(deps: Deps, result: TickResult): Promise<Worker[]> {
  const snapshot = await deps.cols.workers.where('enabled', '==', true).get();
  const workers: Worker[] = [];
  for (const doc of snapshot.docs) {
    try {
      const worker = doc.data();
      // A schedule that paused itself queues nothing until it is set again.
      if (worker.schedule && worker.schedule.pausedReason === undefined) workers.push(worker);
    } catch (error) {
      const message = (error as Error).message;
      deps.log.error('scheduler: skipping a worker document that does not match its schema', {
        path: doc.ref.path,
        error: message,
      });
      result.failed.push({ workerId: doc.id, error: message });
    }
  }
  return workers;
}

/** Finds the worker's active run other than `exceptRunId` (the slot's own run, if a tick created it). */
async function activeRun(deps: Deps, workerId: string, exceptRunId: string): Promise<Run | undefined> {
  const snapshot = await deps.cols.runs
    .where('workerId', '==', workerId)
    .where('status', 'in', [...ACTIVE_STATUSES])
    .limit(10)
    .get();
  return snapshot.docs.map((doc) => doc.data()).find((run) => run.id !== exceptRunId);
}

/** What would hold a run of the worker created now: its day's budget, the account's usage limit (the later). */
async function waitOf(deps: Deps, worker: Worker, now: Date): Promise<SlotWait | null> {
  const waits: SlotWait[] = [];
  const limit = (await deps.cols.limits.doc(ACCOUNT_LIMIT_ID).get()).data();
  if (limitHolds(limit, now))
    waits.push({ until: new Date(limit.until), reason: `the account's usage limit: ${limit.reason}` });
  const over = await budgetWaitReason(deps, worker);
  if (over !== null) waits.push({ until: workerDay(worker, now).end, reason: over });
  return waits.sort((a, b) => b.until.getTime() - a.until.getTime())[0] ?? null;
}

async function queueSlot(deps: Deps, worker: Worker, slot: string, runId: string, result: TickResult) {
  const { created } = await createRun(deps, {
    workerId: worker.id,
    trigger: { type: 'schedule', slot },
    runId,
  });
  await stateRef(deps, worker.id).update({ pending: false, updatedAt: deps.now().toISOString() });
  result.queued.push({ workerId: worker.id, slot, runId, created });
}

async function tickWorker(deps: Deps, worker: Worker, now: Date, result: TickResult): Promise<void> {
  const schedule = worker.schedule;
  if (!schedule) return;
  const ref = stateRef(deps, worker.id);
  const state = (await ref.get()).data() ?? null;

  // A slot decided as "queued" whose run a stopped tick did not create yet.
  if (state?.pending && state.outcome === 'queued') {
    await queueSlot(deps, worker, state.lastSlot, state.runId, result);
  }

  const changedAt = new Date(worker.scheduleSince);
  const floor = state && new Date(state.lastSlot) > changedAt ? new Date(state.lastSlot) : changedAt;
  const due = dueSlot(schedule, floor, now);
  if (!due) return;
  const slot = due.toISOString();
  const runId = scheduledRunId(worker.id, due);

  const busy = schedule.onBusy === 'skip' ? await activeRun(deps, worker.id, runId) : undefined;
  // A run that would wait past the next slot is not made: the next slot is as good, and none pile up.
  const waitSkip = busy
    ? null
    : skipReasonOf(due, await waitOf(deps, worker, now), nextSlotAfter(schedule, now));
  const busyReason = busy
    ? `worker "${worker.id}" still had run ${busy.id} ${busy.status} (onBusy: skip)`
    : null;
  // One decision per slot, even when ticks overlap: the first transaction to move lastSlot wins.
  const decided = await deps.db.runTransaction(async (t) => {
    const current = (await t.get(ref)).data();
    if (current && new Date(current.lastSlot) >= due) return null;
    const skipped = busy !== undefined || waitSkip !== null;
    const next: ScheduleState = {
      workerId: worker.id,
      lastSlot: slot,
      outcome: skipped ? 'skipped' : 'queued',
      runId,
      activeRunId: busy?.id ?? null,
      pending: !skipped,
      reason: busyReason ?? waitSkip,
      updatedAt: now.toISOString(),
    };
    t.set(ref, next);
    return next;
  });
  if (!decided) return; // another tick decided this slot

  if (waitSkip !== null) {
    result.skipped.push({ workerId: worker.id, slot, runId, reason: waitSkip, activeRunId: null });
    deps.log.warn('scheduled slot skipped', { workerId: worker.id, slot, reason: waitSkip });
    return;
  }
  if (busy) {
    const reason = busyReason ?? '';
    result.skipped.push({ workerId: worker.id, slot, runId, reason, activeRunId: busy.id });
    deps.log.warn('scheduled slot skipped', { workerId: worker.id, slot, activeRunId: busy.id, reason });
    // Durable and visible where the owner looks: a note in the history of the run that was in the way.
    await appendEvent(deps, {
      type: 'note',
      id: newEventId(now),
      runId: busy.id,
      at: now.toISOString(),
      message: `scheduled slot ${slot} of worker "${worker.id}" was skipped because this run was still ${busy.status} (onBusy: skip)`,
      agentId: null,
    });
    return;
  }
  await queueSlot(deps, worker, slot, runId, result);
}

/** Runs one tick at deps.now(). Never throws for one worker's trouble: it lands in `failed` and the log. */
export async function runTick(
  deps: Deps,
  options: { notifications?: NotifyOptions } = {},
): Promise<TickResult> {
  const now = deps.now();
  const result: TickResult = {
    at: now.toISOString(),
    queued: [],
    skipped: [],
    failed: [],
    republished: { republished: [], failed: [] },
    resumed: { resumed: [], failed: [] },
    vms: { needed: 0, decisions: [], retry: false },
    budgetStops: [],
    budgetAdmits: { admitted: [], deferred: [] },
  };
  for (const worker of await scheduledWorkers(deps, result)) {
    try {
      await tickWorker(deps, worker, now, result);
    } catch (error) {
      const message = (error as Error).message;
      deps.log.error('scheduler: could not handle a worker', { workerId: worker.id, error: message });
      result.failed.push({ workerId: worker.id, error: message });
    }
  }
  try {
    result.budgetStops = await stopOverBudgetRuns(deps);
  } catch (error) {
    deps.log.error('scheduler: could not check the running runs against their budgets', {
      error: (error as Error).message,
    });
  }
  try {
    // Before the resume: a run that waited for maxRunsPerDay needs a slot of the new day to go on.
    result.budgetAdmits = await admitDueWaitingRuns(deps);
  } catch (error) {
    deps.log.error('scheduler: could not admit the runs waiting for a new day', {
      error: (error as Error).message,
    });
  }
  try {
    // Before the sweep and the VM starts: a resumed run is queued, so the starts count it.
    result.resumed = await resumeWaitingRuns(deps);
  } catch (error) {
    deps.log.error('scheduler: could not resume the waiting runs', { error: (error as Error).message });
  }
  try {
    result.republished = await republishQueuedRuns(deps);
  } catch (error) {
    deps.log.error('scheduler: could not sweep the queued runs', { error: (error as Error).message });
  }
  try {
    result.vms = await ensureCapacity(deps, { reason: 'scheduler tick: runs are waiting', runId: null });
  } catch (error) {
    deps.log.error('scheduler: could not look at the worker VMs', { error: (error as Error).message });
  }
  // Never throws: its failures are in the outcome and the log.
  if (options.notifications) result.digest = await sendDigestIfDue(deps, options.notifications);
  return result;
}
