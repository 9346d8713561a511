// The resume timers without emulators: armed by the agent's clock, re-armed when early or beyond one timer's reach, never keeping the process, and the idle stop's hold.
import { describe, expect, it } from 'vitest';
import { idleStep } from './idle.js';
import { silentLogger } from './log.js';
import { armDelayMs, holdsVm, ResumeTimers, type TimerScheduler } from './resume-timer.js';
import type { Store } from './store.js';
import { RESUME_TIMER_MAX_MS } from './timings.js';

/** Timers the test fires by hand, and the clock it moves. */
function fakeTimers() {
  const set = new Map<number, { fire: () => void; delayMs: number }>();
  let next = 0;
  const scheduler: TimerScheduler = {
    set(fire, delayMs) {
      set.set(++next, { fire, delayMs });
      return next;
    },
    clear: (handle) => set.delete(handle as number),
  };
  return {
    scheduler,
    set,
    fireAll() {
      const all = [...set.entries()];
      set.clear();
      for (const [, t] of all) t.fire();
    },
  };
}

describe('Through the night: resume timers', () => {
  const start = Date.parse('2026-12-01T01:00:00.000Z');
  const setup = () => {
    let nowMs = start;
    const timers = fakeTimers();
    const due: string[] = [];
    const resumes = new ResumeTimers(
      {
        store: {} as Store,
        clock: { now: () => new Date(nowMs) },
        log: silentLogger,
        timings: { resumeHoldsVmMs: 15 * 60_000 },
        timers: timers.scheduler,
      },
      (runId) => due.push(runId),
    );
    return { resumes, timers, due, at: (ms: number) => (nowMs = start + ms) };
  };

  it('arms for resumeAt by the agent clock and fires once, at the time', () => {
    const { resumes, timers, due, at } = setup();
    resumes.arm({ id: 'r1', resumeAt: new Date(start + 90_000).toISOString() });
    expect([...timers.set.values()].map((t) => t.delayMs)).toEqual([90_000]);
    // Fired a moment early (timers may): re-armed for the rest, nothing due yet.
    at(89_990);
    timers.fireAll();
    expect(due).toEqual([]);
    expect([...timers.set.values()].map((t) => t.delayMs)).toEqual([10]);
    at(90_000);
    timers.fireAll();
    expect(due).toEqual(['r1']);
    expect(resumes.pending()).toEqual([]);
  });

  it('re-arms a resume beyond one timer, replaces an earlier arm, and stop() clears them all', () => {
    const { resumes, timers, due, at } = setup();
    const far = start + 3 * RESUME_TIMER_MAX_MS;
    resumes.arm({ id: 'far', resumeAt: new Date(far).toISOString() });
    expect([...timers.set.values()].map((t) => t.delayMs)).toEqual([RESUME_TIMER_MAX_MS]);
    resumes.arm({ id: 'far', resumeAt: new Date(far).toISOString() });
    expect(timers.set.size).toBe(1);
    at(RESUME_TIMER_MAX_MS);
    timers.fireAll();
    expect(due).toEqual([]);
    expect(timers.set.size).toBe(1);
    resumes.stop();
    expect(timers.set.size).toBe(0);
    resumes.arm({ id: 'after-stop', resumeAt: new Date(start).toISOString() });
    expect(timers.set.size).toBe(0);
  });

  it('holds the VM only for a resume due within resumeHoldsVmMs', () => {
    const { resumes, at } = setup();
    resumes.arm({ id: 'soon', resumeAt: new Date(start + 20 * 60_000).toISOString() });
    expect(resumes.holdsVm()).toBe(false);
    at(5 * 60_000);
    expect(resumes.holdsVm()).toBe(true);
    expect(holdsVm(start + 15 * 60_000, start, 15 * 60_000)).toBe(true);
    expect(holdsVm(start + 15 * 60_000 + 1, start, 15 * 60_000)).toBe(false);
    expect(armDelayMs(start - 5_000, start)).toBe(0);
  });

  it('the idle stop treats a resume due soon as work', () => {
    const facts = { heldRuns: 0, liveSessions: 0, nowMs: start, idleMs: 60_000 };
    const idle = { name: 'idle' as const, sinceMs: start - 120_000 };
    expect(idleStep(idle, facts).action).toBe('announce-stopping');
    expect(idleStep(idle, { ...facts, resumeSoon: true })).toEqual({
      phase: { name: 'busy' },
      action: 'none',
    });
    expect(idleStep({ name: 'stopping', sinceMs: start }, { ...facts, resumeSoon: true }).action).toBe(
      'none',
    );
  });
});
