// The per-run object: phase changes go through one method, logged with the run id, from, to and why.
import { testRun } from '@nightshift/shared/testing';
import { describe, expect, it } from 'vitest';
import { HeldRun, outcomeOf } from './lifecycle.js';
import { createLogger } from './log.js';

describe('States: a held run owns its phase', () => {
  it('logs every phase change with its run id, from, to and why', () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ agent: 'a1' }, (line) => lines.push(JSON.parse(line)));
    const held = new HeldRun(testRun({ id: 'r1', workerId: 'w1' }), '/home', log);
    expect(held.phase).toEqual({ name: 'preparing' });
    expect(held.launched).toBeNull();
    expect(held.session).toBe('w1-r1');
    expect(held.dir).toBe('/home/runs/r1');
    const launched = { startedMs: 0, deadlineMs: 10, runningWritten: false };
    held.moveTo({ name: 'running', launched, resultSeenAtMs: null }, 'worker launched');
    held.finishWith(outcomeOf('lost', 'gone'), 'the session is gone');
    expect(held.phase).toEqual({
      name: 'finishing',
      outcome: {
        status: 'lost',
        error: 'gone',
        exitCode: null,
        note: null,
        limit: null,
        interrupted: null,
        pause: null,
      },
      launched,
      push: null,
      left: null,
    });
    expect(lines.map(({ time: _, ...rest }) => rest)).toEqual([
      {
        severity: 'INFO',
        message: 'run phase',
        agent: 'a1',
        runId: 'r1',
        from: 'preparing',
        to: 'running',
        why: 'worker launched',
      },
      {
        severity: 'INFO',
        message: 'run phase',
        agent: 'a1',
        runId: 'r1',
        from: 'running',
        to: 'finishing',
        why: 'the session is gone',
      },
    ]);
  });

  it('takes a cancel requested before it was held', () => {
    const run = testRun({ id: 'r2', workerId: 'w1', cancelRequestedAt: new Date().toISOString() });
    expect(
      new HeldRun(
        run,
        '/home',
        createLogger({}, () => {}),
      ).cancelReason,
    ).toBe('cancel requested');
  });
});
