// Budgets per worker per day on the emulators, through real HTTP: a run over budget waits for the next day, and GET /v1/workers/:id shows the day's spend.
import type { Run, RunEvent } from '@nightshift/shared';
import { describeEmulators, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApi, type TestApi, workerBody } from '../api/testing.js';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createSchedulerApp } from '../scheduler/app.js';
import type { TickResult } from '../scheduler/tick.js';
import { BUDGET_SLOT_TTL_MS } from '../timings.js';
import { workerDay } from './budget.js';

describeEmulators('budgets', () => {
  let env: TestEnv;
  let api: TestApi;
  beforeAll(async () => {
    env = await useTestEnv();
    api = await startApi(env.projectId);
  });
  afterAll(() => api.close());

  const startRun = async (workerId: string): Promise<Run> => {
    const res = await api.call('POST', '/v1/runs', JSON.stringify({ workerId }));
    expect(res.status).toBe(202);
    return (await res.json()) as Run;
  };

  it('puts a run over maxRunsPerDay into waiting until the next day, with the reason', async () => {
    const zone = 'Europe/Berlin';
    const created = await api.call(
      'POST',
      '/v1/workers',
      workerBody('counted', {
        budget: { maxRunsPerDay: 1 },
        schedule: { cron: '0 2 * * *', timezone: zone },
      }),
    );
    expect(created.status).toBe(201);
    const first = await startRun('counted');
    expect(first.status).toBe('queued');
    const second = await startRun('counted');
    expect(second.status).toBe('waiting');
    const nextDay = workerDay(
      { schedule: { cron: '0 2 * * *', timezone: zone, onBusy: 'skip' } },
      new Date(),
    ).end;
    expect(second.resumeAt).toBe(nextDay.toISOString());
    expect(second.waitReason).toContain("the worker's budget.maxRunsPerDay (1) is used up");
    const events = (await env.cols.runEvents(second.id).orderBy('at').get()).docs.map(
      (d) => d.data() as RunEvent,
    );
    expect(events.map((e) => (e.type === 'status' ? `${e.from}->${e.to}` : e.type))).toEqual([
      'null->queued',
      'queued->waiting',
    ]);
    const worker = (await (await api.call('GET', '/v1/workers/counted')).json()) as {
      today: { runs: number; leftRuns: number | null; leftUsd: number | null };
    };
    // The waiting run is the next day's.
    expect(worker.today).toMatchObject({ runs: 1, leftRuns: 0, leftUsd: null });
  });

  it("shows the day's spend and what maxUsdPerDay leaves, and refuses the next run when it is spent", async () => {
    await api.call('POST', '/v1/workers', workerBody('spender', { budget: { maxUsdPerDay: 1 } }));
    const first = await startRun('spender');
    await env.cols.runs
      .doc(first.id)
      .update({ usage: { turns: 3, costUsd: 0.4, inputTokens: 1, outputTokens: 1 } });
    const res = await api.call('GET', '/v1/workers/spender');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { today: Record<string, unknown> };
    expect(body.today).toMatchObject({ runs: 1, costUsd: 0.4, leftUsd: 0.6, leftRuns: null });
    expect((await startRun('spender')).status).toBe('queued');
    await env.cols.runs.doc(first.id).update({ 'usage.costUsd': 1.2 });
    const refused = await startRun('spender');
    expect(refused.status).toBe('waiting');
    expect(refused.waitReason).toContain('budget.maxUsdPerDay ($1) is spent');
  });

  it("asks a running run to stop (like a cancel) once the worker's day crosses maxUsdPerDay", async () => {
    await api.call('POST', '/v1/workers', workerBody('crossing', { budget: { maxUsdPerDay: 2 } }));
    const run = await startRun('crossing');
    const deps = createDeps({ projectId: env.projectId, log: memoryLogger() });
    try {
      for (const to of ['starting', 'running'] as const)
        expect((await deps.moveRun(run.id, to)).ok).toBe(true);
      const tick = () => createSchedulerApp(deps, {}).request('/', { method: 'POST' });
      await env.cols.runs.doc(run.id).update({ 'usage.costUsd': 1.5 });
      await tick();
      expect((await env.cols.runs.doc(run.id).get()).data()?.cancelRequestedAt).toBeNull();
      await env.cols.runs.doc(run.id).update({ 'usage.costUsd': 2.1 });
      await tick();
      const stopped = (await env.cols.runs.doc(run.id).get()).data();
      expect(stopped?.cancelRequestedAt).not.toBeNull();
      expect(stopped?.cancelReason).toContain('stopped by the budget');
      expect(stopped?.cancelReason).toContain('budget.maxUsdPerDay ($2)');
    } finally {
      await deps.close();
    }
  });
});

describeEmulators('budgets: the run slots of a day (maxRunsPerDay, exact under concurrency)', () => {
  let env: TestEnv;
  let api: TestApi;
  let now = new Date('2026-11-20T10:00:00.000Z');
  beforeAll(async () => {
    env = await useTestEnv();
    api = await startApi(env.projectId, { now: () => now });
  });
  afterAll(() => api.close());

  const startRun = async (workerId: string): Promise<Run> => {
    const res = await api.call('POST', '/v1/runs', JSON.stringify({ workerId }));
    expect(res.status).toBe(202);
    return (await res.json()) as Run;
  };
  const statusOf = async (id: string) => (await env.cols.runs.doc(id).get()).data()?.status;

  it('admits exactly maxRunsPerDay of 20 runs created at once; the 17 others wait for the next day with the reason', async () => {
    now = new Date('2026-11-20T10:00:00.000Z');
    expect(
      (await api.call('POST', '/v1/workers', workerBody('burst', { budget: { maxRunsPerDay: 3 } }))).status,
    ).toBe(201);
    const runs = await Promise.all(Array.from({ length: 20 }, () => startRun('burst')));
    const queued = runs.filter((r) => r.status === 'queued');
    const waiting = runs.filter((r) => r.status === 'waiting');
    expect(queued).toHaveLength(3);
    expect(waiting).toHaveLength(17);
    for (const run of waiting) {
      expect(run.resumeAt).toBe('2026-11-21T00:00:00.000Z');
      expect(run.waitReason).toContain("the worker's budget.maxRunsPerDay (3) is used up");
    }
    // The documents are the count: one slot per admitted run, n 0 to 2.
    const slots = (await env.cols.budgetSlots.where('workerId', '==', 'burst').get()).docs.map((d) =>
      d.data(),
    );
    expect(slots.map((s) => s.n).sort()).toEqual([0, 1, 2]);
    expect(slots.map((s) => s.runId).sort()).toEqual(queued.map((r) => r.id).sort());
    // Kept for a month after their day, then Firestore's TTL policy deletes them.
    const expiry = (s: (typeof slots)[number]) =>
      s.expiresAt instanceof Date ? s.expiresAt.getTime() : s.expiresAt?.toMillis();
    for (const slot of slots)
      expect(expiry(slot)).toBe(Date.parse('2026-11-21T00:00:00.000Z') + BUDGET_SLOT_TTL_MS);
    const worker = (await (await api.call('GET', '/v1/workers/burst')).json()) as {
      today: { runs: number; leftRuns: number | null };
    };
    expect(worker.today).toMatchObject({ runs: 3, leftRuns: 0 });

    // A run cancelled before it ran gives its slot back; one that ran keeps it.
    const [cancelled, ran] = queued;
    expect((await api.call('POST', `/v1/runs/${cancelled?.id}/cancel`, JSON.stringify({}))).status).toBe(202);
    expect(await statusOf(cancelled?.id ?? '')).toBe('cancelled');
    await env.cols.runs
      .doc(ran?.id ?? '')
      .update({ status: 'failed', startedAt: now.toISOString(), finishedAt: now.toISOString() });
    const again = await startRun('burst');
    expect(again.status).toBe('queued');
    expect((await startRun('burst')).status).toBe('waiting');

    // The next day: the tick gives 3 of the 18 waiting runs a slot of the new day and defers the rest, with a note.
    now = new Date('2026-11-21T00:01:00.000Z');
    const deps = createDeps({ projectId: env.projectId, log: memoryLogger(), now: () => now });
    try {
      const res = await createSchedulerApp(deps, {}).request('/', { method: 'POST' });
      const tick = (await res.json()) as TickResult;
      expect(tick.budgetAdmits.admitted).toHaveLength(3);
      expect(tick.budgetAdmits.deferred).toHaveLength(15);
      expect([...tick.resumed.resumed].sort()).toEqual([...tick.budgetAdmits.admitted].sort());
      const deferred = (await env.cols.runs.doc(tick.budgetAdmits.deferred[0] ?? '').get()).data();
      expect(deferred?.status).toBe('waiting');
      expect(deferred?.resumeAt).toBe('2026-11-22T00:00:00.000Z');
      expect(deferred?.waitReason).toContain('still not started');
      const notes = (await env.cols.runEvents(deferred?.id ?? '').get()).docs
        .map((d) => d.data())
        .filter((e) => e.type === 'note');
      expect(notes.map((e) => (e.type === 'note' ? e.message : ''))[0]).toContain('maxRunsPerDay (3)');
      // A second tick the same day admits nobody more.
      const second = (await (
        await createSchedulerApp(deps, {}).request('/', { method: 'POST' })
      ).json()) as TickResult;
      expect(second.budgetAdmits).toEqual({ admitted: [], deferred: [] });
    } finally {
      await deps.close();
    }
  });
});
