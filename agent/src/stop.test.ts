// Stop: timeouts and cancels through a real worker, and which stop is due and how it escalates.
import { TERMINAL_STATUSES } from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { nextStopSignal, stopDue } from './supervise.js';
import { type AgentTest, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';

describeEmulators('Stop', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    // One "minute" of maxDurationMinutes lasts 1.5 s here.
    await t.startAgent({ capacity: 3, timings: { ...TEST_TIMINGS, minuteMs: 1_500 } });
  });

  describe('Stop: timeout', () => {
    it('a run past maxDurationMinutes is stopped and timed_out', async () => {
      await t.createWorker('slowpoke');
      const run = await t.createRun('slowpoke', { maxDurationMinutes: 1 });
      await t.scenario(run.id, 'slow');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('timed_out');
      expect(done.error).toBe('exceeded maxDurationMinutes (1)');
      expect(done.finishedAt).not.toBeNull();
      expect(done.commits.length).toBeGreaterThan(0);
      expect(await t.tmux.hasSession(`slowpoke-${run.id}`)).toBe(false);
      expect(await t.events(run.id)).toEqual(['queued->starting', 'starting->running', 'running->timed_out']);
    });
  });

  describe('Stop: cancel', () => {
    it('a cancel request on a running run stops the worker and ends it cancelled with the reason', async () => {
      await t.createWorker('cancelme');
      const run = await t.createRun('cancelme', { maxDurationMinutes: 100 });
      await t.scenario(run.id, 'slow');
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running']);
      // As the API does: the field, an event, and a nudge.
      const at = new Date().toISOString();
      await t.env.cols.runs
        .doc(run.id)
        .update({ cancelRequestedAt: at, cancelReason: 'owner changed their mind' });
      await t.env.cols.runEvents(run.id).doc('cancel').set({
        type: 'cancel_requested',
        id: 'cancel',
        runId: run.id,
        at,
        reason: 'owner changed their mind',
      });
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('cancelled');
      expect(done.error).toBe('owner changed their mind');
      await waitFor('the session to close', async () => !(await t.tmux.hasSession(`cancelme-${run.id}`)));
    });

    it('after a run.cancel nudge, a later cancel without a nudge is still seen by the poll', async () => {
      // With several agents on one subscription, a run's nudge may reach another agent: the poll must
      // keep running after this agent handled a nudge of its own.
      await t.createWorker('nudged');
      await t.createWorker('unnudged');
      const first = await t.createRun('nudged', { maxDurationMinutes: 100 });
      const second = await t.createRun('unnudged', { maxDurationMinutes: 100 });
      await t.scenario(first.id, 'slow');
      await t.scenario(second.id, 'slow');
      await t.publish('run.start', first.id);
      await t.publish('run.start', second.id);
      await t.waitStatus(first.id, ['running']);
      await t.waitStatus(second.id, ['running']);
      await t.env.cols.runs
        .doc(first.id)
        .update({ cancelRequestedAt: new Date().toISOString(), cancelReason: 'nudged' });
      await t.publish('run.cancel', first.id);
      expect((await t.waitStatus(first.id, TERMINAL_STATUSES)).status).toBe('cancelled');
      await t.env.cols.runs
        .doc(second.id)
        .update({ cancelRequestedAt: new Date().toISOString(), cancelReason: 'no nudge here' });
      const done = await t.waitStatus(second.id, TERMINAL_STATUSES, 10_000);
      expect(done.status).toBe('cancelled');
      expect(done.error).toBe('no nudge here');
    });

    it('a run.cancel nudge for a run this agent does not hold is acked and ignored', async () => {
      await t.createWorker('other');
      const run = await t.createRun('other', { status: 'running', agentId: 'someone-else' });
      await t.publish('run.cancel', run.id);
      await new Promise((r) => setTimeout(r, 500));
      expect((await t.env.cols.runs.doc(run.id).get()).data()?.status).toBe('running');
    });
  });
});

describe('Stop: which stop is due, and the escalation', () => {
  const grace = { resultExitGraceMs: 1_000 };
  const running = (resultSeenAtMs: number | null) => ({
    launched: { startedMs: 0, deadlineMs: 10_000, runningWritten: true },
    resultSeenAtMs,
  });

  it('stops for a cancel first, then the time limit, then a hang after the result', () => {
    expect(stopDue(running(0), { nowMs: 20_000, cancelReason: 'owner', ...grace })).toBe('cancel');
    expect(stopDue(running(0), { nowMs: 10_000, cancelReason: null, ...grace })).toBe('timeout');
    expect(stopDue(running(5_000), { nowMs: 6_000, cancelReason: null, ...grace })).toBe('result_hang');
    expect(stopDue(running(5_000), { nowMs: 5_999, cancelReason: null, ...grace })).toBeNull();
    expect(stopDue(running(null), { nowMs: 9_999, cancelReason: null, ...grace })).toBeNull();
  });

  it('escalates SIGINT to SIGTERM after one period, then SIGKILL and the session kill after two', () => {
    expect(nextStopSignal('interrupted', 499, 500)).toBeNull();
    expect(nextStopSignal('interrupted', 500, 500)).toEqual({
      step: 'terminated',
      signal: 'SIGTERM',
      killSession: false,
    });
    expect(nextStopSignal('terminated', 999, 500)).toBeNull();
    expect(nextStopSignal('terminated', 1_000, 500)).toEqual({
      step: 'killed',
      signal: 'SIGKILL',
      killSession: true,
    });
    expect(nextStopSignal('killed', 60_000, 500)).toBeNull();
  });
});
