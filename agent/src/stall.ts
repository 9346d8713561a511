// Stalls: a running worker with no stream output and no change of its progress file for the run's stallMinutes gets an event and `stalledSince`, and with onStall "stop" is stopped (timed out).
import { stat } from 'node:fs/promises';
import type { HeldRun } from './lifecycle.js';
import type { Clock } from './options.js';
import { progressFileOf } from './progress.js';
import type { Store } from './store.js';
import type { AgentTimings } from './timings.js';

interface Watch {
  /** The stream log's offset and the progress file's size and mtime, as last seen. */
  activity: string;
  lastActivityMs: number;
  /** When the stall was recorded (the last activity), or null while the run moves. */
  stalledSinceMs: number | null;
}

const watches = new WeakMap<HeldRun, Watch>();

/** The ending's words for a run stopped because it stalled. */
export const stallError = (minutes: number): string =>
  `stalled: no stream output and no progress file change for ${minutes} minute(s) (stallMinutes ${minutes}, onStall stop)`;

async function activityOf(held: HeldRun): Promise<string> {
  const file = progressFileOf(held);
  const s = file === null ? null : await stat(file).catch(() => null);
  return `${held.tail.offset}|${s ? `${s.size}:${s.mtimeMs}` : '-'}`;
}

/**
 * One look at a running run. The first look starts its clock (a restarted agent counts from its own
 * start, never from before it). Returns true when the run stalled and its onStall is `stop`: the caller
 * stops it.
 */
export async function checkStall(
  deps: { store: Store; clock: Clock; timings: Pick<AgentTimings, 'minuteMs'> },
  held: HeldRun,
): Promise<boolean> {
  const nowMs = deps.clock.now().getTime();
  const activity = await activityOf(held);
  const watch = watches.get(held);
  if (watch === undefined) {
    watches.set(held, { activity, lastActivityMs: nowMs, stalledSinceMs: null });
    return false;
  }
  if (activity !== watch.activity) {
    watch.activity = activity;
    watch.lastActivityMs = nowMs;
    if (watch.stalledSinceMs !== null) {
      watch.stalledSinceMs = null;
      await deps.store.update(held.runId, { stalledSince: null }).catch(() => {});
      await deps.store
        .note(held.runId, 'no longer stalled: the worker printed or changed its progress file')
        .catch(() => {});
    }
    return false;
  }
  const { stallMinutes, onStall } = held.run.autopilot;
  if (watch.stalledSinceMs !== null) return onStall === 'stop';
  if (nowMs - watch.lastActivityMs < stallMinutes * deps.timings.minuteMs) return false;
  watch.stalledSinceMs = watch.lastActivityMs;
  const since = new Date(watch.lastActivityMs).toISOString();
  held.log.warn('run stalled', { since, stallMinutes, onStall });
  await deps.store.update(held.runId, { stalledSince: since }).catch(() => {});
  await deps.store
    .stalled(
      held.runId,
      since,
      `stalled: no stream output and no progress file change since ${since} (stallMinutes ${stallMinutes})${onStall === 'stop' ? '; stopping it (onStall stop)' : ''}`,
    )
    .catch(() => {});
  return onStall === 'stop';
}
