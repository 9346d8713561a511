// A worker's day budget, pure: its day (midnight to midnight in its schedule's zone), the day's spend of its runs, the run slots of a day, and the USD cap a piece may spend.
import { Cron } from 'croner';
import * as z from 'zod';
import { IsoDateTimeSchema, RunIdSchema, SlugSchema } from './ids.js';
import { ExpiresAtSchema } from './records.js';
import type { Run } from './run.js';
import { isTerminal } from './status.js';
import type { Budget, Worker } from './worker.js';

export interface Day {
  start: Date;
  end: Date;
}

/** The day of a time zone that `now` falls in: from its last midnight to the next. */
export function dayIn(timezone: string, now: Date): Day {
  const midnight = new Cron('0 0 0 * * *', { timezone, paused: true });
  const start = midnight.previousRuns(1, new Date(now.getTime() + 1))[0] ?? now;
  const end = midnight.nextRun(now) ?? new Date(now.getTime() + 86_400_000);
  return { start, end };
}

/** The zone a worker's day is counted in: its schedule's, else UTC. */
export const dayZoneOf = (worker: Pick<Worker, 'schedule'>): string => worker.schedule?.timezone ?? 'UTC';

/** The worker's day: from its last midnight to the next, in its schedule's time zone (else UTC). */
export function workerDay(worker: Pick<Worker, 'schedule'>, now: Date): Day {
  return dayIn(dayZoneOf(worker), now);
}

/** How a run stopped by the worker's day budget (the agent's or the scheduler tick's stop) says so. */
export const BUDGET_STOP_PREFIX = 'stopped by the budget: ';

/** Whether the run was stopped by its worker's day budget: the budget's doing, not the run's. */
export const stoppedByBudget = (run: Pick<Run, 'status' | 'error' | 'cancelReason'>): boolean =>
  run.status === 'cancelled' &&
  [run.error, run.cancelReason].some((said) => said?.startsWith(BUDGET_STOP_PREFIX) === true);

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

const usd = (n: number): number => Math.round(n * 1e6) / 1e6;

/**
 * A run that never launched a worker and has ended (cancelled while queued, failed at its workspace) spent
 * nothing: it gives its day's run slot back.
 */
export const neverRan = (run: Pick<Run, 'status' | 'startedAt'>): boolean =>
  isTerminal(run.status) && run.startedAt === null;

/** The day's spend of `runs` against `budget`. `exceptRunId`: a run not to count (the one being decided). */
export function spendOf(runs: Run[], budget: Budget | undefined, day: Day, exceptRunId?: string): DaySpend {
  // A run that waits for a later day (over budget) is that day's, not this one's.
  const dayEnd = day.end.toISOString();
  const counted = runs.filter(
    (r) =>
      r.id !== exceptRunId &&
      !neverRan(r) &&
      !(r.status === 'waiting' && r.resumeAt !== null && r.resumeAt >= dayEnd),
  );
  const costUsd = usd(counted.reduce((sum, r) => sum + r.usage.costUsd, 0));
  return {
    dayStart: day.start.toISOString(),
    dayEnd,
    runs: counted.length,
    costUsd,
    leftUsd: budget?.maxUsdPerDay === undefined ? null : Math.max(0, usd(budget.maxUsdPerDay - costUsd)),
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

/**
 * `budgetSlots/<workerId>_<day start, compact UTC>_<n>`: run n (0-based, n < maxRunsPerDay) of the worker's
 * day, taken with create() by the run admitted to it. The documents are the count: two runs created in the
 * same instant cannot take the same one, so no more than maxRunsPerDay runs are admitted in a day.
 */
export const BudgetSlotSchema = z.object({
  workerId: SlugSchema,
  /** `<workerId>_<day start>`: what a day's slots are listed by (one field, no composite index). */
  dayKey: z.string(),
  dayStart: IsoDateTimeSchema,
  n: z.number().int().min(0),
  runId: RunIdSchema,
  takenAt: IsoDateTimeSchema,
  /** When Firestore's TTL policy may delete it (terraform): long after its day, which alone reads it. */
  expiresAt: ExpiresAtSchema.optional(),
});
export type BudgetSlot = z.infer<typeof BudgetSlotSchema>;

/** `20261201T000000Z`: a time as compact UTC, safe in a document id. */
export const compactUtc = (at: Date): string =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');

export const budgetDayKey = (workerId: string, day: Day): string => `${workerId}_${compactUtc(day.start)}`;
export const budgetSlotId = (workerId: string, day: Day, n: number): string =>
  `${budgetDayKey(workerId, day)}_${n}`;

/** What a run's copy of its worker's day budget says (RunAutopilot): the USD of a day and the day's zone. */
export interface DayBudget {
  maxUsdPerDay: number | null;
  dayZone: string;
}

/**
 * The USD one piece of a run may spend, `--max-budget-usd`: the smaller of what the run's own
 * `maxBudgetUsd` leaves after its earlier pieces and what the worker's day leaves after its other runs.
 * `limit` null: neither is set. `by` says which one binds (`run`, `day`), for the reason when it is reached.
 */
export interface PieceCap {
  limit: number | null;
  by: 'run' | 'day' | null;
  runLeft: number | null;
  dayLeft: number | null;
}

export function pieceCapOf(run: Pick<Run, 'maxBudgetUsd' | 'usage'>, dayLeft: number | null): PieceCap {
  const runLeft = run.maxBudgetUsd === null ? null : Math.max(0, usd(run.maxBudgetUsd - run.usage.costUsd));
  if (runLeft === null && dayLeft === null) return { limit: null, by: null, runLeft, dayLeft };
  if (dayLeft === null || (runLeft !== null && runLeft <= dayLeft))
    return { limit: runLeft, by: 'run', runLeft, dayLeft };
  return { limit: dayLeft, by: 'day', runLeft, dayLeft };
}
