// Starting worker VMs for waiting runs, against the Compute stand-in and the emulators.
import { type AgentHeartbeat, PUBSUB, type RunStatusEvent, ZERO_USAGE } from '@nightshift/shared';
import { type ComputeStandin, startComputeStandin } from '@nightshift/shared/dev';
import { describeEmulators, type TestEnv, testRun, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { startApi } from '../api/testing.js';
import { createDeps, type Deps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createReactorApp } from '../reactor/app.js';
import { runTick } from '../scheduler/tick.js';
import { ensureCapacity } from './starter.js';

const ZONE = 'us-central1-a';
const VMS = ['vm-1', 'vm-2', 'vm-3'].map((name) => ({ zone: ZONE, name }));

describeEmulators('worker VMs', () => {
  let env: TestEnv;
  let standin: ComputeStandin;
  let deps: Deps & { close(): Promise<void> };
  let log: ReturnType<typeof memoryLogger>;
  let counter = 0;

  beforeAll(async () => {
    env = await useTestEnv();
  });

  beforeEach(async () => {
    await env.reset();
    standin = await startComputeStandin({
      project: env.projectId,
      instances: VMS.map((vm) => ({ ...vm })),
      stagingMs: 50,
      stoppingMs: 50,
    });
    log = memoryLogger();
    deps = createDeps({
      projectId: env.projectId,
      log,
      fleet: { vms: VMS, workersPerVm: 2, computeApiUrl: standin.url },
    });
    return async () => {
      await deps.close();
      await standin.close();
    };
  });

  async function queue(count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const run = testRun({ id: `r-vm-${++counter}`, workerId: `w${counter}`, status: 'queued' });
      await env.cols.runs.doc(run.id).set(run);
      ids.push(run.id);
    }
    return ids;
  }

  /** The other VMs are SUSPENDED, a state nightshift leaves alone: vm-1 is the only one it may start. */
  function onlyVm1() {
    standin.setStatus('vm-2', 'SUSPENDED');
    standin.setStatus('vm-3', 'SUSPENDED');
  }

  const starts = () => standin.requests.filter((r) => r.action === 'start');
  const startsOf = (name: string) =>
    new Set(
      starts()
        .filter((r) => r.instance === name)
        .map((r) => r.requestId),
    ).size;

  it('starts a stopped VM when a run waits and no agent can take it, and says so on the run', async () => {
    const [runId] = await queue(1);
    const outcome = await ensureCapacity(deps, { reason: `run ${runId} was queued`, runId: runId ?? null });
    expect(outcome.needed).toBe(1);
    expect(outcome.decisions).toContainEqual(expect.objectContaining({ vm: 'vm-1', action: 'started' }));
    expect(starts().map((r) => r.instance)).toEqual(['vm-1']);
    const record = (await env.cols.vms.doc('vm-1').get()).data();
    expect(record?.lastStart).toMatchObject({
      reason: `run ${runId} was queued`,
      by: 'functions',
      runId,
      error: null,
    });
    expect(record?.periods).toEqual([{ from: record?.lastStart?.at, to: null }]);
    const notes = (await env.cols.runEvents(runId as string).get()).docs.map((d) => d.data());
    expect(notes).toContainEqual(
      expect.objectContaining({ type: 'note', message: expect.stringContaining('started worker VM vm-1') }),
    );
  });

  it('starts the fewest VMs needed: one per workersPerVm waiting runs, never more than exist', async () => {
    await queue(3);
    expect((await ensureCapacity(deps, { reason: 'three runs', runId: null })).needed).toBe(2);
    expect(
      starts()
        .map((r) => r.instance)
        .sort(),
    ).toEqual(['vm-1', 'vm-2']);
    await queue(20);
    // 23 runs want 12 VMs; the third is all that is left to start.
    await ensureCapacity(deps, { reason: 'many runs', runId: null });
    expect(
      starts()
        .map((r) => r.instance)
        .sort(),
    ).toEqual(['vm-1', 'vm-2', 'vm-3']);
  });

  it('counts one run per worker, and none of a worker whose active run holds it', async () => {
    // A run queued behind its worker's active run: that run's agent takes it next, no VM is needed.
    const held = testRun({ id: 'r-held-2', workerId: 'held', status: 'queued' });
    await env.cols.runs.doc(held.id).set(held);
    await env.cols.workerLocks.doc('held').set({
      workerId: 'held',
      runId: 'r-held-1',
      agentId: 'vm-9',
      createdAt: new Date().toISOString(),
    });
    expect((await ensureCapacity(deps, { reason: 'a held worker', runId: null })).needed).toBe(0);
    expect(starts()).toEqual([]);
    // Three runs of one worker run one after another: one VM's worth, not two.
    const same = ['r-same-1', 'r-same-2', 'r-same-3'].map((id) =>
      testRun({ id, workerId: 'same', status: 'queued' }),
    );
    for (const run of same) await env.cols.runs.doc(run.id).set(run);
    expect((await ensureCapacity(deps, { reason: 'one worker', runId: null })).needed).toBe(1);
    expect(starts().map((r) => r.instance)).toEqual(['vm-1']);
  });

  it('starts a VM for a resumed run that holds its own worker lock, and none while the account limit holds', async () => {
    // A run that waited out a usage limit kept its worker's lock and is queued again: it needs a VM.
    const resumed = testRun({ id: 'r-resumed', workerId: 'night', status: 'queued' });
    await env.cols.runs.doc(resumed.id).set(resumed);
    await env.cols.workerLocks.doc('night').set({
      workerId: 'night',
      runId: resumed.id,
      agentId: 'vm-1',
      createdAt: new Date().toISOString(),
    });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await env.cols.limits.doc('account').set({
      until,
      limitType: 'five_hour',
      reason: 'run r-x hit the usage limit',
      runId: 'r-x',
      at: new Date().toISOString(),
    });
    expect((await ensureCapacity(deps, { reason: 'held', runId: null })).needed).toBe(0);
    expect(starts()).toEqual([]);
    await env.cols.limits.doc('account').set({
      until: new Date(Date.now() - 1_000).toISOString(),
      limitType: 'five_hour',
      reason: 'run r-x hit the usage limit',
      runId: 'r-x',
      at: new Date().toISOString(),
    });
    expect((await ensureCapacity(deps, { reason: 'resumed', runId: null })).needed).toBe(1);
    expect(starts().map((r) => r.instance)).toEqual(['vm-1']);
  });

  /** A queued resume whose earlier piece ran on `holder`: its workspace and Claude session are on that VM's disk. */
  async function queueResume(id: string, workerId: string, holder: string): Promise<void> {
    const at = new Date().toISOString();
    const run = testRun({
      id,
      workerId,
      status: 'queued',
      agentId: holder,
      waits: 1,
      pieces: [
        {
          startedAt: at,
          endedAt: at,
          mode: 'fresh',
          usage: ZERO_USAGE,
          ending: 'usage_limit',
          agentId: holder,
        },
      ],
    });
    await env.cols.runs.doc(run.id).set(run);
    await env.cols.workerLocks.doc(workerId).set({ workerId, runId: id, agentId: holder, createdAt: at });
  }

  it('starts the VM that holds a resume, not any VM, and says so on the run', async () => {
    await queueResume('r-pinned', 'pinned', 'vm-3');
    const outcome = await ensureCapacity(deps, { reason: 'resumeAt has come', runId: 'r-pinned' });
    expect(outcome.needed).toBe(1);
    expect(starts().map((r) => r.instance)).toEqual(['vm-3']);
    expect((await env.cols.vms.doc('vm-3').get()).data()?.lastStart).toMatchObject({
      runId: 'r-pinned',
      reason: expect.stringContaining('run r-pinned resumes its Claude session in its workspace on this VM'),
    });
    // Once it is up with its agent, nothing more is started for it, and a plain run still gets a VM.
    standin.setStatus('vm-3', 'RUNNING');
    const agent: AgentHeartbeat = {
      id: 'vm-3',
      version: 't',
      host: 'vm-3',
      state: 'running',
      capacity: 1,
      running: [],
      startedAt: new Date().toISOString(),
      heartbeatAt: new Date().toISOString(),
    };
    await env.cols.agents.doc(agent.id).set(agent);
    await env.cols.vms.doc('vm-3').update({ startRequestedAt: null });
    const again = await ensureCapacity(deps, { reason: 'again', runId: null });
    expect(again.decisions).toContainEqual(
      expect.objectContaining({ vm: 'vm-3', action: 'left', why: expect.stringContaining('pinned resume') }),
    );
    expect(starts().map((r) => r.instance)).toEqual(['vm-3']);
  });

  it('waits for the holder of a resume while it is STOPPING, and starts no other VM for it', async () => {
    await queueResume('r-pinned-2', 'pinned2', 'vm-2');
    standin.setStatus('vm-2', 'STOPPING');
    const outcome = await ensureCapacity(deps, { reason: 'resume', runId: 'r-pinned-2' });
    expect(outcome.retry).toBe(true);
    expect(outcome.decisions).toContainEqual({ vm: 'vm-2', action: 'wait_stopping' });
    expect(starts()).toEqual([]);
  });

  it('counts a resume whose holder is no VM of the fleet like any run', async () => {
    await queueResume('r-orphan', 'orphan', 'vm-deleted');
    expect((await ensureCapacity(deps, { reason: 'orphan', runId: null })).needed).toBe(1);
    expect(starts().map((r) => r.instance)).toEqual(['vm-1']);
  });

  it('starts each VM once under 20 concurrent requests', async () => {
    await queue(20);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => ensureCapacity(deps, { reason: `request ${i}`, runId: null })),
    );
    for (const vm of VMS) expect(startsOf(vm.name)).toBe(1);
  });

  it('starts nothing while a live agent has a free slot, or a VM is already coming up', async () => {
    await queue(1);
    const agent: AgentHeartbeat = {
      id: 'vm-1',
      version: 't',
      host: 'vm-1',
      state: 'running',
      capacity: 2,
      running: [],
      startedAt: new Date().toISOString(),
      heartbeatAt: new Date().toISOString(),
    };
    await env.cols.agents.doc(agent.id).set(agent);
    standin.setStatus('vm-1', 'RUNNING');
    expect((await ensureCapacity(deps, { reason: 'free slot', runId: null })).needed).toBe(0);
    await env.cols.agents.doc(agent.id).delete();
    standin.setStatus('vm-1', 'STAGING'); // booting: its agent has not said hello yet
    expect((await ensureCapacity(deps, { reason: 'booting', runId: null })).needed).toBe(0);
    expect(starts()).toEqual([]);
  });

  it('waits for a STOPPING VM and starts it once it is TERMINATED', async () => {
    await queue(1);
    onlyVm1();
    standin.setStatus('vm-1', 'STOPPING');
    const leftAlone = () =>
      log.entries.filter((e) => e.message === 'a worker VM is left alone').map((e) => [e.vm, e.status]);
    const first = await ensureCapacity(deps, { reason: 'queued while stopping', runId: null });
    expect(first).toMatchObject({ needed: 1, retry: true });
    expect(first.decisions).toContainEqual({ vm: 'vm-1', action: 'wait_stopping' });
    // The SUSPENDED ones are left alone, and the log says so.
    expect(leftAlone()).toEqual([
      ['vm-2', 'SUSPENDED'],
      ['vm-3', 'SUSPENDED'],
    ]);
    expect(starts()).toEqual([]);
    standin.setStatus('vm-1', 'TERMINATED');
    const again = await ensureCapacity(deps, { reason: 'the retry', runId: null });
    expect(again.decisions).toContainEqual(expect.objectContaining({ vm: 'vm-1', action: 'started' }));
  });

  it('a start Compute refused with 503 is made good by the next scheduler tick', async () => {
    await queue(1);
    onlyVm1();
    standin.failNext({ action: 'start', code: 503, message: 'The service is currently unavailable.' });
    const failed = await ensureCapacity(deps, { reason: 'first try', runId: null });
    expect(failed.retry).toBe(true);
    expect(failed.decisions).toContainEqual(
      expect.objectContaining({ vm: 'vm-1', action: 'start_failed', transient: true }),
    );
    const tick = await runTick(deps);
    expect(tick.vms.decisions).toContainEqual(expect.objectContaining({ vm: 'vm-1', action: 'started' }));
    expect(startsOf('vm-1')).toBe(2);
  });

  it('puts quota and permission errors on the run and in the log, in plain words', async () => {
    const [runId] = (await queue(1)) as [string];
    onlyVm1();
    standin.failNext({
      action: 'start',
      code: 403,
      message:
        "Required 'compute.instances.start' permission for 'projects/p/zones/us-central1-a/instances/vm-1'",
      reason: 'forbidden',
    });
    const outcome = await ensureCapacity(deps, { reason: 'queued', runId });
    expect(outcome.retry).toBe(false);
    const notes = (await env.cols.runEvents(runId).get()).docs.map((d) => d.data());
    expect(notes).toContainEqual(
      expect.objectContaining({
        message: expect.stringContaining(
          "permission denied (the functions' service account needs compute.instances.start)",
        ),
      }),
    );
    expect(
      log.entries.some((e) => e.severity === 'ERROR' && e.message === 'could not start a worker VM'),
    ).toBe(true);

    standin.failNext({
      action: 'start',
      code: 403,
      message: "Quota 'CPUS' exceeded. Limit: 8.0 in region us-central1.",
      reason: 'quotaExceeded',
    });
    await ensureCapacity(deps, { reason: 'queued again', runId });
    const later = (await env.cols.runEvents(runId).get()).docs.map((d) => d.data());
    expect(later).toContainEqual(
      expect.objectContaining({ message: expect.stringContaining('out of quota') }),
    );
  });

  it('a queued run.status event reaching the reactor starts a VM for it', async () => {
    const [runId] = (await queue(1)) as [string];
    const event: RunStatusEvent = {
      version: 1,
      type: 'run.status',
      eventId: 'e-1',
      runId,
      workerId: 'w',
      from: null,
      to: 'queued',
      at: new Date().toISOString(),
      reason: 'requested through the API',
      trigger: { type: 'api' },
    };
    const body = JSON.stringify({
      message: { data: Buffer.from(JSON.stringify(event)).toString('base64'), messageId: '1' },
      subscription: `projects/p/subscriptions/${PUBSUB.reactorSubscription}`,
    });
    const push = () =>
      createReactorApp(deps).request('/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const res = await push();
    expect(res.status).toBe(200);
    expect(((await res.json()) as { reactions: string[] }).reactions).toEqual(['vm-start: started vm-1']);
    // Delivered again: the VM is on its way, nothing more is started.
    expect(((await (await push()).json()) as { reactions: string[] }).reactions).toEqual([
      'vm-start: needed 0',
    ]);
    expect(startsOf('vm-1')).toBe(1);
  });

  it('GET /v1/vms lists each VM with its status, agent, last start and the cost of this month', async () => {
    const now = new Date('2026-11-20T12:00:00.000Z');
    await env.cols.vms.doc('vm-2').set({
      name: 'vm-2',
      zone: ZONE,
      startRequestedAt: null,
      lastStart: {
        at: '2026-11-10T01:00:00.000Z',
        reason: 'run r-1 was queued',
        by: 'functions',
        runId: 'r-1',
        operation: 'op-1',
        error: null,
      },
      lastStop: {
        at: '2026-11-10T03:00:00.000Z',
        reason: 'idle for 15 minutes',
        by: 'vm-2',
        runId: null,
        operation: null,
        error: null,
      },
      periods: [
        // Half in October: only the hour in November counts.
        { from: '2026-10-31T23:00:00.000Z', to: '2026-11-01T01:00:00.000Z' },
        { from: '2026-11-10T01:00:00.000Z', to: '2026-11-10T03:00:00.000Z' },
      ],
      updatedAt: now.toISOString(),
    });
    standin.setStatus('vm-3', 'RUNNING');
    const api = await startApi(env.projectId, { now: () => now, deps: { fleet: deps.fleet } });
    try {
      const res = await api.call('GET', '/v1/vms');
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        vms: Array<Record<string, unknown> & { name: string; costThisMonth: Record<string, unknown> }>;
        costThisMonthUsd: number | null;
      };
      expect(body.vms.map((v) => [v.name, v.status])).toEqual([
        ['vm-1', 'TERMINATED'],
        ['vm-2', 'TERMINATED'],
        ['vm-3', 'RUNNING'],
      ]);
      const vm2 = body.vms[1];
      expect(vm2).toMatchObject({
        machineType: 'e2-medium',
        agent: null,
        lastStart: { reason: 'run r-1 was queued', runId: 'r-1' },
        lastStop: { reason: 'idle for 15 minutes', by: 'vm-2' },
        costThisMonth: { hours: 3, hourlyUsd: 0.03351, usd: 0.1 },
      });
      expect(body.costThisMonthUsd).toBe(0.1);
    } finally {
      await api.close();
    }
  });
});
