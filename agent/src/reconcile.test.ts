// Runs recorded as this agent's that it does not hold: a half-done claim, and reconcile at start.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Run, TERMINAL_STATUSES } from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import type { AgentOptionsInput } from './options.js';
import { type AdoptFacts, adoptAction } from './reconcile.js';
import { type AgentTest, newRunId, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';

/** What a claim leaves when its `queued → starting` write lands but its answer misses the deadline. */
async function halfDoneClaim(t: AgentTest, workerId: string, agentId: string): Promise<Run> {
  await t.createWorker(workerId);
  const id = newRunId();
  // The lock first, as the claim takes it: a running agent may find the run as soon as it exists.
  await t.env.db
    .collection('workerLocks')
    .doc(workerId)
    .create({ workerId, runId: id, agentId, createdAt: new Date().toISOString() });
  return t.createRun(workerId, {
    id,
    status: 'starting',
    agentId,
    session: `${workerId}-${id}`,
    leaseExpiresAt: new Date(Date.now() + 60_000).toISOString(),
  });
}

describeEmulators('Restart and Claim: runs of this agent it does not hold', () => {
  let t: AgentTest;
  // Agents share the command subscription: each test's agents are stopped after it, so none of them
  // claims the next test's runs.
  const started: Agent[] = [];
  const startAgent = async (overrides: Partial<AgentOptionsInput>) => {
    const agent = await t.startAgent(overrides);
    started.push(agent);
    return agent;
  };
  beforeAll(async () => {
    t = await setupAgentTest();
  });
  afterEach(async () => {
    for (const agent of started.splice(0)) await agent.stop();
  });

  describe('Claim: a half-done claim', () => {
    it('a run left starting with the worker locked is taken over and launched without a restart', async () => {
      await startAgent({ agentId: 'agent-half' });
      // Made after the agent started: only the running agent (not its reconcile at start) can find it.
      const run = await halfDoneClaim(t, 'half', 'agent-half');
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(done.usage).toEqual({ turns: 3, costUsd: 0.0375, inputTokens: 345, outputTokens: 60 });
      expect(done.commits).toHaveLength(2);
      const starts = (await readFile(join(t.fakeDir, `${run.id}.starts`), 'utf8')).trim().split('\n');
      expect(starts).toHaveLength(1);
      expect(await t.lockReleased('half')).toBe(true);
    });
  });

  describe('Claim: a command for a half-done claim', () => {
    it('its redelivered run.start takes the run over (no heartbeat scan needed)', async () => {
      // A heartbeat far away: only the command can make the agent find the run.
      await startAgent({ agentId: 'agent-redeliver', timings: { ...TEST_TIMINGS, heartbeatMs: 600_000 } });
      const run = await halfDoneClaim(t, 'redeliver', 'agent-redeliver');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      const starts = (await readFile(join(t.fakeDir, `${run.id}.starts`), 'utf8')).trim().split('\n');
      expect(starts).toHaveLength(1);
    });
  });

  describe('Restart: a starting run never launched', () => {
    it('is launched at start (its lock is its own; nothing ran), not marked lost', async () => {
      const run = await halfDoneClaim(t, 'never', 'agent-never');
      await startAgent({ agentId: 'agent-never' });
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(await t.events(run.id)).toEqual(['starting->running', 'running->succeeded']);
      const starts = (await readFile(join(t.fakeDir, `${run.id}.starts`), 'utf8')).trim().split('\n');
      expect(starts).toHaveLength(1);
      expect(await t.lockReleased('never')).toBe(true);
    });
  });

  describe('Restart: a run directory with an unreadable file', () => {
    it('starts anyway: the healthy run and a corrupt tail.json end true, a corrupt exit.json ends lost naming it', async () => {
      const agentId = 'agent-power';
      const first = await startAgent({ agentId, capacity: 3 });
      const runs: Run[] = [];
      for (const workerId of ['power-ok', 'power-exit', 'power-tail']) {
        await t.createWorker(workerId);
        const run = await t.createRun(workerId);
        await t.scenario(run.id, 'slow', 1_500);
        // The workers must outlive the first agent, however slow the machine: they go on until let go.
        await writeFile(join(t.fakeDir, `${run.id}.hold`), '');
        await t.publish('run.start', run.id);
        runs.push(run);
      }
      const [ok, badExit, badTail] = runs as [Run, Run, Run];
      for (const run of runs) await t.waitStatus(run.id, ['running']);
      await waitFor('some of each log to be read', () =>
        runs.every((r) => existsSync(join(t.home, 'runs', r.id, 'tail.json'))),
      );
      // The agent goes away (as in a power loss); the workers end while it is gone.
      await first.stop();
      // Held, so none of them can have ended under the first agent.
      for (const run of runs) await t.waitStatus(run.id, ['running'], 1_000);
      for (const run of runs) await rm(join(t.fakeDir, `${run.id}.hold`));
      const dirOf = (run: Run) => join(t.home, 'runs', run.id);
      await waitFor('the workers to end', () => runs.every((r) => existsSync(join(dirOf(r), 'exit.json'))), {
        timeoutMs: 20_000,
      });
      await writeFile(join(dirOf(badExit), 'exit.json'), '{"code":0,"sig');
      await writeFile(join(dirOf(badTail), 'tail.json'), '{"offset":12');

      await startAgent({ agentId, capacity: 3 });
      const usage = { turns: 5, costUsd: 0.0625, inputTokens: 575, outputTokens: 100 };
      const okDone = await t.waitStatus(ok.id, TERMINAL_STATUSES);
      expect(okDone.status).toBe('succeeded');
      expect(okDone.usage).toEqual(usage);
      // The log is read again from its start: the true usage, counted once.
      const tailDone = await t.waitStatus(badTail.id, TERMINAL_STATUSES);
      expect(tailDone.error).toBeNull();
      expect(tailDone.status).toBe('succeeded');
      expect(tailDone.usage).toEqual(usage);
      expect(tailDone.commits).toHaveLength(5);
      const exitDone = await t.waitStatus(badExit.id, TERMINAL_STATUSES);
      expect(exitDone.status).toBe('lost');
      expect(exitDone.error).toContain('exit status file is unreadable');
      expect(exitDone.error).toContain(join(dirOf(badExit), 'exit.json'));
      expect(exitDone.usage).toEqual(usage);
      for (const workerId of ['power-ok', 'power-exit', 'power-tail'])
        expect(await t.lockReleased(workerId)).toBe(true);
    });
  });
});

describe('Restart: the table (adoptAction)', () => {
  const facts = (over: Partial<AdoptFacts>): AdoptFacts => ({
    status: 'running',
    session: 'w-r1',
    dir: '/home/runs/r1',
    launch: 'present',
    exit: 'missing',
    exitUnreadable: null,
    sessionAlive: false,
    ...over,
  });

  it('adopts a live session, finishes from exit.json, launches a never-launched starting run', () => {
    expect(adoptAction(facts({ sessionAlive: true }))).toEqual({ action: 'adopt' });
    expect(adoptAction(facts({ sessionAlive: true, exit: 'unreadable', exitUnreadable: 'x' }))).toEqual({
      action: 'adopt',
    });
    expect(adoptAction(facts({ exit: 'present' }))).toEqual({ action: 'finish' });
    expect(adoptAction(facts({ exit: 'present', sessionAlive: true }))).toEqual({ action: 'finish' });
    expect(adoptAction(facts({ status: 'starting', launch: 'missing' }))).toEqual({ action: 'launch' });
  });

  it('a run that is gone is lost, saying what went missing', () => {
    const lost = (f: AdoptFacts) => {
      const a = adoptAction(f);
      return a.action === 'lost' ? a.outcome : null;
    };
    expect(lost(facts({}))).toEqual({
      status: 'lost',
      error: 'tmux session w-r1 is gone without an exit status (VM rebooted or session killed)',
      exitCode: null,
      note: null,
      // The finish settles an interruption found at a restart (reconcile's interruptedWhileUnheld).
      limit: null,
      interrupted: null,
      pause: null,
    });
    expect(
      lost(facts({ exit: 'unreadable', exitUnreadable: '/home/runs/r1/exit.json (bad JSON)' }))?.error,
    ).toBe('the worker ended, but its exit status file is unreadable: /home/runs/r1/exit.json (bad JSON)');
    expect(lost(facts({ launch: 'missing' }))?.error).toBe(
      'the run is running but its run directory /home/runs/r1 has no launch.json',
    );
    // An unreadable launch.json means it got at least that far: handled as launched.
    expect(adoptAction(facts({ launch: 'unreadable', sessionAlive: true }))).toEqual({ action: 'adopt' });
  });
});
