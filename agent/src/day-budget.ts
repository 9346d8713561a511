// The day budget at a piece's launch: the `--max-budget-usd` it gets (the run's own cap left, the worker's day left), the wait when the day is spent, and the reason when the CLI stops on it.
import {
  BUDGET_STOP_PREFIX,
  type Day,
  dayIn,
  type PieceCap,
  pieceCapOf,
  type Run,
  spendOf,
} from '@nightshift/shared';
import { type HeldRun, type Outcome, outcomeOf, type Pause } from './lifecycle.js';
import { errorMessage } from './log.js';
import type { Store } from './store.js';

/** The result subtype of a `claude` that stopped on its `--max-budget-usd` (SDKResultError in the SDK). */
export const BUDGET_STOP_SUBTYPE = 'error_max_budget_usd';

/** What the day budget says at a launch: the piece's cap, and the run's day. */
export interface PieceBudget {
  cap: PieceCap;
  day: Day | null;
  /** The worker's day cost by its other runs (and this run's earlier pieces of the day), when limited. */
  dayCostUsd: number | null;
}

const usd = (n: number): number => Math.round(n * 1e6) / 1e6;

/**
 * The day's USD left for this run's piece: `autopilot.maxUsdPerDay` less the day's cost of the worker's
 * runs (counted as the functions count them: runs created in the day, in the run's day zone). The run's
 * own cost so far counts when it was created in the day. One worker runs one run at a time, so the other
 * runs' costs are final.
 */
export async function pieceBudgetOf(store: Store, run: Run, now: Date): Promise<PieceBudget> {
  const max = run.autopilot.maxUsdPerDay;
  if (max === null) return { cap: pieceCapOf(run, null), day: null, dayCostUsd: null };
  const day = dayIn(run.autopilot.dayZone, now);
  const from = day.start.toISOString();
  const others = (await store.runsOfWorker(run.workerId)).filter((r) => r.createdAt >= from);
  const spend = spendOf(others, { maxUsdPerDay: max }, day, run.id);
  const own = run.createdAt >= from ? run.usage.costUsd : 0;
  const dayCostUsd = usd(spend.costUsd + own);
  return { cap: pieceCapOf(run, Math.max(0, usd(max - dayCostUsd))), day, dayCostUsd };
}

/** The run with the piece's cap as its `maxBudgetUsd`, for `workerArgs`. */
export const withPieceCap = <R extends Pick<Run, 'maxBudgetUsd'>>(run: R, budget: PieceBudget | null): R =>
  budget === null ? run : { ...run, maxBudgetUsd: budget.cap.limit };

/**
 * Nothing left to spend: the day's budget is spent (the run waits for the worker's next day, like a run
 * created over budget), or the run's own maxBudgetUsd is (it fails). Null: launch it.
 */
export function budgetEndingOf(
  run: Pick<Run, 'maxBudgetUsd' | 'autopilot'>,
  budget: PieceBudget,
): Outcome | null {
  const { cap, day } = budget;
  if (cap.limit === null || cap.limit > 0) return null;
  if (cap.by === 'run')
    return outcomeOf(
      'failed',
      `not launched: the run's maxBudgetUsd ($${run.maxBudgetUsd}) is spent by its earlier pieces`,
    );
  const resumeAt = (day?.end ?? new Date()).toISOString();
  const reason = `not launched: the worker's budget.maxUsdPerDay ($${run.autopilot.maxUsdPerDay}) is spent for its day ($${budget.dayCostUsd} since ${day?.start.toISOString()}); it waits for the worker's next day (${resumeAt})`;
  const pause: Pause = { kind: 'day_budget', status: 'waiting', resumeAt, reason };
  return { ...outcomeOf('failed', null), status: 'waiting', pause };
}

/**
 * Launch's hook: the piece's budget, or the run's ending when nothing is left (a cancel already asked for
 * is left to the launch). A budget that cannot be read (Firestore) launches with the run's own cap: the
 * scheduler tick's stop is the backstop.
 */
export async function budgetAtLaunch(
  store: Store,
  held: HeldRun,
  now: Date,
): Promise<{ budget: PieceBudget | null; ending: Outcome | null }> {
  try {
    const budget = await pieceBudgetOf(store, held.run, now);
    const ending = held.cancelReason === null ? budgetEndingOf(held.run, budget) : null;
    if (budget.cap.by !== null)
      held.log.info('piece budget', { ...budget.cap, dayCostUsd: budget.dayCostUsd });
    return { budget, ending };
  } catch (error) {
    held.log.warn('the day budget could not be read; launching with the run own cap', {
      error: errorMessage(error),
    });
    return { budget: null, ending: null };
  }
}

/**
 * A run that waits for its worker's next day before its piece was launched: `starting → waiting` with
 * `resumeAt` and the reason; no piece is recorded and no wait counted (nothing ran). A run with no
 * earlier piece gives its worker lock back (its workspace holds nothing of it yet); a later piece keeps
 * it, like any pause, so no other run starts in the workspace it resumes in.
 */
export async function waitForNextDay(store: Store, held: HeldRun, pause: Pause): Promise<void> {
  const moved = await store.move(held.runId, 'waiting', {
    patch: { resumeAt: pause.resumeAt, waitReason: pause.reason, session: null, leaseExpiresAt: null },
    reason: pause.reason,
    expect: ['starting'],
  });
  if (!moved.ok) held.log.warn('day budget wait not written', { why: moved.why });
  else if (held.run.pieces.length === 0) await store.releaseLock(held.workerId, held.runId);
  held.log.info('run waits for the next day (day budget)', { resumeAt: pause.resumeAt });
}

/** Outcomes already given their budget reason: a terminal write retried later does not look again. */
const explained = new WeakSet<HeldRun>();

/**
 * At the finish of a piece the CLI stopped on its `--max-budget-usd`: the ending names the budget that was
 * reached. The worker's day (its cost, this run's included, reached `maxUsdPerDay`): `cancelled` with
 * `stopped by the budget: …`, as the scheduler tick's stop says. Else the run's own `maxBudgetUsd`: failed,
 * saying so.
 */
export async function explainBudgetStop(store: Store, held: HeldRun, now: Date): Promise<void> {
  const phase = held.phase;
  if (phase.name !== 'finishing' || explained.has(held)) return;
  const ending = phase.outcome;
  if (ending.status !== 'failed' || held.tail.stream.result?.subtype !== BUDGET_STOP_SUBTYPE) return;
  const run = { ...held.run, usage: held.tail.stream.usage };
  const max = run.autopilot.maxUsdPerDay;
  let error: string;
  let status: Outcome['status'] = 'failed';
  const budget = max === null ? null : await pieceBudgetOf(store, run, now).catch(() => null);
  if (max !== null && budget !== null && budget.cap.dayLeft === 0) {
    status = 'cancelled';
    error = `${BUDGET_STOP_PREFIX}the worker's day cost $${budget.dayCostUsd} since ${budget.day?.start.toISOString()} reached budget.maxUsdPerDay ($${max}) (the worker stopped on --max-budget-usd)`;
  } else if (run.maxBudgetUsd !== null) {
    error = `stopped at the run's maxBudgetUsd ($${run.maxBudgetUsd}): the worker ended with ${BUDGET_STOP_SUBTYPE} after $${run.usage.costUsd}`;
  } else {
    error = ending.error ?? `worker ended with ${BUDGET_STOP_SUBTYPE}`;
  }
  explained.add(held);
  held.settled({ ...ending, status, error });
}
