// Chains: a run that succeeded with a commit while its roadmap or TASKS.md has open items queues the next run of its worker at once, until a reason to stop (an event on the last run).

import { isTerminal, type Run, type RunStatusEvent, type Worker } from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { appendEvent, createRun } from '../runs/service.js';
import { runsOfDay, workerDay } from '../workers/budget.js';

/** The run a chain queues after `previousRunId`: one id per previous run, so a redelivered event queues one. */
export const chainRunIdOf = (previousRunId: string): string => `chain-${previousRunId}`.slice(0, 128);

export type ChainDecision = { next: true } | { next: false; why: string };

/** Whether the chain goes on after `run` (pure but for the count of the day's chained runs). */
export function decideChain(run: Run, worker: Worker | undefined, chainedToday: number): ChainDecision {
  if (worker === undefined) return { next: false, why: `its worker ${run.workerId} is gone` };
  const chain = worker.chain;
  if (!chain?.enabled) return { next: false, why: 'chain is off for the worker' };
  if (!worker.enabled) return { next: false, why: `the worker ${worker.id} is disabled` };
  if (run.status !== 'succeeded') return { next: false, why: `the run ended ${run.status}` };
  if (run.blocked !== null) return { next: false, why: `the run is blocked: ${run.blocked.text}` };
  if (run.commits.length === 0) return { next: false, why: 'the run made no commit' };
  if (run.roadmapOpen === null)
    return {
      next: false,
      why: `neither ${run.checkout.roadmapPath} nor ${run.checkout.tasksPath} was found`,
    };
  if (run.roadmapOpen === 0)
    return {
      next: false,
      why: `the roadmap is done: no open item in ${run.checkout.roadmapPath} or ${run.checkout.tasksPath}`,
    };
  if (chainedToday >= chain.maxRunsPerDay)
    return {
      next: false,
      why: `chain.maxRunsPerDay (${chain.maxRunsPerDay}) is reached for the worker's day`,
    };
  return { next: true };
}

/**
 * The chain reaction to a terminal status: queues the next run (idempotent: its id comes from this run)
 * or records why the chain stops as an event on this run (once: its id comes from this run too). Runs of
 * workers without a chain are left alone.
 */
export async function continueChain(deps: Deps, event: RunStatusEvent): Promise<string | null> {
  if (!isTerminal(event.to)) return null;
  const run = (await deps.cols.runs.doc(event.runId).get()).data();
  if (run === undefined) return null;
  const worker = (await deps.cols.workers.doc(run.workerId).get()).data();
  // Only chains speak: a worker without one, and a run that was no part of one, get no event.
  if (!worker?.chain?.enabled && run.trigger.type !== 'chain') return null;
  const now = deps.now();
  const day = worker ? workerDay(worker, now) : { start: now, end: now };
  const chainedToday = worker
    ? (await runsOfDay(deps, worker.id, day.start)).filter(
        (r) => r.trigger.type === 'chain' && r.id !== chainRunIdOf(run.id),
      ).length
    : 0;
  const decision = decideChain(run, worker, chainedToday);
  if (decision.next) {
    const { run: next, created } = await createRun(deps, {
      workerId: run.workerId,
      trigger: { type: 'chain', previousRunId: run.id },
      runId: chainRunIdOf(run.id),
      parentRunId: run.id,
    });
    return `${created ? 'queued' : 'already queued'} ${next.id} (${run.roadmapOpen} open item(s))`;
  }
  const at = now.toISOString();
  await appendEvent(deps, {
    type: 'note',
    id: `chain-stopped-${run.id}`,
    runId: run.id,
    at,
    message: `chain stopped: ${decision.why}`,
    agentId: null,
  });
  return `stopped: ${decision.why}`;
}
