import { beforeAll, expect, it } from 'vitest';
import type { AgentHeartbeat } from './agent.js';
import { CorruptDocumentError, createFirestore } from './firestore.js';
import { COLLECTIONS } from './names.js';
import { type Run, RunSchema } from './run.js';
import { describeEmulators, type TestEnv, testProjectId, useTestEnv } from './testing/index.js';
import { type Worker, WorkerSchema } from './worker.js';

const now = '2026-11-24T05:00:00.000Z';

describeEmulators('typed Firestore collections', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await useTestEnv();
  });

  it('round-trips a worker', async () => {
    const worker: Worker = WorkerSchema.parse({
      id: 'blog',
      repo: { url: 'https://github.com/me/blog.git' },
      schedule: { cron: '0 2 * * *' },
      createdAt: now,
      updatedAt: now,
    });
    await env.cols.workers.doc(worker.id).set(worker);
    expect((await env.cols.workers.doc('blog').get()).data()).toEqual(worker);
  });

  it('round-trips a run with its nulls, and its events in a subcollection', async () => {
    const run: Run = RunSchema.parse({
      id: 'r1',
      workerId: 'blog',
      trigger: { type: 'github', repo: 'me/blog', issue: 7, sender: 'me', deliveryId: 'd1' },
      prompt: 'p',
      model: 'sonnet',
      checkout: {
        repo: { url: 'https://github.com/me/blog.git', branch: 'main', push: true },
        workdir: null,
        roadmapPath: 'docs/roadmap.md',
        progressPath: 'PROGRESS.md',
      },
      maxDurationMinutes: 60,
      status: 'running',
      createdAt: now,
      updatedAt: now,
      usage: { turns: 3, costUsd: 0.12, inputTokens: 100, outputTokens: 50 },
      commits: ['abc'],
    });
    await env.cols.runs.doc(run.id).set(run);
    expect((await env.cols.runs.doc('r1').get()).data()).toEqual(run);

    await env.cols.runEvents('r1').doc('e1').set({
      type: 'status',
      id: 'e1',
      runId: 'r1',
      at: now,
      from: 'starting',
      to: 'running',
      reason: null,
      agentId: 'vm',
    });
    const events = await env.cols.runEvents('r1').get();
    expect(events.docs.map((d) => d.data().type)).toEqual(['status']);
    expect(events.docs[0]?.ref.path).toBe(`${COLLECTIONS.runs}/r1/${COLLECTIONS.runEvents}/e1`);
  });

  it('round-trips an agent heartbeat', async () => {
    const agent: AgentHeartbeat = {
      id: 'vm-1',
      version: '0.1.0',
      host: 'vm-1',
      state: 'running',
      capacity: 2,
      running: [],
      startedAt: now,
      heartbeatAt: now,
    };
    await env.cols.agents.doc(agent.id).set(agent);
    expect((await env.cols.agents.doc('vm-1').get()).data()).toEqual(agent);
  });

  it('refuses to write an invalid document, naming the field', async () => {
    const bad = { id: 'x', workdir: 'relative', createdAt: now, updatedAt: now } as unknown as Worker;
    // Firestore validates writes before sending them, and throws at once; so does the converter.
    expect(() => env.cols.workers.doc('x').set(bad)).toThrow(/workdir: expected an absolute path/);
    expect((await env.db.collection(COLLECTIONS.workers).doc('x').get()).exists).toBe(false);
  });

  it('names the document and field when a stored document is corrupt', async () => {
    await env.db.collection(COLLECTIONS.runs).doc('broken').set({ id: 'broken', status: 'exploded' });
    const read = env.cols.runs
      .doc('broken')
      .get()
      .then((s) => s.data());
    await expect(read).rejects.toBeInstanceOf(CorruptDocumentError);
    await expect(read).rejects.toThrow(/runs\/broken .*status/);
  });

  it('resets one project without touching others', async () => {
    const other = createFirestore(testProjectId());
    try {
      await other.collection('workers').doc('kept').set({ id: 'kept' });
      expect((await env.cols.workers.get()).size).toBeGreaterThan(0);
      await env.reset();
      expect((await env.cols.workers.get()).size).toBe(0);
      expect((await other.collection('workers').doc('kept').get()).exists).toBe(true);
    } finally {
      await other.terminate();
    }
  });
});
