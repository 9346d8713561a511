// Runs recorded as this agent's that it does not hold: a half-done claim, and reconcile at start.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from '@nightshift/shared';
import { describeEmulators } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentTest, setupAgentTest } from './testing/harness.js';

/** What a claim leaves when its `queued → starting` write lands but its answer misses the deadline. */
async function halfDoneClaim(t: AgentTest, workerId: string, agentId: string): Promise<Run> {
  await t.createWorker(workerId);
  const now = new Date().toISOString();
  const run = await t.createRun(workerId, {
    status: 'starting',
    agentId,
    leaseExpiresAt: new Date(Date.now() + 60_000).toISOString(),
  });
  const session = `${workerId}-${run.id}`;
  await t.env.cols.runs.doc(run.id).update({ session });
  await t.env.db
    .collection('workerLocks')
    .doc(workerId)
    .create({ workerId, runId: run.id, agentId, createdAt: now });
  return { ...run, session };
}

describeEmulators('Restart and Claim: runs of this agent it does not hold', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
  });

  describe('Claim: a half-done claim', () => {
    it('a run left starting with the worker locked is taken over and launched without a restart', async () => {
      await t.startAgent({ agentId: 'agent-half' });
      // Made after the agent started: only the running agent (not its reconcile at start) can find it.
      const run = await halfDoneClaim(t, 'half', 'agent-half');
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost', 'cancelled', 'timed_out']);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(done.usage).toEqual({ turns: 3, costUsd: 0.0375, inputTokens: 345, outputTokens: 60 });
      expect(done.commits).toHaveLength(2);
      const starts = (await readFile(join(t.fakeDir, `${run.id}.starts`), 'utf8')).trim().split('\n');
      expect(starts).toHaveLength(1);
      expect((await t.env.db.collection('workerLocks').doc('half').get()).exists).toBe(false);
    });
  });

  describe('Restart: a starting run never launched', () => {
    it('is launched at start (its lock is its own; nothing ran), not marked lost', async () => {
      const run = await halfDoneClaim(t, 'never', 'agent-never');
      await t.startAgent({ agentId: 'agent-never' });
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost', 'cancelled', 'timed_out']);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(await t.events(run.id)).toEqual(['starting->running', 'running->succeeded']);
      const starts = (await readFile(join(t.fakeDir, `${run.id}.starts`), 'utf8')).trim().split('\n');
      expect(starts).toHaveLength(1);
      expect((await t.env.db.collection('workerLocks').doc('never').get()).exists).toBe(false);
    });
  });
});
