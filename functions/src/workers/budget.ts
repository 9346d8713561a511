// A worker's day and what it spent in it: the runs created since its midnight (its schedule's time zone, else UTC), their cost against budget.
import type { Budget, Run, Worker } from '@nightshift/shared';
import { Cron } from 'croner';
import { z } from 'zod';
import type { Deps } from '../core/deps.js';
import { cancelRun } from '../runs/cancel.js';

/** The worker's day: from its last midnight to the next, in its schedule's time zone (else UTC). */
export function workerDay(worker: Pick<Worker, 'schedule'>, now: Date): { start: Date; end: Date } {
  const midnight = new Cron('0 0 0 * * *', { timezone: worker.schedule?.timezone ?? 'UTC', paused: true });
  const start = midnight.previousRuns(1, new Date(now.getTime() + 1))[0] ?? now;
  const end = midnight.nextRun(now) ?? new Date(now.getTime() + 86_400_000);
  return { start, end };
}

/** Runs of the worker created since `start`. One field in the query (no composite index), the time here. */
export async function runsOfDay(deps: Deps, workerId: string, start: Date): Promise<Run[]> {
  const snap = await deps.cols.runs.where('workerId', '==', workerId).get();
  const from = start.toISOString();
  return snap.docs.map((d) => d.data()).filter((r) => r.createdAt >= from);
}

export const DaySpendSchema = z.object({
  dayStart: z.string(),
  dayEnd: z.string(),
  runs: z.number().int(),
  costUsd: z.number(),
  /** What the budget leaves of the day; null where the worker sets no limit. */
  leftUsd: z.number().nullable(),
  leftRuns: z.number().int().nullable(),
});
export type DaySpend = z.infer<typeof DaySpendSchema>;

/** The day's spend of `runs` against `budget`. `exceptRunId`: a run not to count (the one being decided). */
export function spendOf(
  runs: Run[],
  budget: Budget | undefined,
  day: { start: Date; end: Date },
  exceptRunId?: string,
): DaySpend {
  // A run that waits for a later day (over budget) is that day's, not this one's.
  const dayEnd = day.end.toISOString();
  const counted = runs.filter(
    (r) => r.id !== exceptRunId && !(r.status === 'waiting' && r.resumeAt !== null && r.resumeAt >= dayEnd),
  );
  const costUsd = Math.round(counted.reduce((sum, r) => sum + r.usage.costUsd, 0) * 1e6) / 1e6;
  return {
    dayStart: day.start.toISOString(),
    dayEnd: day.end.toISOString(),
    runs: counted.length,
    costUsd,
    leftUsd:
      budget?.maxUsdPerDay === undefined
        ? null
        : Math.max(0, Math.round((budget.maxUsdPerDay - costUsd) * 1e6) / 1e6),
    leftRuns: budget?.maxRunsPerDay === undefined ? null : Math.max(0, budget.maxRunsPerDay - counted.length),
  };
}

/** Why a new run of the worker may not start today, or null when the budget allows it. */
export function overBudget(spend: DaySpend, budget: Budget | undefined): string | null {
  if (budget?.maxRunsPerDay !== undefined && spend.leftRuns === 0)
    return `the worker's budget.maxRunsPerDay (${budget.maxRunsPerDay}) is used up for its day (${spend.runs} runs since ${spend.dayStart})`;
  if (budget?.maxUsdPerDay !== undefined && spend.leftUsd === 0)
    return `the worker's budget.maxUsdPerDay ($${budget.maxUsdPerDay}) is spent for its day ($${spend.costUsd} since ${spend.dayStart})`;
  return null;
}

/** The worker's day's spend now. */
export async function daySpendOf(deps: Deps, worker: Worker, exceptRunId?: string): Promise<DaySpend> {
  const day = workerDay(worker, deps.now());
  return spendOf(await runsOfDay(deps, worker.id, day.start), worker.budget, day, exceptRunId);
}

/**
 * The scheduler tick's budget watch: a running run of a worker whose day's cost (this run's usage so far
 * included, as its agent writes it) has reached `budget.maxUsdPerDay` is cancelled with the reason; its
 * agent stops it like any cancel. Returns the runs asked to stop.
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
    const spend = await daySpendOf(deps, worker);
    if (spend.leftUsd !== 0) continue;
    const reason = `stopped by the budget: the worker's day cost $${spend.costUsd} since ${spend.dayStart} reached budget.maxUsdPerDay ($${max})`;
    await cancelRun(deps, run.id, reason);
    stopped.push(run.id);
  }
  if (stopped.length > 0) deps.log.warn('runs stopped over budget', { stopped });
  return stopped;
}
