import { COLLECTIONS, type Run, WorkerSchema, WorkerSpecSchema } from '@nightshift/shared';
import { describeEmulators, type TestEnv, testRun, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createWorker, patchWorker } from '../workers/service.js';
import { createSchedulerApp } from './app.js';
import type { TickResult } from './tick.js';

const CREATED = '2026-11-20T12:00:00.000Z';

describeEmulators('Scheduler slots: ticks', () => {
  let env: TestEnv;
  let log: ReturnType<typeof memoryLogger>;
  let deps: ReturnType<typeof createDeps>;
  let now: Date;

  beforeAll(async () => {
    env = await useTestEnv();
  });

  beforeEach(async () => {
    await env.reset();
    log = memoryLogger();
    now = new Date(CREATED);
    deps = createDeps({ projectId: env.projectId, log, now: () => now });
    return () => deps.close();
  });

  async function addWorker(id: string, schedule: Record<string, unknown> | undefined, extra = {}) {
    const worker = WorkerSchema.parse({
      id,
      workdir: `/srv/${id}`,
      ...(schedule ? { schedule } : {}),
      createdAt: CREATED,
      updatedAt: CREATED,
      ...extra,
    });
    await env.cols.workers.doc(id).set(worker);
    return worker;
  }

  async function addRun(id: string, workerId: string, status: Run['status']) {
    const run = testRun({ id, workerId, status, createdAt: CREATED, updatedAt: CREATED });
    await env.cols.runs.doc(id).set(run);
    return run;
  }

  async function tickAt(iso: string): Promise<TickResult> {
    now = new Date(iso);
    const res = await createSchedulerApp(deps).request('/', { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as TickResult;
  }

  const runIds = async () => (await env.cols.runs.get()).docs.map((d) => d.id).sort();

  it('queues the due slot once; repeated ticks queue nothing new', async () => {
    await addWorker('blog', { cron: '30 2 * * *', timezone: 'UTC' });
    await addWorker('plain', undefined);
    await addWorker('off', { cron: '30 2 * * *' }, { enabled: false });
    expect((await tickAt('2026-11-21T02:25:00Z')).queued).toEqual([]);

    const tick = await tickAt('2026-11-21T02:31:00Z');
    expect(tick.queued).toEqual([
      { workerId: 'blog', slot: '2026-11-21T02:30:00.000Z', runId: 's-blog-20261121T023000Z', created: true },
    ]);
    expect(tick.skipped).toEqual([]);
    const run = (await env.cols.runs.doc('s-blog-20261121T023000Z').get()).data();
    expect(run?.trigger).toEqual({ type: 'schedule', slot: '2026-11-21T02:30:00.000Z' });
    expect(run?.status).toBe('queued');

    expect((await tickAt('2026-11-21T02:36:00Z')).queued).toEqual([]);
    expect((await tickAt('2026-11-21T02:31:00Z')).queued).toEqual([]); // the same tick, retried
    expect(await runIds()).toEqual(['s-blog-20261121T023000Z']);
  });

  it('overlapping ticks queue a slot once', async () => {
    await addWorker('blog', { cron: '30 2 * * *', timezone: 'UTC' });
    now = new Date('2026-11-21T02:31:00Z');
    const app = createSchedulerApp(deps);
    const answers = await Promise.all([1, 2, 3].map(() => app.request('/', { method: 'POST' })));
    const results = (await Promise.all(answers.map((a) => a.json()))) as TickResult[];
    expect(results.flatMap((r) => r.queued.filter((q) => q.created))).toHaveLength(1);
    expect(results.flatMap((r) => r.skipped)).toEqual([]);
    expect(await runIds()).toEqual(['s-blog-20261121T023000Z']);
  });

  it('a tick hours late queues only the latest missed slot', async () => {
    await addWorker('blog', { cron: '0 * * * *', timezone: 'UTC' }); // hourly
    const tick = await tickAt('2026-11-21T09:10:00Z');
    expect(tick.queued.map((q) => q.runId)).toEqual(['s-blog-20261121T090000Z']);
    expect(await runIds()).toEqual(['s-blog-20261121T090000Z']);
  });

  it('a slot before the worker (or its schedule) existed is not queued', async () => {
    await addWorker(
      'blog',
      { cron: '30 2 * * *', timezone: 'UTC' },
      { updatedAt: '2026-11-21T03:00:00.000Z' },
    );
    expect((await tickAt('2026-11-21T09:00:00Z')).queued).toEqual([]);
    expect((await tickAt('2026-11-22T02:30:00Z')).queued.map((q) => q.runId)).toEqual([
      's-blog-20261122T023000Z',
    ]);
  });

  it('onBusy skip: records the skipped slot in the answer and as a note on the active run', async () => {
    await addWorker('blog', { cron: '30 2 * * *', timezone: 'UTC', onBusy: 'skip' });
    await addRun('r-long', 'blog', 'running');
    const tick = await tickAt('2026-11-21T02:31:00Z');
    expect(tick.queued).toEqual([]);
    expect(tick.skipped).toEqual([
      {
        workerId: 'blog',
        slot: '2026-11-21T02:30:00.000Z',
        runId: 's-blog-20261121T023000Z',
        activeRunId: 'r-long',
        reason: 'worker "blog" still had run r-long running (onBusy: skip)',
      },
    ]);
    const notes = (await env.cols.runEvents('r-long').get()).docs.map((d) => d.data());
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ type: 'note', runId: 'r-long' });
    expect(notes[0]?.type === 'note' && notes[0].message).toContain('2026-11-21T02:30:00.000Z');
    const state = (await env.db.collection(COLLECTIONS.scheduleState).doc('blog').get()).data();
    expect(state).toMatchObject({
      lastSlot: '2026-11-21T02:30:00.000Z',
      outcome: 'skipped',
      activeRunId: 'r-long',
    });

    // The long run ends; the skipped slot stays skipped, and the next night runs.
    await addRun('r-long', 'blog', 'succeeded');
    expect((await tickAt('2026-11-21T02:36:00Z')).queued).toEqual([]);
    expect(await runIds()).toEqual(['r-long']);
    expect((await tickAt('2026-11-22T02:31:00Z')).queued.map((q) => q.runId)).toEqual([
      's-blog-20261122T023000Z',
    ]);
    expect((await env.cols.runEvents('r-long').get()).size).toBe(1);
  });

  it('onBusy queue: queues behind the active run', async () => {
    await addWorker('blog', { cron: '30 2 * * *', timezone: 'UTC', onBusy: 'queue' });
    await addRun('r-long', 'blog', 'starting');
    const tick = await tickAt('2026-11-21T02:31:00Z');
    expect(tick.skipped).toEqual([]);
    expect(tick.queued.map((q) => q.runId)).toEqual(['s-blog-20261121T023000Z']);
    expect(await runIds()).toEqual(['r-long', 's-blog-20261121T023000Z']);
  });

  it('a slot whose run a stopped tick did not create is finished by the next tick', async () => {
    await addWorker('blog', { cron: '30 2 * * *', timezone: 'UTC' });
    // What a tick leaves when it stops between its decision and createRun.
    await env.db.collection(COLLECTIONS.scheduleState).doc('blog').set({
      workerId: 'blog',
      lastSlot: '2026-11-21T02:30:00.000Z',
      outcome: 'queued',
      runId: 's-blog-20261121T023000Z',
      activeRunId: null,
      pending: true,
      updatedAt: '2026-11-21T02:31:00.000Z',
    });
    const tick = await tickAt('2026-11-21T02:36:00Z');
    expect(tick.queued).toEqual([
      { workerId: 'blog', slot: '2026-11-21T02:30:00.000Z', runId: 's-blog-20261121T023000Z', created: true },
    ]);
    expect((await tickAt('2026-11-21T02:41:00Z')).queued).toEqual([]);
  });

  it('Europe/Berlin 02:30 nightly over both DST nights, ticking every 20 minutes: one run per night', async () => {
    await addWorker(
      'blog',
      { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      { updatedAt: '2026-03-28T12:00:00Z' },
    );
    const ticks = (fromIso: string, hours: number) =>
      Array.from(
        { length: (hours * 60) / 20 },
        (_, i) => new Date(new Date(fromIso).getTime() + (i + 1) * 20 * 60_000),
      );
    for (const t of ticks('2026-03-28T12:00:00Z', 24)) await tickAt(t.toISOString());
    expect(await runIds()).toEqual(['s-blog-20260329T010000Z']); // 03:00 CEST, after the gap

    // That run ended long ago (otherwise onBusy "skip" would rightly skip October's slot).
    await addRun('s-blog-20260329T010000Z', 'blog', 'succeeded');
    await addWorker(
      'blog',
      { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      { updatedAt: '2026-10-24T12:00:00Z' },
    );
    for (const t of ticks('2026-10-24T12:00:00Z', 24)) await tickAt(t.toISOString());
    expect(await runIds()).toEqual(['s-blog-20260329T010000Z', 's-blog-20261025T003000Z']); // first 02:30 only
  });

  it('an edit that leaves the schedule alone keeps a due slot; a new schedule or re-enabling starts afresh', async () => {
    await createWorker(
      deps,
      WorkerSpecSchema.parse({ id: 'nightly', workdir: '/srv/n', schedule: { cron: '30 2 * * *' } }),
    );

    // The prompt is edited two minutes after the 02:30 slot, before the tick: the slot still runs.
    now = new Date('2026-11-21T02:32:00Z');
    await patchWorker(deps, 'nightly', { prompt: 'Do the next milestone in docs/roadmap.md.' });
    expect((await tickAt('2026-11-21T02:35:00Z')).queued.map((q) => q.runId)).toEqual([
      's-nightly-20261121T023000Z',
    ]);

    // A new schedule counts from its change: the 02:30 UTC slot just before it is not queued.
    now = new Date('2026-11-22T02:32:00Z');
    await patchWorker(deps, 'nightly', {
      schedule: { cron: '30 2 * * *', timezone: 'UTC', onBusy: 'queue' },
    });
    expect((await tickAt('2026-11-22T02:35:00Z')).queued).toEqual([]);

    // Slots missed while the worker was off are not queued when it is turned back on.
    now = new Date('2026-11-23T00:00:00Z');
    await patchWorker(deps, 'nightly', { enabled: false });
    await tickAt('2026-11-23T02:35:00Z');
    now = new Date('2026-11-23T02:40:00Z');
    await patchWorker(deps, 'nightly', { enabled: true });
    expect((await tickAt('2026-11-23T02:45:00Z')).queued).toEqual([]);
    expect((await tickAt('2026-11-24T02:31:00Z')).queued.map((q) => q.runId)).toEqual([
      's-nightly-20261124T023000Z',
    ]);
    expect(await runIds()).toEqual(['s-nightly-20261121T023000Z', 's-nightly-20261124T023000Z']);
  });
});
