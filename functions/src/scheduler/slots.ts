// Cron slots: which slot of a worker's schedule is due at a tick, and the run id derived from it.
import type { Schedule } from '@nightshift/shared';
import { Cron } from 'croner';

/**
 * The latest slot of `schedule` in (floor, now], or null. Only the latest: a tick that comes hours late
 * queues one run, not one per missed slot. croner does the cron arithmetic in the schedule's time zone;
 * its DST rules (same as Vixie cron) are: a fixed-time job whose local time does not exist (spring
 * forward) runs at the first valid time after the gap, and one whose local time occurs twice (fall back)
 * runs once, at the first occurrence. So a nightly job is neither skipped nor doubled.
 */
export function dueSlot(schedule: Pick<Schedule, 'cron' | 'timezone'>, floor: Date, now: Date): Date | null {
  if (now.getTime() <= floor.getTime()) return null;
  const cron = new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
  // previousRuns excludes a run exactly at the reference; one millisecond later includes a slot at `now`.
  const [latest] = cron.previousRuns(1, new Date(now.getTime() + 1));
  if (!latest || latest.getTime() <= floor.getTime() || latest.getTime() > now.getTime()) return null;
  return latest;
}

/** `20261124T023000Z`: a slot as compact UTC, safe in a run id. */
export function compactSlot(slot: Date): string {
  return slot
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** The run id of a worker's slot: the same slot always gets the same id, so it is queued at most once. */
export function scheduledRunId(workerId: string, slot: Date): string {
  return `s-${workerId}-${compactSlot(slot)}`;
}

/** The first slot of `schedule` after `now`, or null when it has none. */
export function nextSlotAfter(schedule: Pick<Schedule, 'cron' | 'timezone'>, now: Date): Date | null {
  return new Cron(schedule.cron, { timezone: schedule.timezone, paused: true }).nextRun(now);
}

/** What would make a slot's run wait: until when, and why. */
export interface SlotWait {
  until: Date;
  reason: string;
}

/**
 * Whether a slot is skipped rather than queued to wait: its run would wait (`wait`) until after the
 * worker's next slot, so waiting would only pile slots up behind each other. Null: queue it.
 */
export function skipReasonOf(slot: Date, wait: SlotWait | null, next: Date | null): string | null {
  if (wait === null || next === null || wait.until.getTime() <= next.getTime()) return null;
  return `slot ${slot.toISOString()} skipped: its run would wait until ${wait.until.toISOString()} (${wait.reason}), past the worker's next slot ${next.toISOString()}`;
}
