// The idle stop: its decision and its record without emulators; real agents stopping their VM through the Compute stand-in.
import type { AgentState, VmRecord } from '@nightshift/shared';
import { memoryLogger, TERMINAL_STATUSES } from '@nightshift/shared';
import { type ComputeStandin, startComputeStandin } from '@nightshift/shared/dev';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import { type IdlePhase, idleReason, idleStep, requestIdOf, withStop, withStopOutcome } from './idle.js';
import type { AgentOptionsInput } from './options.js';
import { type AgentTest, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';
import { KEEPALIVE_SESSION, type Tmux } from './tmux.js';

const IDLE_MS = 15 * 60_000;
const quiet = (nowMs: number) => ({ heldRuns: 0, liveSessions: 0, nowMs, idleMs: IDLE_MS });

describe('Idle stop', () => {
  it('waits the idle time, announces stopping, then stops on the next step', () => {
    let phase: IdlePhase = { name: 'busy' };
    let step = idleStep(phase, quiet(0));
    expect(step).toEqual({ phase: { name: 'idle', sinceMs: 0 }, action: 'none' });
    phase = step.phase;
    expect(idleStep(phase, quiet(IDLE_MS - 1)).action).toBe('none');
    step = idleStep(phase, quiet(IDLE_MS));
    expect(step).toEqual({ phase: { name: 'stopping', sinceMs: IDLE_MS }, action: 'announce-stopping' });
    expect(idleStep(step.phase, quiet(IDLE_MS + 1)).action).toBe('stop-vm');
  });

  it('a run taken while stopping, or a live session, makes it busy and restarts the idle time', () => {
    const stopping: IdlePhase = { name: 'stopping', sinceMs: 5 };
    expect(idleStep(stopping, { ...quiet(10), heldRuns: 1 })).toEqual({
      phase: { name: 'busy' },
      action: 'none',
    });
    const idle: IdlePhase = { name: 'idle', sinceMs: 0 };
    expect(idleStep(idle, { ...quiet(IDLE_MS * 2), liveSessions: 1 })).toEqual({
      phase: { name: 'busy' },
      action: 'none',
    });
  });

  describe('Idle stop: the record', () => {
    const vm = { zone: 'us-central1-a', name: 'nightshift-worker-1' };
    const stop = {
      at: '2026-12-01T03:00:00.000Z',
      reason: 'idle for 15 minutes',
      by: 'nightshift-worker-1',
      runId: null,
      operation: null,
      error: null,
    };
    const started: VmRecord = {
      ...vm,
      startRequestedAt: '2026-12-01T01:00:00.000Z',
      lastStart: null,
      lastStop: null,
      periods: [
        { from: '2026-10-02T01:00:00.000Z', to: '2026-10-02T02:00:00.000Z' },
        { from: '2026-11-30T01:00:00.000Z', to: '2026-11-30T02:00:00.000Z' },
        { from: '2026-12-01T01:00:00.000Z', to: null },
      ],
      updatedAt: '2026-12-01T01:00:00.000Z',
    };

    it('ends the open period at the stop, keeps last month on, says why and by whom, clears the start request', () => {
      const next = withStop(started, vm, stop, '2026-12-01T01:00:30.000Z');
      expect(next.lastStop).toEqual(stop);
      expect(next.periods).toEqual([
        { from: '2026-11-30T01:00:00.000Z', to: '2026-11-30T02:00:00.000Z' },
        { from: '2026-12-01T01:00:00.000Z', to: '2026-12-01T03:00:00.000Z' },
      ]);
      // Its start is over: the functions' start debounce must not take the stopped VM for one coming up.
      expect(next.startRequestedAt).toBeNull();
    });

    it('a VM started outside nightshift (no record, or no open period) ran since its agent started', () => {
      const next = withStop(undefined, vm, stop, '2026-12-01T02:30:00.000Z');
      expect(next).toMatchObject({ ...vm, lastStart: null, lastStop: stop, startRequestedAt: null });
      expect(next.periods).toEqual([{ from: '2026-12-01T02:30:00.000Z', to: stop.at }]);
    });

    it("Compute's operation is added; a refusal is recorded and the period is open again", () => {
      const stopped = withStop(started, vm, stop, '2026-12-01T01:00:30.000Z');
      const now = '2026-12-01T03:00:01.000Z';
      expect(withStopOutcome(stopped, stop.at, { operation: 'operation-1' }, now)?.lastStop).toEqual({
        ...stop,
        operation: 'operation-1',
      });
      const refused = withStopOutcome(stopped, stop.at, { error: 'permission denied' }, now);
      expect(refused?.lastStop?.error).toBe('permission denied');
      expect(refused?.periods.at(-1)).toEqual({ from: '2026-12-01T01:00:00.000Z', to: null });
      // A later stop recorded meanwhile is left alone.
      expect(withStopOutcome(stopped, '2026-12-01T02:00:00.000Z', { error: 'x' }, now)).toBe(stopped);
      expect(withStopOutcome(undefined, stop.at, { error: 'x' }, now)).toBeUndefined();
    });

    it('names the idle time as configured, and makes one request id per stop', () => {
      expect(idleReason(15 * 60_000)).toBe('idle for 15 minutes');
      expect(idleReason(60_000)).toBe('idle for 1 minute');
      expect(idleReason(3_000)).toBe('idle for 0.05 minutes');
      const id = requestIdOf('vm-1@2026-12-01T03:00:00.000Z');
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(requestIdOf('vm-1@2026-12-01T03:00:00.000Z')).toBe(id);
      expect(requestIdOf('vm-1@2026-12-01T03:15:00.000Z')).not.toBe(id);
    });
  });
});

const ZONE = 'local-dev1-a';
/** Heartbeats every 250 ms and 500 ms of idle time: a stop comes about a second after the last work. */
const IDLE_TIMINGS = { ...TEST_TIMINGS, heartbeatMs: 250, idleStopMs: 500 };
/** For the tests that drive the heartbeat themselves: its timer never fires during a test. */
const DRIVEN_TIMINGS = { ...TEST_TIMINGS, heartbeatMs: 600_000, idleStopMs: 200 };

/** A test that waits for a stop: the first one in a process also loads the Compute library. */
const STOP_TEST_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Tmux whose next session listing (the idle step's) waits until the test lets it go on. */
function gatedTmux(inner: Tmux) {
  let gate: { entered: () => void; release: Promise<void> } | null = null;
  const tmux: Tmux = {
    ...inner,
    async listSessionsOrFail() {
      const g = gate;
      gate = null;
      if (g) {
        g.entered();
        await g.release;
      }
      return inner.listSessionsOrFail();
    },
  };
  const hold = () => {
    let release = () => {};
    let entered = () => {};
    const enteredP = new Promise<void>((r) => {
      entered = r;
    });
    gate = { entered, release: new Promise<void>((r) => (release = r)) };
    return { entered: enteredP, release };
  };
  return { tmux, hold };
}

describeEmulators('Idle stop', () => {
  let t: AgentTest;
  const standins: ComputeStandin[] = [];
  const unsubscribers: Array<() => void> = [];
  beforeAll(async () => {
    t = await setupAgentTest();
  });
  afterAll(async () => {
    for (const u of unsubscribers) u();
    for (const s of standins) await s.close();
  });

  /**
   * An agent on its own stand-in VM (RUNNING), stopped when its VM starts stopping as on a real VM, with
   * every state its heartbeat document took and every version of its `vms/<name>` record.
   */
  async function agentOnVm(name: string, overrides: Partial<AgentOptionsInput> = {}) {
    let agent: Agent | undefined;
    const compute = await startComputeStandin({
      project: t.env.projectId,
      instances: [{ zone: ZONE, name, status: 'RUNNING' }],
      stoppingMs: 200,
      onStopping: () => void agent?.stop(),
    });
    standins.push(compute);
    const states: AgentState[] = [];
    unsubscribers.push(
      t.env.cols.agents.doc(name).onSnapshot((snap) => {
        const state = snap.data()?.state;
        if (state !== undefined && states.at(-1) !== state) states.push(state);
      }),
    );
    const records: VmRecord[] = [];
    unsubscribers.push(
      t.env.cols.vms.doc(name).onSnapshot((snap) => {
        const record = snap.data();
        if (record !== undefined) records.push(record);
      }),
    );
    const log = memoryLogger();
    agent = await t.startAgent({
      agentId: name,
      projectId: t.env.projectId,
      vm: { zone: ZONE, name },
      computeApiUrl: compute.url,
      timings: IDLE_TIMINGS,
      logger: log,
      ...overrides,
    });
    const stops = () => compute.requests.filter((r) => r.action === 'stop');
    const record = async () => (await t.env.cols.vms.doc(name).get()).data();
    const stopped = () =>
      // The first stop in a process also loads @google-cloud/compute, which takes seconds on a busy machine.
      waitFor(`VM ${name} to be stopping`, () => compute.instance(name)?.status !== 'RUNNING', {
        timeoutMs: 40_000,
      });
    return { agent, compute, states, records, log, stops, record, stopped };
  }

  it(
    'is off, said once, without an own VM: none configured on the emulators, or no metadata server',
    async () => {
      const offBecause = async (agentId: string, overrides: Partial<AgentOptionsInput>) => {
        const log = memoryLogger();
        const agent = await t.startAgent({
          agentId,
          projectId: t.env.projectId,
          timings: IDLE_TIMINGS,
          logger: log,
          ...overrides,
        });
        const said = await waitFor('the idle stop to say it is off', () =>
          log.entries.find((e) => e.message.startsWith('idle stop off')),
        );
        await sleep(4 * IDLE_TIMINGS.heartbeatMs);
        await agent.stop();
        expect(log.entries.filter((e) => e.message.startsWith('idle stop')).map((e) => e.message)).toEqual([
          said.message,
        ]);
        return said.message;
      };
      expect(await offBecause('local-agent', { vmFromMetadata: false })).toBe(
        'idle stop off: on the emulators, only NIGHTSHIFT_VM is stopped, and it is not set',
      );
      // A closed port: no metadata server answers, as off Google Cloud.
      expect(await offBecause('laptop-agent', { metadataHost: '127.0.0.1:9' })).toMatch(
        /^idle stop off: no own VM \(NIGHTSHIFT_VM is not set and no metadata server answers/,
      );
    },
    STOP_TEST_TIMEOUT_MS,
  );

  it(
    'an idle agent says stopping in its heartbeat, then stops its VM and records why, closing its running time',
    async () => {
      const name = 'idle-vm';
      // As the functions record a start: an open period of running time.
      const startedAt = new Date(Date.now() - 60_000).toISOString();
      await t.env.cols.vms.doc(name).set({
        name,
        zone: ZONE,
        startRequestedAt: startedAt,
        lastStart: {
          at: startedAt,
          reason: 'a run waits',
          by: 'functions',
          runId: null,
          operation: 'op-start',
          error: null,
        },
        lastStop: null,
        periods: [{ from: startedAt, to: null }],
        updatedAt: startedAt,
      });
      const vm = await agentOnVm(name);
      await vm.stopped();
      await waitFor('the agent to say stopped', () => vm.states.at(-1) === 'stopped');
      expect(vm.states).toEqual(['running', 'stopping', 'stopped']);
      expect(vm.stops()).toHaveLength(1);
      expect(vm.stops()[0]?.requestId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      const record = await vm.record();
      expect(record?.lastStop).toEqual({
        at: expect.any(String),
        reason: 'idle for 0.01 minutes',
        by: name,
        runId: null,
        operation: expect.stringMatching(/^operation-/),
        error: null,
      });
      expect(record?.periods).toEqual([{ from: startedAt, to: record?.lastStop?.at }]);
      expect(record?.lastStart?.operation).toBe('op-start');
      const said = vm.log.entries.map((e) => e.message);
      expect(said).toContain('idle stop on');
      expect(said).toContain('idle stop: stopping the VM');
    },
    STOP_TEST_TIMEOUT_MS,
  );

  it(
    'no stop while a run runs; after it, the stop comes only after the idle time',
    async () => {
      const name = 'busy-vm';
      const vm = await agentOnVm(name);
      await t.createWorker('idle-slow');
      const run = await t.createRun('idle-slow');
      await t.scenario(run.id, 'slow', 2_500);
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      // Five idle times went by while the run ran: nothing was stopped.
      expect(vm.stops()).toHaveLength(0);
      await vm.stopped();
      const record = await waitFor(
        'the stop recorded',
        async () => (await vm.record())?.lastStop ?? undefined,
      );
      expect(Date.parse(record.at) - Date.parse(done.finishedAt as string)).toBeGreaterThanOrEqual(
        IDLE_TIMINGS.idleStopMs,
      );
      expect(record.reason).toBe('idle for 0.01 minutes');
      // No start was recorded for it: its running time is counted from when the agent started.
      expect((await vm.record())?.periods).toHaveLength(1);
    },
    STOP_TEST_TIMEOUT_MS,
  );

  it(
    'no stop while a session lives that the agent does not hold; the keep-alive session never counts',
    async () => {
      await t.tmux.newSession('owner-scratch', t.root, ['sleep', '600']);
      await t.tmux.newSession(KEEPALIVE_SESSION, t.root, ['sleep', '600']);
      try {
        const vm = await agentOnVm('session-vm');
        await sleep(2_500); // ten heartbeats, five idle times
        expect(vm.stops()).toHaveLength(0);
        expect(vm.states).toEqual(['running']);
        await t.tmux.killSession('owner-scratch');
        await vm.stopped();
        expect(await t.tmux.hasSession(KEEPALIVE_SESSION)).toBe(true);
      } finally {
        await t.tmux.killSession('owner-scratch');
        await t.tmux.killSession(KEEPALIVE_SESSION);
      }
    },
    STOP_TEST_TIMEOUT_MS,
  );

  it(
    'a run queued in the moment it says stopping is taken by the one queue re-check, and the VM stays up',
    async () => {
      const gated = gatedTmux(t.tmux);
      const vm = await agentOnVm('race-vm', { timings: DRIVEN_TIMINGS, tmux: gated.tmux });
      await t.createWorker('racer');
      await sleep(DRIVEN_TIMINGS.idleStopMs + 100); // idle since the heartbeat at start
      // The heartbeat: its idle step waits in its session listing ...
      const gate = gated.hold();
      const beat = vm.agent.wake({ reason: 'heartbeat' });
      await gate.entered;
      // ... until this heartbeat's own queue scan has looked (a scan woken now runs after it) ...
      await vm.agent.wake({ reason: 'slot-freed', workerId: 'racer' });
      // ... and then a run is queued (its run.start not delivered): only the re-check can see it.
      const run = await t.createRun('racer');
      await t.scenario(run.id, 'success');
      gate.release();
      await beat;
      expect(vm.states).toContain('stopping');
      expect((await t.env.cols.runs.doc(run.id).get()).data()?.status).not.toBe('queued');
      // The next heartbeat finds work: running again, and nothing was stopped.
      await vm.agent.wake({ reason: 'heartbeat' });
      expect(vm.states).toEqual(['running', 'stopping', 'running']);
      expect((await t.waitStatus(run.id, TERMINAL_STATUSES)).status).toBe('succeeded');
      expect(vm.stops()).toHaveLength(0);
      // Idle again: it says stopping, the re-check finds nothing, and the step after stops the VM.
      await t.lockReleased('racer');
      await vm.agent.wake({ reason: 'heartbeat' });
      await sleep(DRIVEN_TIMINGS.idleStopMs + 100);
      await vm.agent.wake({ reason: 'heartbeat' });
      await vm.agent.wake({ reason: 'heartbeat' });
      await vm.stopped();
      expect(vm.stops()).toHaveLength(1);
    },
    STOP_TEST_TIMEOUT_MS,
  );

  it(
    'while it says stopping it still claims: a run.start then makes it busy again',
    async () => {
      const vm = await agentOnVm('claim-vm', { timings: DRIVEN_TIMINGS });
      await t.createWorker('late');
      await sleep(DRIVEN_TIMINGS.idleStopMs + 100);
      await vm.agent.wake({ reason: 'heartbeat' });
      expect(vm.states).toEqual(['running', 'stopping']);
      const run = await t.createRun('late');
      await t.scenario(run.id, 'slow', 1_000);
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['starting', 'running']);
      await vm.agent.wake({ reason: 'heartbeat' });
      expect(vm.states).toEqual(['running', 'stopping', 'running']);
      expect((await t.waitStatus(run.id, TERMINAL_STATUSES)).status).toBe('succeeded');
      expect(vm.stops()).toHaveLength(0);
      await vm.agent.stop();
    },
    STOP_TEST_TIMEOUT_MS,
  );

  it(
    'Compute refusing the stop (403) is logged in plain words, the agent runs on and stops after another idle time',
    async () => {
      const name = 'denied-vm';
      // A second of idle time: the fault below is set well before the first stop.
      const vm = await agentOnVm(name, { timings: { ...IDLE_TIMINGS, idleStopMs: 1_000 } });
      vm.compute.failNext({
        action: 'stop',
        code: 403,
        message:
          "Required 'compute.instances.stop' permission for 'projects/p/zones/local-dev1-a/instances/denied-vm'",
        reason: 'forbidden',
      });
      await vm.stopped();
      await waitFor('the agent to say stopped', () => vm.states.at(-1) === 'stopped');
      const refused = vm.log.entries.find((e) => e.message.startsWith('idle stop: could not stop the VM'));
      expect(refused?.severity).toBe('ERROR');
      expect(String(refused?.error)).toContain(
        "could not stop VM local-dev1-a/denied-vm: permission denied (the VM's service account needs compute.instances.stop on itself)",
      );
      expect(vm.states).toEqual(['running', 'stopping', 'running', 'stopping', 'stopped']);
      expect(vm.stops()).toHaveLength(2);
      // The refusal was recorded with the period open again; the stop that worked closed it.
      const refusal = vm.records.find((r) => r.lastStop?.error != null);
      expect(refusal?.lastStop?.error).toContain('permission denied');
      expect(refusal?.periods.at(-1)?.to).toBeNull();
      const last = await vm.record();
      expect(last?.lastStop?.error).toBeNull();
      expect(last?.periods.at(-1)?.to).toBe(last?.lastStop?.at);
    },
    STOP_TEST_TIMEOUT_MS,
  );
});
