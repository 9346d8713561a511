// Dispatch of a queued run: run.start and run.status publishes, what a failed or slow publish does, the sweep.
import { ensureTopology, PUBSUB, type Run, RunSchema } from '@nightshift/shared';
import { describeEmulators, emulators, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { drainCommands, drainRunStatus, startApi, type TestApi, workerBody } from '../api/testing.js';
import { republishQueuedRuns } from './service.js';

async function eventsOf(api: TestApi, runId: string) {
  const res = await api.call('GET', `/v1/runs/${runId}/events`);
  return ((await res.json()) as { events: Array<{ type: string; to?: string; message?: string }> }).events;
}

describeEmulators('run dispatch', () => {
  let env: TestEnv;
  let api: TestApi;
  const pubsubHost = emulators?.pubsubHost ?? '';
  beforeAll(async () => {
    env = await useTestEnv();
    api = await startApi(env.projectId);
    for (const id of ['a', 'b', 'c', 'd']) await api.call('POST', '/v1/workers', workerBody(id));
  });
  afterAll(() => api.close());

  it('publishes run.start to the agents and the queued run.status event to the reactor', async () => {
    await drainRunStatus(pubsubHost, env.projectId);
    const res = await api.call('POST', '/v1/runs', { workerId: 'a' });
    expect(res.status).toBe(202);
    const run = RunSchema.parse(await res.json());
    const commands = await drainCommands(pubsubHost, env.projectId);
    expect(commands.filter((c) => c.runId === run.id).map((c) => c.type)).toEqual(['run.start']);
    const statuses = (await drainRunStatus(pubsubHost, env.projectId)).filter((e) => e.runId === run.id);
    expect(statuses).toEqual([
      expect.objectContaining({ from: null, to: 'queued', workerId: 'a', trigger: { type: 'api' } }),
    ]);
    // The event names the status entry of the run's history it announces.
    const history = (await env.cols.runEvents(run.id).get()).docs.map((d) => d.id);
    expect(history).toContain(statuses[0]?.eventId);
  });

  it('announces a move made through moveRun (a cancel) with its from and to', async () => {
    // Nothing claims this run (no agent in this test), so it stays queued until cancelled.
    const run = RunSchema.parse(await (await api.call('POST', '/v1/runs', { workerId: 'b' })).json());
    await drainRunStatus(pubsubHost, env.projectId);
    expect((await api.call('POST', `/v1/runs/${run.id}/cancel`, { reason: 'not tonight' })).status).toBe(202);
    const statuses = (await drainRunStatus(pubsubHost, env.projectId)).filter((e) => e.runId === run.id);
    expect(statuses).toEqual([
      expect.objectContaining({ from: 'queued', to: 'cancelled', reason: 'not tonight' }),
    ]);
  });

  it('a publish that times out after it landed never overwrites the run an agent already claimed', async () => {
    // The race: Pub/Sub took the command and an agent claimed the run, but the publish's answer came too
    // late. The run must stay the agent's; it used to be overwritten to failed while its worker ran.
    const real = api.deps.publish.bind(api.deps);
    const racing = await startApi(env.projectId, {
      deps: {
        async publish(command) {
          await real(command);
          if (command.type === 'run.start') {
            const claimed = await racing.deps.moveRun(command.runId, 'starting', {
              patch: { agentId: 'agent-1', session: 'c-x' },
              reason: 'claimed by agent agent-1',
              expect: ['queued'],
            });
            expect(claimed.ok).toBe(true);
          }
          throw new Error('publish answered after its deadline');
        },
      },
    });
    try {
      const res = await racing.call('POST', '/v1/runs', { workerId: 'c' });
      expect(res.status).toBe(202);
      const answered = RunSchema.parse(await res.json());
      const stored = (await env.cols.runs.doc(answered.id).get()).data() as Run;
      expect(stored).toMatchObject({ status: 'starting', agentId: 'agent-1', error: null });
      const events = await eventsOf(racing, answered.id);
      expect(events.filter((e) => e.type === 'status').map((e) => e.to)).toEqual(['queued', 'starting']);
      expect(events.some((e) => e.type === 'note' && e.message?.includes('could not publish'))).toBe(true);
    } finally {
      await racing.close();
    }
  });

  it('keeps a run whose run.start cannot be published queued, and the sweep publishes it again', async () => {
    await env.pubsub.topic(PUBSUB.commandsTopic).delete();
    let runId = '';
    try {
      const res = await api.call('POST', '/v1/runs', { workerId: 'd' });
      expect(res.status).toBe(202);
      const run = RunSchema.parse(await res.json());
      runId = run.id;
      expect((await env.cols.runs.doc(runId).get()).data()).toMatchObject({ status: 'queued', error: null });
      const note = (await eventsOf(api, runId)).find((e) => e.type === 'note');
      expect(note?.message).toContain('could not publish the run.start command');
      expect(api.log.entries.some((e) => e.severity === 'WARNING' && e.runId === runId)).toBe(true);
    } finally {
      // A subscription outlives its deleted topic, detached: make both again.
      await env.pubsub.subscription(PUBSUB.agentSubscription).delete();
      await ensureTopology(env.pubsub);
    }
    await drainCommands(pubsubHost, env.projectId);

    // Too fresh for the sweep: a run that may simply be waiting for its agent is left alone.
    expect((await republishQueuedRuns(api.deps)).republished).not.toContain(runId);
    // Three minutes later, its run.start goes out again.
    const later = Object.create(api.deps, {
      now: { value: () => new Date(Date.now() + 3 * 60_000) },
    }) as typeof api.deps;
    const swept = await republishQueuedRuns(later);
    expect(swept.republished).toContain(runId);
    const commands = await drainCommands(pubsubHost, env.projectId);
    expect(commands.filter((c) => c.runId === runId).map((c) => c.type)).toEqual(['run.start']);
  });
});
