// A worker's day and what it spent in it: the runs created since its midnight, the day's run slots (budget.maxRunsPerDay, taken with create()), the tick's stop of a running run over budget.maxUsdPerDay.

import type { DocumentSnapshot } from '@google-cloud/firestore';
import {
  BUDGET_STOP_PREFIX,
  type Budget,
  type BudgetSlot,
  budgetDayKey,
  budgetSlotId,
  type Day,
  type DaySpend,
  isAlreadyExists,
  isPreconditionFailed,
  neverRan,
  newEventId,
  overBudget,
  type Run,
  spendOf,
  type Worker,
  workerDay,
} from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { cancelRun } from '../runs/cancel.js';
import { BUDGET_SLOT_TTL_MS } from '../timings.js';

export { type DaySpend, DaySpendSchema, overBudget, spendOf, workerDay } from '@nightshift/shared';

/** How often a run looks again for a free slot when every free one it saw was taken under it. */
const SLOT_ROUNDS = 5;

/** Runs of the worker created since `start`. One field in the query (no composite index), the time here. */
export async function runsOfDay(deps: Deps, workerId: string, start: Date): Promise<Run[]> {
  const snap = await deps.cols.runs.where('workerId', '==', workerId).get();
  const from = start.toISOString();
  return snap.docs.map((d) => d.data()).filter((r) => r.createdAt >= from);
}

/** The day's slot documents of the worker, by n. */
async function slotsOfDay(deps: Deps, workerId: string, day: Day) {
  const snap = await deps.cols.budgetSlots.where('dayKey', '==', budgetDayKey(workerId, day)).get();
  return new Map(snap.docs.map((d) => [d.data().n, d] as const));
}

/** The slots whose run gave theirs back: it never ran and ended, or is gone. */
async function freedSlots(
  deps: Deps,
  slots: Map<number, DocumentSnapshot<BudgetSlot>>,
): Promise<Set<number>> {
  const entries = [...slots.entries()];
  if (entries.length === 0) return new Set();
  const runs = await deps.db.getAll(...entries.map(([, d]) => deps.cols.runs.doc(d.data()?.runId ?? '-')));
  const freed = new Set<number>();
  entries.forEach(([n], i) => {
    const run = runs[i]?.data() as Run | undefined;
    if (run === undefined || neverRan(run)) freed.add(n);
  });
  return freed;
}

/** The slots of the worker's day that are taken, by runs that ran or still may. */
export async function takenSlots(deps: Deps, workerId: string, day: Day): Promise<number> {
  const slots = await slotsOfDay(deps, workerId, day);
  return slots.size - (await freedSlots(deps, slots)).size;
}

export type SlotTake = { taken: true; slotId: string } | { taken: false; reason: string };

/**
 * Takes one of the worker's `budget.maxRunsPerDay` slots of `day` for the run: the first free n is created
 * with create(), which fails if another run took it in the same instant (then the next n is tried). A slot
 * whose run never ran and ended (or is gone) is free again: deleted under its updateTime and taken. A run
 * that holds a slot of the day already keeps it. No transaction: the emulator can hold concurrent
 * transactions on one document for 30 s.
 */
export async function takeRunSlot(
  deps: Deps,
  worker: Pick<Worker, 'id'>,
  max: number,
  runId: string,
  day: Day,
): Promise<SlotTake> {
  for (let round = 0; round < SLOT_ROUNDS; round++) {
    const slots = await slotsOfDay(deps, worker.id, day);
    for (const [, doc] of slots) if (doc.data()?.runId === runId) return { taken: true, slotId: doc.id };
    const candidates: number[] = [];
    for (let n = 0; n < max; n++) if (!slots.has(n)) candidates.push(n);
    const freed = candidates.length === 0 ? await freedSlots(deps, slots) : new Set<number>();
    for (const n of freed) if (n < max) candidates.push(n);
    if (candidates.length === 0) {
      return {
        taken: false,
        reason: `the worker's budget.maxRunsPerDay (${max}) is used up for its day (${slots.size} runs admitted since ${day.start.toISOString()})`,
      };
    }
    for (const n of candidates) {
      const ref = deps.cols.budgetSlots.doc(budgetSlotId(worker.id, day, n));
      const held = slots.get(n);
      if (held?.updateTime && freed.has(n)) {
        try {
          await ref.delete({ lastUpdateTime: held.updateTime });
        } catch (error) {
          if (!isPreconditionFailed(error)) throw error;
          continue; // freed and taken by another run meanwhile
        }
      }
      try {
        await ref.create({
          workerId: worker.id,
          dayKey: budgetDayKey(worker.id, day),
          dayStart: day.start.toISOString(),
          n,
          runId,
          takenAt: deps.now().toISOString(),
          expiresAt: new Date(day.end.getTime() + BUDGET_SLOT_TTL_MS),
        });
        return { taken: true, slotId: ref.id };
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
    }
  }
  return {
    taken: false,
    reason: `the worker's budget.maxRunsPerDay (${max}) slots of its day were all taken by other runs while this one looked`,
  };
}

/** Whether the run holds a run slot of any day (it was admitted once; it keeps that one). */
export async function holdsSlot(deps: Deps, runId: string): Promise<boolean> {
  return !(await deps.cols.budgetSlots.where('runId', '==', runId).limit(1).get()).empty;
}

/**
 * The budget's decision on a new run of the worker: null when it may start (a run slot of the day taken
 * for it under maxRunsPerDay), else why not. The USD is looked at first, so a day that is spent takes no slot.
 */
export async function admitRun(deps: Deps, worker: Worker, runId: string, now: Date): Promise<string | null> {
  const budget = worker.budget;
  if (budget === undefined) return null;
  const day = workerDay(worker, now);
  if (budget.maxUsdPerDay !== undefined) {
    const spend = spendOf(
      await runsOfDay(deps, worker.id, day.start),
      { maxUsdPerDay: budget.maxUsdPerDay },
      day,
      runId,
    );
    const over = overBudget(spend, { maxUsdPerDay: budget.maxUsdPerDay });
    if (over !== null) return over;
  }
  if (budget.maxRunsPerDay === undefined) return null;
  const slot = await takeRunSlot(deps, worker, budget.maxRunsPerDay, runId, day);
  return slot.taken ? null : slot.reason;
}

/** The worker's day's spend now; `leftRuns` from the day's run slots, which decide. */
export async function daySpendOf(deps: Deps, worker: Worker, exceptRunId?: string): Promise<DaySpend> {
  const day = workerDay(worker, deps.now());
  const spend = spendOf(await runsOfDay(deps, worker.id, day.start), worker.budget, day, exceptRunId);
  const max = worker.budget?.maxRunsPerDay;
  if (max === undefined) return spend;
  return { ...spend, leftRuns: Math.max(0, max - (await takenSlots(deps, worker.id, day))) };
}

/** Why a run of the worker created now would not start today (its budget), or null. Reads only. */
export async function budgetWaitReason(deps: Deps, worker: Worker): Promise<string | null> {
  if (worker.budget === undefined) return null;
  const budget: Budget = worker.budget;
  return overBudget(await daySpendOf(deps, worker), budget);
}

/** What admitDueWaitingRuns did: runs given a slot of the new day, and runs that wait for another day. */
export interface AdmitResult {
  admitted: string[];
  deferred: string[];
}

/**
 * Before the tick resumes due waiting runs: a run that waited for a new day because maxRunsPerDay was used
 * up (it holds no run slot, it never ran) takes a slot of the day it wakes in. Without one it waits for
 * the next day again (resumeAt moved, a note), so a day never starts more than maxRunsPerDay runs however
 * many waited for it.
 */
export async function admitDueWaitingRuns(deps: Deps): Promise<AdmitResult> {
  const now = deps.now();
  const snap = await deps.cols.runs.where('status', '==', 'waiting').get();
  const result: AdmitResult = { admitted: [], deferred: [] };
  const workers = new Map<string, Worker | undefined>();
  for (const doc of snap.docs) {
    const run = doc.data();
    if (run.pieces.length > 0 || (run.resumeAt !== null && Date.parse(run.resumeAt) > now.getTime()))
      continue;
    if (!workers.has(run.workerId))
      workers.set(run.workerId, (await deps.cols.workers.doc(run.workerId).get()).data());
    const worker = workers.get(run.workerId);
    const max = worker?.budget?.maxRunsPerDay;
    if (worker === undefined || max === undefined || (await holdsSlot(deps, run.id))) continue;
    const day = workerDay(worker, now);
    const slot = await takeRunSlot(deps, worker, max, run.id, day);
    if (slot.taken) {
      result.admitted.push(run.id);
      continue;
    }
    const resumeAt = day.end.toISOString();
    const message = `still not started: ${slot.reason}; it waits for the worker's next day (${resumeAt})`;
    try {
      await doc.ref.update(
        { resumeAt, waitReason: message, updatedAt: now.toISOString() },
        { lastUpdateTime: doc.updateTime },
      );
    } catch (error) {
      if (isPreconditionFailed(error)) continue; // moved on meanwhile (cancelled, resumed by another tick)
      throw error;
    }
    const id = newEventId(now);
    await deps.cols
      .runEvents(run.id)
      .doc(id)
      .set({ type: 'note', id, runId: run.id, at: now.toISOString(), message, agentId: null });
    result.deferred.push(run.id);
  }
  if (result.deferred.length > 0) deps.log.info('waiting runs deferred by maxRunsPerDay', { ...result });
  return result;
}

/**
 * The scheduler tick's budget watch: a running run of a worker whose day's cost (this run's usage so far
 * included, as its agent writes it) has reached `budget.maxUsdPerDay` is cancelled with the reason; its
 * agent stops it like any cancel. The agent's `--max-budget-usd` stops it first; this is the backstop.
 * Returns the runs asked to stop.
 */
export async function stopOverBudgetRuns(deps: Deps): Promise<string[]> {
  const snap = await deps.cols.runs.where('status', '==', 'running').get();
  const stopped: string[] = [];
  const workers = new Map<string, Worker | undefined>();
  for (const doc of snap.docs) {
    const run = doc.data();
    if (run.cancelRequestedAt !== null) continue;
    if (!workers.has(run.workerId))
      workers.set(run.workerId, (await deps.cols.workers.doc(run.workerId).get()).data());
    const worker = workers.get(run.workerId);
    const max = worker?.budget?.maxUsdPerDay;
    if (worker === undefined || max === undefined) continue;
    const day = workerDay(worker, deps.now());
    const spend = spendOf(await runsOfDay(deps, worker.id, day.start), { maxUsdPerDay: max }, day);
    if (spend.leftUsd !== 0) continue;
    const reason = `${BUDGET_STOP_PREFIX}the worker's day cost $${spend.costUsd} since ${spend.dayStart} reached budget.maxUsdPerDay ($${max})`;
    await cancelRun(deps, run.id, reason);
    stopped.push(run.id);
  }
  if (stopped.length > 0) deps.log.warn('runs stopped over budget', { stopped });
  return stopped;
}
