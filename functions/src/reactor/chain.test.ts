// Chains on the emulators: the reactor queues the next run while the roadmap has open items and says in an event why a chain stopped.

import { FieldValue } from '@google-cloud/firestore';
import {
  BUDGET_STOP_PREFIX,
  type Run,
  runStatusEventOf,
  statusEvent,
  type Worker,
  WorkerSchema,
} from '@nightshift/shared';
import { describeEmulators, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createRun } from '../runs/service.js';
import { workerDay } from '../workers/budget.js';
import { chainRunIdOf } from './chain.js';
import { react } from './react.js';

describe('workerDay', () => {
  it("is the worker's calendar day in its schedule's time zone", () => {
    const day = workerDay(
      { schedule: { cron: '0 2 * * *', timezone: 'Europe/Berlin', onBusy: 'skip' } },
      new Date('2026-12-01T10:00:00Z'),
    );
    expect(day.start.toISOString()).toBe('2026-11-30T23:00:00.000Z');
    expect(day.end.toISOString()).toBe('2026-12-01T23:00:00.000Z');
    expect(workerDay({}, new Date('2026-12-01T00:00:00Z')).start.toISOString()).toBe(
      '2026-12-01T00:00:00.000Z',
    );
  });
});

describeEmulators('chains', () => {
  let env: TestEnv;
  let deps: ReturnType<typeof createDeps>;

  beforeAll(async () => {
    env = await useTestEnv();
  });
  beforeEach(async () => {
    await env.reset();
    deps = createDeps({ projectId: env.projectId, log: memoryLogger() });
    return () => deps.close();
  });

  async function addWorker(fields: Partial<Worker> = {}): Promise<void> {
    const worker = WorkerSchema.parse({
      id: 'night',
      repo: { url: 'https://github.com/me/night.git', branch: 'main', push: false },
      chain: { enabled: true, maxRunsPerDay: 5 },
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      ...fields,
    });
    await env.cols.workers.doc(worker.id).set(worker);
  }

  /** Ends a queued run as its agent would, then hands its run.status event to the reactor. */
  async function end(runId: string, patch: Partial<Run>): Promise<string[]> {
    for (const to of ['starting', 'running'] as const) expect((await deps.moveRun(runId, to)).ok).toBe(true);
    const moved = await deps.moveRun(runId, patch.status ?? 'succeeded', { patch });
    expect(moved.ok).toBe(true);
    const run = (await env.cols.runs.doc(runId).get()).data() as Run;
    const event = runStatusEventOf(run, statusEvent(runId, 'running', run.status, new Date()) as never);
    return (await react(deps, { github: null }, event)).reactions;
  }
  const notes = async (runId: string) =>
    (await env.cols.runEvents(runId).get()).docs.flatMap((d) => {
      const e = d.data();
      return e.type === 'note' ? [e.message] : [];
    });
  const first = async () => (await createRun(deps, { workerId: 'night', trigger: { type: 'api' } })).run;

  it('runs a chain of three that ends when the roadmap is done', async () => {
    await addWorker();
    const one = await first();
    await end(one.id, { commits: ['a1'], roadmapOpen: 2 });
    const two = (await env.cols.runs.doc(chainRunIdOf(one.id)).get()).data() as Run;
    expect(two).toMatchObject({
      status: 'queued',
      trigger: { type: 'chain', previousRunId: one.id },
      parentRunId: one.id,
    });
    await end(two.id, { commits: ['b1'], roadmapOpen: 1 });
    const three = (await env.cols.runs.doc(chainRunIdOf(two.id)).get()).data() as Run;
    expect(three.parentRunId).toBe(two.id);
    const reactions = await end(three.id, { commits: ['c1'], roadmapOpen: 0 });
    expect(reactions.join('\n')).toContain('chain: stopped: the roadmap is done');
    expect((await env.cols.runs.where('workerId', '==', 'night').get()).size).toBe(3);
    expect(await notes(three.id)).toEqual([
      'chain stopped: the roadmap is done: no open item in docs/roadmap.md or docs/TASKS.md',
    ]);
  });

  it('queues one next run when the event is delivered twice', async () => {
    await addWorker();
    const one = await first();
    await end(one.id, { commits: ['a1'], roadmapOpen: 2 });
    const run = (await env.cols.runs.doc(one.id).get()).data() as Run;
    const again = runStatusEventOf(run, statusEvent(one.id, 'running', 'succeeded', new Date()) as never);
    expect((await react(deps, { github: null }, again)).reactions.join()).toContain('already queued');
    expect((await env.cols.runs.where('workerId', '==', 'night').get()).size).toBe(2);
  });

  it('stops at chain.maxRunsPerDay', async () => {
    await addWorker({ chain: { enabled: true, maxRunsPerDay: 1 } });
    const one = await first();
    await end(one.id, { commits: ['a1'], roadmapOpen: 3 });
    const two = chainRunIdOf(one.id);
    await end(two, { commits: ['b1'], roadmapOpen: 2 });
    expect((await env.cols.runs.doc(chainRunIdOf(two)).get()).exists).toBe(false);
    expect(await notes(two)).toEqual([
      "chain stopped: chain.maxRunsPerDay (1) is reached for the worker's day",
    ]);
  });

  it.each([
    [
      'a failed run',
      { status: 'failed', error: 'boom', commits: ['a'], roadmapOpen: 2 },
      'the run ended failed',
    ],
    ['no commit', { commits: [], roadmapOpen: 2 }, 'the run made no commit'],
    [
      'a blocked run',
      { commits: ['a'], roadmapOpen: 2, blocked: { text: 'no key', source: 'result' } },
      'the run is blocked: no key',
    ],
  ] as const)('stops after %s, saying why', async (_name, patch, why) => {
    await addWorker();
    const one = await first();
    await end(one.id, patch as unknown as Partial<Run>);
    expect((await env.cols.runs.doc(chainRunIdOf(one.id)).get()).exists).toBe(false);
    expect(await notes(one.id)).toEqual([`chain stopped: ${why}`]);
  });

  it('stops when the worker was disabled meanwhile', async () => {
    await addWorker();
    const one = await first();
    await env.cols.workers.doc('night').update({ enabled: false });
    await end(one.id, { commits: ['a'], roadmapOpen: 2 });
    expect(await notes(one.id)).toEqual(['chain stopped: the worker night is disabled']);
  });

  it('leaves the runs of a worker without a chain alone', async () => {
    await addWorker({ chain: undefined });
    const one = await first();
    const reactions = await end(one.id, { commits: ['a'], roadmapOpen: 2 });
    expect(reactions.join()).not.toContain('chain');
    expect(await notes(one.id)).toEqual([]);
  });

  it("leaves a run the day budget stopped out of the schedule's self-pause", async () => {
    await addWorker({ chain: undefined, schedule: { cron: '0 2 * * *', timezone: 'UTC', onBusy: 'skip' } });
    const budgetStop = `${BUDGET_STOP_PREFIX}the worker's day cost $5 since 2026-11-21T00:00:00.000Z reached budget.maxUsdPerDay ($5)`;
    const endings: Partial<Run>[] = [
      { status: 'failed', error: 'boom' },
      { status: 'cancelled', error: budgetStop, cancelReason: budgetStop },
      { status: 'failed', error: 'boom again' },
      { status: 'failed', error: 'and again' },
    ];
    const pausedAfter: (string | undefined)[] = [];
    for (const [i, patch] of endings.entries()) {
      const { run } = await createRun(deps, {
        workerId: 'night',
        trigger: { type: 'schedule', slot: `2026-11-2${i}T02:00:00.000Z` },
        runId: `budget-slot-${i}`,
      });
      await end(run.id, patch);
      pausedAfter.push((await env.cols.workers.doc('night').get()).data()?.schedule?.pausedReason);
    }
    // Three runs ended with the budget's stop among them: not three that came to nothing.
    expect(pausedAfter.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    // The fourth is the third failure: paused, naming the failures and not the budget's stop.
    expect(pausedAfter[3]).toContain('the last 3 scheduled runs');
    expect(pausedAfter[3]).toContain('budget-slot-3 failed');
    expect(pausedAfter[3]).not.toContain('budget-slot-1');
  });

  it('pauses a schedule whose last three runs failed or made no commit, with the reason and an event', async () => {
    await addWorker({ chain: undefined, schedule: { cron: '0 2 * * *', timezone: 'UTC', onBusy: 'skip' } });
    const ended: string[] = [];
    for (const [i, patch] of [
      { status: 'failed', error: 'boom' },
      { commits: [] },
      { status: 'failed', error: 'boom again' },
    ].entries()) {
      const { run } = await createRun(deps, {
        workerId: 'night',
        trigger: { type: 'schedule', slot: `2026-11-2${i}T02:00:00.000Z` },
        runId: `slot-${i}`,
      });
      const worker = (await env.cols.workers.doc('night').get()).data();
      expect(worker?.schedule?.pausedReason).toBeUndefined();
      await end(run.id, patch as Partial<Run>);
      ended.push(run.id);
    }
    const worker = (await env.cols.workers.doc('night').get()).data();
    expect(worker?.schedule?.pausedReason).toContain('the last 3 scheduled runs');
    expect(worker?.schedule?.pausedReason).toContain('slot-1 succeeded without a commit');
    expect((await notes('slot-2')).join()).toContain('schedule of worker night paused by nightshift');
    // The scheduler tick queues no slot of a paused schedule.
    // The scheduler tick queues no slot of a paused schedule (one is due), and does once it is set again.
    const { createSchedulerApp } = await import('../scheduler/app.js');
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString();
    await env.cols.workers.doc('night').update({ scheduleSince: twoDaysAgo });
    await createSchedulerApp(deps, {}).request('/', { method: 'POST' });
    expect((await env.cols.runs.where('workerId', '==', 'night').get()).size).toBe(3);
    await env.cols.workers.doc('night').update({ 'schedule.pausedReason': FieldValue.delete() });
    await createSchedulerApp(deps, {}).request('/', { method: 'POST' });
    expect((await env.cols.runs.where('workerId', '==', 'night').get()).size).toBe(4);
  });
});
