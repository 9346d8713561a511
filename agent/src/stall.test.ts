// Stalled runs on the emulators: a stand-in worker that goes quiet gets the stalled event and field, and with onStall "stop" ends timed out.
import type { RunEvent } from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { beforeAll, expect, it } from 'vitest';
import { type AgentTest, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';

/** One minute of stallMinutes (and of maxDurationMinutes) in this file. */
const MINUTE_MS = 600;

describeEmulators('Stalled runs', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent({ timings: { ...TEST_TIMINGS, minuteMs: MINUTE_MS } });
  });

  const stalledEvents = async (runId: string) =>
    (await t.env.cols.runEvents(runId).get()).docs
      .map((d) => d.data())
      .filter((e): e is Extract<RunEvent, { type: 'stalled' }> => e.type === 'stalled');

  it('records the stall (event and stalledSince) and lets the run go on with onStall: event', async () => {
    await t.createWorker('quiet', { stallMinutes: 1, maxDurationMinutes: 100 });
    const run = await t.createRun('quiet');
    await t.scenario(run.id, 'stall');
    const startedMs = Date.now();
    await t.publish('run.start', run.id);
    const stalled = await waitFor('the stall', async () => {
      const r = (await t.env.cols.runs.doc(run.id).get()).data();
      return r?.stalledSince ? r : undefined;
    });
    expect(stalled.status).toBe('running');
    // Not before a stall minute has passed since the worker's last output.
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(MINUTE_MS);
    const events = await stalledEvents(run.id);
    expect(events).toHaveLength(1);
    expect(events[0]?.since).toBe(stalled.stalledSince);
    expect(events[0]?.message).toContain('stallMinutes 1');
    // It keeps running: a cancel ends it.
    await new Promise((r) => setTimeout(r, 2 * MINUTE_MS));
    expect((await t.env.cols.runs.doc(run.id).get()).data()?.status).toBe('running');
    expect(await stalledEvents(run.id)).toHaveLength(1);
    await t.env.cols.runs
      .doc(run.id)
      .update({ cancelRequestedAt: new Date().toISOString(), cancelReason: 'test over' });
    await t.publish('run.cancel', run.id);
    const done = await t.waitStatus(run.id, ['cancelled', 'failed', 'succeeded', 'timed_out']);
    expect(done.status).toBe('cancelled');
  });

  it('stops a stalled run as timed out with the reason when onStall is stop', async () => {
    await t.createWorker('halted', { stallMinutes: 1, onStall: 'stop', maxDurationMinutes: 100 });
    const run = await t.createRun('halted');
    await t.scenario(run.id, 'stall');
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, ['timed_out', 'failed', 'succeeded', 'cancelled']);
    expect(done.status).toBe('timed_out');
    expect(done.error).toContain('stalled: no stream output and no progress file change for 1 minute(s)');
    expect(done.stalledSince).toBeNull();
    expect(await stalledEvents(run.id)).toHaveLength(1);
  });

  it('does not count a worker that keeps printing as stalled', async () => {
    await t.createWorker('busy', { stallMinutes: 1, onStall: 'stop', maxDurationMinutes: 100 });
    const run = await t.createRun('busy');
    // Commits every 300 ms for 2.5 stall minutes.
    await t.scenario(run.id, 'slow', Math.round(2.5 * MINUTE_MS));
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, ['timed_out', 'failed', 'succeeded', 'cancelled']);
    expect(done.status).toBe('succeeded');
    expect(await stalledEvents(run.id)).toHaveLength(0);
  });
});
