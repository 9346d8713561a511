// The idle stop's decision: idle for long enough → announce stopping → stop; any work makes it busy again.
import { describe, expect, it } from 'vitest';
import { type IdlePhase, idleStep } from './idle.js';

const IDLE_MS = 15 * 60_000;
const quiet = (nowMs: number) => ({ heldRuns: 0, liveSessions: 0, nowMs, idleMs: IDLE_MS });

describe('Idle stop', () => {
  it('waits the idle time, announces stopping, then stops on the next step', () => {
    let phase: IdlePhase = { name: 'busy' };
    let step = idleStep(phase, quiet(0));
    expect(step).toEqual({ phase: { name: 'idle', sinceMs: 0 }, action: 'none' });
    phase = step.phase;
    expect(idleStep(phase, quiet(IDLE_MS - 1)).action).toBe('none');
    step = idleStep(phase, quiet(IDLE_MS));
    expect(step).toEqual({ phase: { name: 'stopping', sinceMs: IDLE_MS }, action: 'announce-stopping' });
    expect(idleStep(step.phase, quiet(IDLE_MS + 1)).action).toBe('stop-vm');
  });

  it('a run taken while stopping, or a live session, makes it busy and restarts the idle time', () => {
    const stopping: IdlePhase = { name: 'stopping', sinceMs: 5 };
    expect(idleStep(stopping, { ...quiet(10), heldRuns: 1 })).toEqual({
      phase: { name: 'busy' },
      action: 'none',
    });
    const idle: IdlePhase = { name: 'idle', sinceMs: 0 };
    expect(idleStep(idle, { ...quiet(IDLE_MS * 2), liveSessions: 1 })).toEqual({
      phase: { name: 'busy' },
      action: 'none',
    });
  });
});
