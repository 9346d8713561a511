// POST /v1/runs/:id/cancel in every status, on the emulators, through real HTTP.
import {
  PROBLEM_CONTENT_TYPE,
  type Run,
  type RunEvent,
  RunSchema,
  type RunStatus,
  TERMINAL_STATUSES,
} from '@nightshift/shared';
import { describeEmulators, emulators, type TestEnv, testRun, useTestEnv } from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { drainCommands, startApi, type TestApi, workerBody } from '../api/testing.js';
import { DEFAULT_CANCEL_REASON } from './cancel.js';

interface CancelAnswer {
  run: Run;
  action: 'cancelled' | 'cancel_requested';
}

describeEmulators('cancelling runs', () => {
  let env: TestEnv;
  let api: TestApi;
  const pubsubHost = emulators?.pubsubHost ?? '';
  let counter = 0;
  beforeAll(async () => {
    env = await useTestEnv();
    api = await startApi(env.projectId);
    await api.call('POST', '/v1/workers', workerBody('w'));
  });
  afterAll(() => api.close());

  /** A run as the agent would have left it in `status`. */
  async function runIn(status: RunStatus): Promise<Run> {
    const at = new Date().toISOString();
    const run = testRun({
      id: `r-${status}-${++counter}`,
      workerId: 'w',
      maxDurationMinutes: 10,
      status,
      createdAt: at,
      updatedAt: at,
      ...(status === 'queued' ? {} : { agentId: 'agent-1', startedAt: at, session: 'ns-x' }),
      ...(TERMINAL_STATUSES.includes(status as never) ? { finishedAt: at, error: 'earlier end' } : {}),
    });
    await env.cols.runs.doc(run.id).set(run);
    return run;
  }

  async function eventsOf(runId: string): Promise<RunEvent[]> {
    return (await env.cols.runEvents(runId).orderBy('id').get()).docs.map((d) => d.data());
  }

  it('cancels a queued run at once, with the reason and a status event', async () => {
    const created = await api.call('POST', '/v1/runs', { workerId: 'w' });
    const queued = RunSchema.parse(await created.json());
    const res = await api.call('POST', `/v1/runs/${queued.id}/cancel`, { reason: 'changed my mind' });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as CancelAnswer;
    expect(answer.action).toBe('cancelled');
    const stored = (await env.cols.runs.doc(queued.id).get()).data();
    expect(RunSchema.parse(answer.run)).toEqual(stored);
    expect(stored).toMatchObject({
      status: 'cancelled',
      error: 'changed my mind',
      cancelReason: 'changed my mind',
    });
    expect(stored?.finishedAt).not.toBeNull();
    const events = await eventsOf(queued.id);
    expect(events.at(-1)).toMatchObject({
      type: 'status',
      from: 'queued',
      to: 'cancelled',
      reason: 'changed my mind',
    });

    const again = await api.call('POST', `/v1/runs/${queued.id}/cancel`);
    expect(again.status).toBe(409);
  });

  it('cancels a waiting run at once and frees its worker: no agent holds it while it waits', async () => {
    const run = await runIn('waiting');
    const resumeAt = new Date(Date.now() + 3_600_000).toISOString();
    await env.cols.runs.doc(run.id).update({ resumeAt, session: null, waits: 1 });
    await env.cols.workerLocks
      .doc('w')
      .set({ workerId: 'w', runId: run.id, agentId: 'agent-1', createdAt: new Date().toISOString() });
    const res = await api.call('POST', `/v1/runs/${run.id}/cancel`, { reason: 'not tonight' });
    expect(res.status).toBe(202);
    expect(((await res.json()) as CancelAnswer).action).toBe('cancelled');
    const stored = (await env.cols.runs.doc(run.id).get()).data();
    expect(stored).toMatchObject({ status: 'cancelled', error: 'not tonight', resumeAt: null });
    expect(stored?.finishedAt).not.toBeNull();
    expect((await eventsOf(run.id)).at(-1)).toMatchObject({
      type: 'status',
      from: 'waiting',
      to: 'cancelled',
    });
    expect((await env.cols.workerLocks.doc('w').get()).exists).toBe(false);
  });

  it('takes no body and gives a default reason', async () => {
    const run = await runIn('queued');
    const res = await api.call('POST', `/v1/runs/${run.id}/cancel`);
    expect(res.status).toBe(202);
    expect(((await res.json()) as CancelAnswer).run.error).toBe(DEFAULT_CANCEL_REASON);
  });

  it.each(['starting', 'running'] as const)(
    'records a cancel request on a %s run, nudges its agent, and repeats safely',
    async (status) => {
      const run = await runIn(status);
      await drainCommands(pubsubHost, env.projectId);
      const res = await api.call('POST', `/v1/runs/${run.id}/cancel`, { reason: 'stop now' });
      expect(res.status).toBe(202);
      const answer = (await res.json()) as CancelAnswer;
      expect(answer.action).toBe('cancel_requested');
      const stored = (await env.cols.runs.doc(run.id).get()).data()!;
      expect(RunSchema.parse(answer.run)).toEqual(stored);
      expect(stored).toMatchObject({ status, cancelReason: 'stop now', error: null, finishedAt: null });
      expect(stored.cancelRequestedAt).not.toBeNull();
      expect((await eventsOf(run.id)).map((e) => [e.type, 'reason' in e ? e.reason : null])).toEqual([
        ['cancel_requested', 'stop now'],
      ]);
      const commands = await drainCommands(pubsubHost, env.projectId);
      expect(commands.map((c) => [c.type, c.runId])).toEqual([['run.cancel', run.id]]);

      const again = await api.call('POST', `/v1/runs/${run.id}/cancel`, { reason: 'really' });
      expect(again.status).toBe(202);
      const second = (await again.json()) as CancelAnswer;
      expect(second.action).toBe('cancel_requested');
      expect(second.run.cancelRequestedAt).toBe(stored.cancelRequestedAt);
      expect(second.run.cancelReason).toBe('stop now');
      expect((await eventsOf(run.id)).filter((e) => e.type === 'cancel_requested')).toHaveLength(1);
    },
  );

  it.each(TERMINAL_STATUSES)('refuses to cancel a %s run with 409 and leaves it alone', async (status) => {
    const run = await runIn(status);
    const res = await api.call('POST', `/v1/runs/${run.id}/cancel`, { reason: 'too late' });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(((await res.json()) as { detail: string }).detail).toContain(`already ${status}`);
    expect((await env.cols.runs.doc(run.id).get()).data()).toEqual(run);
    expect(await eventsOf(run.id)).toEqual([]);
  });

  it('answers 404 for an unknown run and 400 for a bad body', async () => {
    expect((await api.call('POST', '/v1/runs/r-unknown/cancel')).status).toBe(404);
    const run = await runIn('running');
    for (const [body, path] of [
      [{ reason: 'x'.repeat(1001) }, 'reason'],
      [{ reason: 5 }, 'reason'],
      [{ why: 'x' }, '(root)'],
    ] as const) {
      const res = await api.call('POST', `/v1/runs/${run.id}/cancel`, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual([
        path,
      ]);
    }
    expect((await env.cols.runs.doc(run.id).get()).data()?.cancelRequestedAt).toBeNull();
  });

  it('cancels a queued run once when two requests race', async () => {
    const run = await runIn('queued');
    const answers = await Promise.all(
      [1, 2, 3].map((i) => api.call('POST', `/v1/runs/${run.id}/cancel`, { reason: `race ${i}` })),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(2);
    const events = await eventsOf(run.id);
    expect(events.filter((e) => e.type === 'status' && e.to === 'cancelled')).toHaveLength(1);
  });
});
