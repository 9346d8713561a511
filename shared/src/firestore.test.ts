import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AgentHeartbeat } from './agent.js';
import {
  CorruptDocumentError,
  collections,
  createFirestore,
  FirestoreDeadlineError,
  withCallDeadlines,
} from './firestore.js';
import { GRPC } from './grpc.js';
import { COLLECTIONS } from './names.js';
import { type Run, RunSchema } from './run.js';
import {
  createFirestoreVia,
  describeEmulators,
  startTcpProxy,
  type TcpProxy,
  type TestEnv,
  testProjectId,
  testRun,
  useTestEnv,
  waitFor,
} from './testing/index.js';
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

describeEmulators('withCallDeadlines: every call bounded', () => {
  /** Short, so the test is quick; the functions use FIRESTORE_DEADLINE_MS. */
  const DEADLINE_MS = 1_000;
  /** A loaded machine (others run tests at once) may be late to fire a timer; never late by this much. */
  const SLACK_MS = 2_000;
  let env: TestEnv;
  let proxy: TcpProxy;
  let raw: Firestore;
  let db: Firestore;

  beforeAll(async () => {
    env = await useTestEnv();
    const emulator = process.env.FIRESTORE_EMULATOR_HOST;
    if (!emulator) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
    proxy = await startTcpProxy(emulator);
    // Redials within a second of restore(), so the calls left pending in the library end before terminate.
    raw = createFirestoreVia(proxy.host, env.projectId, {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1_000,
    });
    db = withCallDeadlines(raw, DEADLINE_MS);
  });
  afterAll(async () => {
    proxy.restore();
    await raw.terminate();
    await proxy.close();
  });

  it('passes every call through unchanged while Firestore answers: converters, batches, transactions', async () => {
    const cols = collections(db);
    const run = testRun({ id: 'r-pass', workerId: 'w' });
    await cols.runs.doc(run.id).create(run);
    const snap = await cols.runs.doc(run.id).get();
    expect(snap.data()).toEqual(run);
    await snap.ref.update({ prompt: 'q' });
    const batch = db.batch();
    batch.update(cols.runs.doc(run.id), { model: 'opus' });
    batch.set(cols.runEvents(run.id).doc('e1'), {
      type: 'note',
      id: 'e1',
      runId: run.id,
      at: run.createdAt,
      message: 'm',
      agentId: null,
    });
    await batch.commit();
    const seen = await db.runTransaction(async (t) => {
      const current = (await t.get(cols.runs.doc(run.id))).data();
      t.update(cols.runs.doc(run.id), { maxTurns: 3 });
      return current?.model;
    });
    expect(seen).toBe('opus');
    const [one] = await db.getAll(cols.runs.doc(run.id));
    expect(one?.data()).toMatchObject({ prompt: 'q', model: 'opus', maxTurns: 3 });
    const query = await cols.runs.where('workerId', '==', 'w').get();
    expect(query.docs.map((d) => d.id)).toEqual([run.id]);
    expect((await cols.runs.count().get()).data().count).toBe(1);
    expect((await cols.runEvents(run.id).get()).size).toBe(1);
    // And what a client reads directly, unwrapped, is the same.
    expect((await env.cols.runs.doc(run.id).get()).data()).toMatchObject({ maxTurns: 3 });
  });

  it('rejects every kind of call with DEADLINE_EXCEEDED within its deadline while Firestore is black-holed', async () => {
    const cols = collections(db);
    const run = testRun({ id: 'r-cut', workerId: 'w' });
    await cols.runs.doc(run.id).create(run);
    const snap = await cols.runs.doc(run.id).get();
    proxy.cut('blackhole');
    const doc = cols.runs.doc(run.id);
    const calls: Record<string, () => Promise<unknown>> = {
      get: () => doc.get(),
      create: () => cols.runs.doc('r-new').create(testRun({ id: 'r-new', workerId: 'w' })),
      set: () => doc.set(run),
      update: () => doc.update({ prompt: 'x' }),
      delete: () => cols.runs.doc('r-gone').delete(),
      'snapshot.ref.update': () => snap.ref.update({ prompt: 'y' }),
      query: () => cols.runs.where('workerId', '==', 'w').limit(5).get(),
      count: () => cols.runs.count().get(),
      getAll: () => db.getAll(doc),
      add: () => db.collection('misc').add({ a: 1 }),
      listDocuments: () => db.collection('misc').listDocuments(),
      'batch.commit': () => {
        const batch = db.batch();
        batch.update(doc, { prompt: 'z' });
        return batch.commit();
      },
      runTransaction: () => db.runTransaction(async (t) => (await t.get(doc)).data()),
    };
    const outcomes = await Promise.all(
      Object.entries(calls).map(async ([name, call]) => {
        const started = Date.now();
        const error = await call().then(
          () => null,
          (e: unknown) => e,
        );
        return { name, ms: Date.now() - started, error };
      }),
    );
    for (const { name, ms, error } of outcomes) {
      expect(error, name).toBeInstanceOf(FirestoreDeadlineError);
      expect((error as FirestoreDeadlineError).code, name).toBe(GRPC.DEADLINE_EXCEEDED);
      expect(ms, name).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(ms, name).toBeLessThan(DEADLINE_MS + SLACK_MS);
    }
    expect(proxy.blackholed).toBeGreaterThan(0);

    // Once Firestore is back, the same client answers again (after it redialled).
    proxy.restore();
    await waitFor('the client to answer again', async () => (await doc.get()).exists);
  });
});
