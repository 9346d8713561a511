// Budgets per worker per day on the emulators, through real HTTP: a run over budget waits for the next day, and GET /v1/workers/:id shows the day's spend.
import type { Run, RunEvent } from '@nightshift/shared';
import { describeEmulators, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApi, type TestApi, workerBody } from '../api/testing.js';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createSchedulerApp } from '../scheduler/app.js';
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
