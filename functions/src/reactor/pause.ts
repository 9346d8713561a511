// A schedule that keeps failing pauses itself: after its last runs in a row failed or made no commit (budget stops aside), the worker's schedule gets `pausedReason` and the last run an event.
import {
  isTerminal,
  newEventId,
  type Run,
  type RunStatusEvent,
  SCHEDULE_PAUSE_AFTER_RUNS,
  stoppedByBudget,
} from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { appendEvent } from '../runs/service.js';

const fruitless = (r: Run): boolean => r.status !== 'succeeded' || r.commits.length === 0;

/** Pauses the worker's schedule when its last SCHEDULE_PAUSE_AFTER_RUNS scheduled runs all came to nothing. */
export async function pauseFailingSchedule(deps: Deps, event: RunStatusEvent): Promise<string | null> {
  if (!isTerminal(event.to) || event.trigger.type !== 'schedule') return null;
  const snap = await deps.cols.runs.where('workerId', '==', event.workerId).get();
  const last = snap.docs
    .map((d) => d.data())
    // A run the day budget stopped says nothing of the schedule: the owner's cap did its job.
    .filter((r) => r.trigger.type === 'schedule' && isTerminal(r.status) && !stoppedByBudget(r))
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
    .slice(0, SCHEDULE_PAUSE_AFTER_RUNS);
  if (last.length < SCHEDULE_PAUSE_AFTER_RUNS || !last.every(fruitless)) return null;
  const reason = `paused by nightshift: the last ${SCHEDULE_PAUSE_AFTER_RUNS} scheduled runs (${last.map((r) => `${r.id} ${r.status}${r.status === 'succeeded' ? ' without a commit' : ''}`).join(', ')}) came to nothing; set the schedule again to resume it`;
  const ref = deps.cols.workers.doc(event.workerId);
  const paused = await deps.db.runTransaction(async (tx) => {
    const worker = (await tx.get(ref)).data();
    if (!worker?.schedule || worker.schedule.pausedReason !== undefined) return false;
    tx.update(ref, { 'schedule.pausedReason': reason, updatedAt: deps.now().toISOString() });
    return true;
  });
  if (!paused) return null;
  const now = deps.now();
  await appendEvent(deps, {
    type: 'note',
    id: newEventId(now),
    runId: event.runId,
    at: now.toISOString(),
    message: `schedule of worker ${event.workerId} ${reason}`,
    agentId: null,
  });
  deps.log.warn('schedule paused', { workerId: event.workerId, reason });
  return reason;
}
