// A scheduled slot whose run would wait past the worker's next slot (its day budget, the account's usage limit) is skipped with the reason: no run, the reason on the schedule state and GET /v1/workers/:id.
import { ACCOUNT_LIMIT_ID, WorkerSchema } from '@nightshift/shared';
import { describeEmulators, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createRun } from '../runs/service.js';
import { getWorkerWithReach } from '../workers/service.js';
import { createSchedulerApp } from './app.js';
import { skipReasonOf } from './slots.js';
import type { TickResult } from './tick.js';

const CREATED = '2026-11-20T08:00:00.000Z';

describe('skipReasonOf', () => {
  const slot = new Date('2026-11-20T10:00:00Z');
  const next = new Date('2026-11-20T11:00:00Z');
  it('skips a slot whose run would wait past the next slot, and only that', () => {
    expect(skipReasonOf(slot, null, next)).toBeNull();
    expect(skipReasonOf(slot, { until: new Date('2026-11-20T10:30:00Z'), reason: 'r' }, next)).toBeNull();
    expect(skipReasonOf(slot, { until: next, reason: 'r' }, next)).toBeNull();
    expect(
      skipReasonOf(slot, { until: new Date('2026-11-21T00:00:00Z'), reason: 'the budget' }, null),
    ).toBeNull();
    expect(skipReasonOf(slot, { until: new Date('2026-11-21T00:00:00Z'), reason: 'the budget' }, next)).toBe(
      "slot 2026-11-20T10:00:00.000Z skipped: its run would wait until 2026-11-21T00:00:00.000Z (the budget), past the worker's next slot 2026-11-20T11:00:00.000Z",
    );
  });
});

describeEmulators('Scheduler: a slot that would wait past the next one is skipped', () => {
  let env: TestEnv;
  let deps: ReturnType<typeof createDeps>;
  let now: Date;

  beforeAll(async () => {
    env = await useTestEnv();
  });

  beforeEach(async () => {
    await env.reset();
    now = new Date(CREATED);
    deps = createDeps({ projectId: env.projectId, log: memoryLogger(), now: () => now });
    return () => deps.close();
  });

  async function addWorker(id: string, cron: string, extra = {}) {
    await env.cols.workers.doc(id).set(
      WorkerSchema.parse({
        id,
        workdir: `/srv/${id}`,
        schedule: { cron, timezone: 'UTC' },
        createdAt: CREATED,
        updatedAt: CREATED,
        scheduleSince: CREATED,
        ...extra,
      }),
    );
  }

  async function tickAt(iso: string): Promise<TickResult> {
    now = new Date(iso);
    const res = await createSchedulerApp(deps).request('/', { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as TickResult;
  }

  /** The run ran and ended: it keeps its slot of the day, and no longer keeps its worker busy. */
  const ran = (id: string) =>
    env.cols.runs
      .doc(id)
      .update({ status: 'succeeded', startedAt: now.toISOString(), finishedAt: now.toISOString() });

  const runsOf = async (workerId: string) =>
    (await env.cols.runs.where('workerId', '==', workerId).get()).docs.map((d) => d.data());

  it('an hourly slot over maxRunsPerDay is skipped (it would wait for midnight); the day is shown on the worker', async () => {
    await addWorker('hourly', '0 * * * *', { budget: { maxRunsPerDay: 1 } });
    const first = await tickAt('2026-11-20T10:01:00Z');
    expect(first.queued.map((q) => q.runId)).toEqual(['s-hourly-20261120T100000Z']);
    await ran('s-hourly-20261120T100000Z');
    const second = await tickAt('2026-11-20T11:01:00Z');
    expect(second.queued).toEqual([]);
    expect(second.skipped).toHaveLength(1);
    expect(second.skipped[0]).toMatchObject({
      workerId: 'hourly',
      slot: '2026-11-20T11:00:00.000Z',
      activeRunId: null,
    });
    expect(second.skipped[0]?.reason).toContain('would wait until 2026-11-21T00:00:00.000Z');
    expect(second.skipped[0]?.reason).toContain('maxRunsPerDay (1) is used up');
    expect(second.skipped[0]?.reason).toContain("past the worker's next slot 2026-11-20T12:00:00.000Z");
    // No run was made for it: nothing piles up.
    expect((await runsOf('hourly')).map((r) => r.id)).toEqual(['s-hourly-20261120T100000Z']);
    const state = (await env.cols.scheduleState.doc('hourly').get()).data();
    expect(state).toMatchObject({ lastSlot: '2026-11-20T11:00:00.000Z', outcome: 'skipped', pending: false });
    expect(state?.reason).toBe(second.skipped[0]?.reason);
    const worker = await getWorkerWithReach(deps, 'hourly', { githubAppConfigured: false });
    expect(worker.lastSlot).toMatchObject({ slot: '2026-11-20T11:00:00.000Z', outcome: 'skipped' });
    expect(worker.lastSlot?.reason).toContain('maxRunsPerDay (1) is used up');
    // The next day's first slot is queued again.
    expect((await tickAt('2026-11-21T00:01:00Z')).queued.map((q) => q.runId)).toEqual([
      's-hourly-20261121T000000Z',
    ]);
  });

  it('a daily slot over budget is queued to wait: it resumes at midnight, before its next slot', async () => {
    await addWorker('daily', '0 2 * * *', { budget: { maxRunsPerDay: 1 } });
    now = new Date('2026-11-21T01:00:00Z');
    const api = await createRun(deps, { workerId: 'daily', trigger: { type: 'api' } });
    expect(api.run.status).toBe('queued');
    await ran(api.run.id);
    const tick = await tickAt('2026-11-21T02:01:00Z');
    expect(tick.skipped).toEqual([]);
    expect(tick.queued.map((q) => q.runId)).toEqual(['s-daily-20261121T020000Z']);
    const run = (await env.cols.runs.doc('s-daily-20261121T020000Z').get()).data();
    expect(run?.status).toBe('waiting');
    expect(run?.resumeAt).toBe('2026-11-22T00:00:00.000Z');
  });

  it("a slot held by the account's usage limit past the next slot is skipped; one held for less is queued", async () => {
    await addWorker('hourly', '0 * * * *');
    await env.cols.limits.doc(ACCOUNT_LIMIT_ID).set({
      until: '2026-11-20T13:30:00.000Z',
      limitType: 'five_hour',
      reason: 'run r-x hit the usage limit (five_hour); no run is launched until 2026-11-20T13:30:00.000Z',
      runId: 'r-x',
      at: '2026-11-20T09:00:00.000Z',
    });
    const held = await tickAt('2026-11-20T10:01:00Z');
    expect(held.queued).toEqual([]);
    expect(held.skipped[0]?.reason).toContain("the account's usage limit: run r-x hit the usage limit");
    expect(held.skipped[0]?.reason).toContain('would wait until 2026-11-20T13:30:00.000Z');
    expect(await runsOf('hourly')).toEqual([]);
    const late = await tickAt('2026-11-20T13:01:00Z');
    expect(late.skipped).toEqual([]);
    expect(late.queued.map((q) => q.runId)).toEqual(['s-hourly-20261120T130000Z']);
  });
});
