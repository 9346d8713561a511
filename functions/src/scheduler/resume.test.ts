// The scheduler tick's resume: waiting runs whose resumeAt has come go back to queued, with run.start published, once.
import { type Run, WorkerSchema } from '@nightshift/shared';
import { describeEmulators, emulators, type TestEnv, testRun, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { drainCommands, drainRunStatus } from '../api/testing.js';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createSchedulerApp } from './app.js';
import type { TickResult } from './tick.js';

const CREATED = '2026-11-20T02:00:00.000Z';

describeEmulators('Scheduler: resuming waiting runs', () => {
  let env: TestEnv;
  let deps: ReturnType<typeof createDeps>;
  let now: Date;
  const pubsubHost = emulators?.pubsubHost ?? '';

  beforeAll(async () => {
    env = await useTestEnv();
  });

  beforeEach(async () => {
    await env.reset();
    now = new Date(CREATED);
    deps = createDeps({ projectId: env.projectId, log: memoryLogger(), now: () => now });
    await env.cols.workers
      .doc('night')
      .set(
        WorkerSchema.parse({ id: 'night', workdir: '/srv/night', createdAt: CREATED, updatedAt: CREATED }),
      );
    return () => deps.close();
  });

  async function waitingRun(id: string, resumeAt: string): Promise<Run> {
    const run = testRun({
      id,
      workerId: 'night',
      status: 'waiting',
      createdAt: CREATED,
      updatedAt: CREATED,
      startedAt: CREATED,
      resumeAt,
      waits: 1,
      sessionId: '3b2a8f4e-7c1d-4e8a-9f0b-5d6c7e8f9a01',
      waitReason: 'waiting for the reset: the worker hit the usage limit (five_hour)',
    });
    await env.cols.runs.doc(id).set(run);
    return run;
  }

  async function tickAt(iso: string): Promise<TickResult> {
    now = new Date(iso);
    const res = await createSchedulerApp(deps).request('/', { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as TickResult;
  }

  it('queues a due waiting run again and publishes its run.start; one not due yet waits on', async () => {
    await waitingRun('r-due', '2026-11-20T03:00:00.000Z');
    await waitingRun('r-later', '2026-11-20T08:00:00.000Z');
    await drainCommands(pubsubHost, env.projectId);
    await drainRunStatus(pubsubHost, env.projectId);

    const early = await tickAt('2026-11-20T02:59:59.000Z');
    expect(early.resumed).toEqual({ resumed: [], failed: [] });

    const tick = await tickAt('2026-11-20T03:00:00.000Z');
    expect(tick.resumed).toEqual({ resumed: ['r-due'], failed: [] });
    const due = (await env.cols.runs.doc('r-due').get()).data();
    expect(due).toMatchObject({ status: 'queued', resumeAt: null, waits: 1 });
    expect((await env.cols.runs.doc('r-later').get()).data()?.status).toBe('waiting');
    const commands = await drainCommands(pubsubHost, env.projectId);
    expect(commands.map((c) => [c.type, c.runId])).toEqual([['run.start', 'r-due']]);
    const statuses = await drainRunStatus(pubsubHost, env.projectId);
    expect(statuses.map((e) => [e.runId, e.from, e.to])).toEqual([['r-due', 'waiting', 'queued']]);
    const events = (await env.cols.runEvents('r-due').get()).docs.map((d) => d.data());
    expect(events).toEqual([expect.objectContaining({ type: 'status', from: 'waiting', to: 'queued' })]);
    const [event] = events;
    expect(event?.type === 'status' && event.reason).toContain('resuming (piece 1, wait 1 of at most 3)');

    // A second tick finds nothing to resume: the move happened once.
    const again = await tickAt('2026-11-20T03:01:00.000Z');
    expect(again.resumed.resumed).toEqual([]);
    expect((await drainCommands(pubsubHost, env.projectId)).filter((c) => c.runId === 'r-due')).toEqual([]);
  });

  it('overlapping ticks resume a run once', async () => {
    await waitingRun('r-race', '2026-11-20T03:00:00.000Z');
    now = new Date('2026-11-20T03:05:00.000Z');
    const app = createSchedulerApp(deps);
    const answers = await Promise.all([1, 2, 3].map(() => app.request('/', { method: 'POST' })));
    const resumed = (
      await Promise.all(answers.map(async (r) => ((await r.json()) as TickResult).resumed.resumed))
    ).flat();
    expect(resumed).toEqual(['r-race']);
    const events = (await env.cols.runEvents('r-race').get()).docs.map((d) => d.data());
    expect(events.filter((e) => e.type === 'status' && e.to === 'queued')).toHaveLength(1);
  });
});
