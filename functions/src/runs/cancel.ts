// Cancelling a run: a queued or waiting run is cancelled at once; a claimed one gets a request its agent acts on.
import {
  isPreconditionFailed,
  isTerminal,
  makeCommand,
  newEventId,
  type Run,
  type RunEvent,
  withDeadline,
} from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { conflict, notFound, unavailable } from '../core/errors.js';
import { PUBLISH_TIMEOUT_MS } from '../timings.js';
import { appendEvent } from './service.js';

export const DEFAULT_CANCEL_REASON = 'cancelled through the API';
export type CancelAction = 'cancelled' | 'cancel_requested';

export interface CancelResult {
  run: Run;
  action: CancelAction;
}

const MAX_ATTEMPTS = 5;

/**
 * Each write carries a lastUpdateTime precondition instead of a transaction (concurrent transactions on
 * one emulator document can stall for 30 s): if the run moved in between, it is read again and the
 * decision made anew, so a run that just started gets a cancel request rather than a stale `cancelled`.
 * A queued run is cancelled through moveRun, like every status change.
 */
export async function cancelRun(deps: Deps, runId: string, reason?: string): Promise<CancelResult> {
  const why = reason?.trim() ? reason.trim() : DEFAULT_CANCEL_REASON;
  const ref = deps.cols.runs.doc(runId);
  for (let attempt = 1; ; attempt++) {
    const snapshot = await ref.get();
    const run = snapshot.data();
    if (!run || !snapshot.updateTime) throw notFound(`run "${runId}" does not exist`);
    if (isTerminal(run.status)) {
      throw conflict(`run "${runId}" is already ${run.status} and cannot be cancelled`, {
        runId,
        runStatus: run.status,
      });
    }
    const at = deps.now();
    try {
      // No agent holds either: a waiting run's piece ended and its session is gone.
      if (run.status === 'queued' || run.status === 'waiting') {
        const moved = await deps.moveRun(runId, 'cancelled', {
          patch: {
            error: why,
            finishedAt: at.toISOString(),
            cancelRequestedAt: run.cancelRequestedAt ?? at.toISOString(),
            cancelReason: run.cancelReason ?? why,
            resumeAt: null,
          },
          reason: why,
          expect: [run.status],
          snapshot,
        });
        if (!moved.ok) {
          // Claimed (or ended) in between: decide again on what it is now.
          if (attempt >= MAX_ATTEMPTS) throw unavailable(`run "${runId}" kept changing; try again`);
          continue;
        }
        // A waiting (or requeued) run kept its worker's lock: the worker is free again.
        await releaseLockOf(deps, run);
        deps.log.info('run cancelled', { runId, workerId: run.workerId });
        return { run: moved.run, action: 'cancelled' };
      }
      let updated = run;
      if (run.cancelRequestedAt === null) {
        const fields = {
          cancelRequestedAt: at.toISOString(),
          cancelReason: why,
          updatedAt: at.toISOString(),
        };
        await ref.update(fields, { lastUpdateTime: snapshot.updateTime });
        const event: RunEvent = {
          type: 'cancel_requested',
          id: newEventId(at),
          runId: run.id,
          at: at.toISOString(),
          reason: why,
        };
        await appendEvent(deps, event);
        deps.log.info('run cancel requested', { runId, workerId: run.workerId, agentId: run.agentId });
        updated = { ...run, ...fields };
      }
      await nudge(deps, run.id, at);
      return { run: updated, action: 'cancel_requested' };
    } catch (error) {
      if (!isPreconditionFailed(error) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** Deletes the worker's lock if this run holds it (a claim would replace it as stale, but the VM starts count it). */
async function releaseLockOf(deps: Deps, run: Run): Promise<void> {
  try {
    const lock = await deps.cols.workerLocks.doc(run.workerId).get();
    if (lock.exists && lock.data()?.runId === run.id && lock.updateTime)
      await lock.ref.delete({ lastUpdateTime: lock.updateTime });
  } catch (error) {
    deps.log.warn('could not release the worker lock of a cancelled run', {
      runId: run.id,
      error: (error as Error).message,
    });
  }
}

/**
 * A run.cancel command wakes the agent sooner; the Firestore field is what counts (the holding agent reads
 * it within CANCEL_NOTICE_MS), so a failed publish is only a warning. Sent again on a repeated request.
 */
async function nudge(deps: Deps, runId: string, at: Date): Promise<void> {
  try {
    await withDeadline(
      'publish run.cancel',
      PUBLISH_TIMEOUT_MS,
      deps.publish(makeCommand('run.cancel', runId, at)),
    );
  } catch (error) {
    deps.log.warn(`could not publish the run.cancel command: ${(error as Error).message}`, { runId });
  }
}
