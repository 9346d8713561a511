// Messages and Claim: duplicate and malformed commands, one active run per worker, stale locks, the queue scan's choice.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandsTopic } from '@nightshift/shared';
import { describeEmulators, testRun, waitFor } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { queueCandidates } from './claim.js';
import { type AgentTest, setupAgentTest } from './testing/harness.js';

describeEmulators('Claim', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    // Two agents on the one shared subscription.
    await t.startAgent({ agentId: 'agent-a' });
    await t.startAgent({ agentId: 'agent-b' });
  });

  describe('Messages: duplicates', () => {
    it('ten copies of one run.start delivered at once start one session', async () => {
      await t.createWorker('dup');
      const run = await t.createRun('dup');
      await t.scenario(run.id, 'slow', 1500);
      const topic = commandsTopic(t.env.pubsub);
      const data = Buffer.from(
        JSON.stringify({
          version: 1,
          type: 'run.start',
          commandId: 'same',
          runId: run.id,
          sentAt: new Date().toISOString(),
        }),
      );
      await Promise.all(Array.from({ length: 10 }, () => topic.publishMessage({ data })));
      await t.waitStatus(run.id, ['running']);
      const sessions = (await t.tmux.listSessions()).filter((s) => s.includes(run.id));
      expect(sessions).toEqual([`dup-${run.id}`]);
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost']);
      expect(done.status).toBe('succeeded');
      const starts = (await readFile(join(t.fakeDir, `${run.id}.starts`), 'utf8')).trim().split('\n');
      expect(starts).toHaveLength(1);
      expect(await t.events(run.id)).toEqual(['queued->starting', 'starting->running', 'running->succeeded']);
    });
  });

  describe('Claim: one active run per worker', () => {
    it("a busy worker's second run waits, then runs", async () => {
      await t.createWorker('busy');
      const first = await t.createRun('busy');
      await t.scenario(first.id, 'slow', 1500);
      await t.publish('run.start', first.id);
      await t.waitStatus(first.id, ['running']);
      const second = await t.createRun('busy');
      await t.publish('run.start', second.id);
      // Its command is handled (acked) while the worker is busy; the run stays queued.
      await new Promise((r) => setTimeout(r, 600));
      expect((await t.env.cols.runs.doc(second.id).get()).data()?.status).toBe('queued');
      const firstDone = await t.waitStatus(first.id, ['succeeded', 'failed', 'lost']);
      expect(firstDone.status).toBe('succeeded');
      const secondDone = await t.waitStatus(second.id, ['succeeded', 'failed', 'lost']);
      expect(secondDone.status).toBe('succeeded');
      expect(Date.parse(secondDone.startedAt ?? '')).toBeGreaterThanOrEqual(
        Date.parse(firstDone.finishedAt ?? ''),
      );
      const starts = (await readFile(join(t.fakeDir, `${second.id}.starts`), 'utf8')).trim().split('\n');
      expect(starts).toHaveLength(1);
    });
  });

  describe('Messages: late, unknown and malformed commands', () => {
    it('ignores a run.start for a run that is no longer queued', async () => {
      await t.createWorker('late');
      const run = await t.createRun('late', { status: 'cancelled', error: 'cancelled while queued' });
      await t.publish('run.start', run.id);
      await new Promise((r) => setTimeout(r, 800));
      const after = (await t.env.cols.runs.doc(run.id).get()).data();
      expect(after?.status).toBe('cancelled');
      expect(after?.agentId).toBeNull();
      expect((await t.env.db.collection('workerLocks').doc('late').get()).exists).toBe(false);
    });

    it('acks malformed commands and keeps working', async () => {
      const topic = commandsTopic(t.env.pubsub);
      await topic.publishMessage({ data: Buffer.from('not json') });
      await topic.publishMessage({ data: Buffer.from(JSON.stringify({ version: 9, type: 'run.start' })) });
      await topic.publishMessage({
        data: Buffer.from(JSON.stringify({ version: 1, type: 'run.start', runId: '' })),
      });
      await t.createWorker('after-junk');
      const run = await t.createRun('after-junk');
      await t.publish('run.start', run.id);
      expect((await t.waitStatus(run.id, ['succeeded', 'failed', 'lost'])).status).toBe('succeeded');
    });

    it('removes a stale lock left by a finished run and claims the worker', async () => {
      await t.createWorker('stale');
      const old = await t.createRun('stale', { status: 'failed', error: 'old' });
      await t.env.db
        .collection('workerLocks')
        .doc('stale')
        .set({ workerId: 'stale', runId: old.id, agentId: 'gone', createdAt: new Date().toISOString() });
      const run = await t.createRun('stale');
      await t.publish('run.start', run.id);
      expect((await t.waitStatus(run.id, ['succeeded', 'failed', 'lost'])).status).toBe('succeeded');
      await waitFor(
        'the lock to be released',
        async () => !(await t.env.db.collection('workerLocks').doc('stale').get()).exists,
      );
    });

    it("takes the worker's lock and moves the run to starting in one commit", async () => {
      await t.createWorker('one-commit');
      const run = await t.createRun('one-commit');
      await t.scenario(run.id, 'slow', 1500);
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running']);
      const lock = await t.env.db.collection('workerLocks').doc('one-commit').get();
      expect(lock.data()).toMatchObject({ runId: run.id });
      const starting = (await t.env.cols.runEvents(run.id).get()).docs.filter(
        (d) => d.data().type === 'status' && (d.data() as { to?: string }).to === 'starting',
      );
      expect(starting).toHaveLength(1);
      // One batch: both documents carry its one commit time.
      expect(lock.createTime?.isEqual(starting[0]?.createTime as NonNullable<typeof lock.createTime>)).toBe(
        true,
      );
      expect((await t.waitStatus(run.id, ['succeeded', 'failed', 'lost'])).status).toBe('succeeded');
    });

    it('claims a queued run whose own lock an earlier claim left (that claim never moved it)', async () => {
      await t.createWorker('own-lock');
      const run = await t.createRun('own-lock');
      await t.env.db.collection('workerLocks').doc('own-lock').set({
        workerId: 'own-lock',
        runId: run.id,
        agentId: 'agent-a',
        createdAt: new Date().toISOString(),
      });
      await t.publish('run.start', run.id);
      expect((await t.waitStatus(run.id, ['succeeded', 'failed', 'lost'])).status).toBe('succeeded');
      expect(await t.events(run.id)).toEqual(['queued->starting', 'starting->running', 'running->succeeded']);
    });
  });
});

describe('Claim: which queued run the queue scan takes', () => {
  const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();
  const queued = [
    testRun({ id: 'b2', workerId: 'b', createdAt: at(4) }),
    testRun({ id: 'a1', workerId: 'a', createdAt: at(2) }),
    testRun({ id: 'b1', workerId: 'b', createdAt: at(1) }),
    testRun({ id: 'c1', workerId: 'c', createdAt: at(3) }),
    testRun({ id: 'a2', workerId: 'a', createdAt: at(5) }),
  ];
  const ids = (runs: { id: string }[]) => runs.map((r) => r.id);

  it('takes the oldest run of each worker, oldest first', () => {
    expect(ids(queueCandidates(queued, { heldWorkers: new Set() }))).toEqual(['b1', 'a1', 'c1']);
  });

  it("puts the freed worker's oldest run first and skips workers already held", () => {
    expect(ids(queueCandidates(queued, { heldWorkers: new Set(['b']), preferWorker: 'c' }))).toEqual([
      'c1',
      'a1',
    ]);
  });
});
