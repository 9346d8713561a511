// Heartbeat and leases with Firestore unreachable: the agent's client goes through a proxy the test cuts.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import { COLLECTIONS, TERMINAL_STATUSES } from '@nightshift/shared';
import {
  type CutMode,
  createFirestoreVia,
  describeEmulators,
  startTcpProxy,
  type TcpProxy,
  waitFor,
} from '@nightshift/shared/testing';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import { createLogger } from './log.js';
import { type AgentTest, git, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';

/** Short, so a missed call is noticed (and retried) several times within one outage. */
const DEADLINE_MS = 1_500;

interface Entry {
  time: string;
  message: string;
  runId?: string;
  error?: string;
}

describeEmulators('Heartbeat and leases: Firestore unreachable', () => {
  let t: AgentTest;
  let proxy: TcpProxy;
  let agentDb: Firestore;
  let agent: Agent;
  const logs: Entry[] = [];

  beforeAll(async () => {
    t = await setupAgentTest();
    const emulator = process.env.FIRESTORE_EMULATOR_HOST;
    if (!emulator) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
    proxy = await startTcpProxy(emulator);
    // gRPC redials a dropped channel with exponential backoff (up to two minutes by default); bounded
    // here so the agent finds Firestore again within about a second of its return.
    agentDb = createFirestoreVia(proxy.host, t.env.projectId, {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1_000,
    });
    // The first call of a new client loads its protos and opens the channel, which on a busy machine can
    // outlast the short deadline below; made here, so the agent starts on a connected client.
    await agentDb.collection(COLLECTIONS.agents).doc('agent-test').get();
    agent = await t.startAgent({
      db: agentDb,
      timings: { ...TEST_TIMINGS, firestoreDeadlineMs: DEADLINE_MS },
      logger: createLogger({}, (line) => logs.push(JSON.parse(line) as Entry)),
    });
    await t.createWorker('w1');
    await t.createWorker('w2');
  });
  // A failed test must not leave the next one cut off.
  afterEach(() => proxy.restore());
  afterAll(async () => {
    // Before the harness's own cleanup: its agent.stop() writes a last heartbeat through the proxy.
    proxy.restore();
    await agent.stop();
    await agentDb.terminate();
    await proxy.close();
  });

  const heartbeatAt = async () => {
    const beat = (await t.env.cols.agents.doc('agent-test').get()).data();
    if (!beat) throw new Error('no heartbeat yet');
    return { at: Date.parse(beat.heartbeatAt), running: beat.running };
  };

  // A partition (calls hang until their deadline) and a refused link (calls fail at once and the client
  // retries inside itself) reach the agent differently; both must end the same way.
  it.each([
    ['blackhole', 'w1'],
    ['refuse', 'w2'],
  ] as [CutMode, string][])(
    'cut (%s): the worker finishes during the outage; the run ends succeeded when Firestore returns',
    async (mode, workerId) => {
      const run = await t.createRun(workerId);
      await t.scenario(run.id, 'slow', 5_000);
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running']);
      const exitFile = join(t.home, 'runs', run.id, 'exit.json');

      // The agent's own client talks through the proxy (the test's client goes to the emulator directly).
      expect(proxy.forwarding).toBeGreaterThan(0);
      proxy.cut(mode);
      const cutAt = Date.now();
      const acceptedAtCut = proxy.accepted;
      // The outage must begin before the worker ends, or this test would show nothing.
      expect(existsSync(exitFile)).toBe(false);

      // The worker keeps going in tmux and ends on its own while Firestore cannot be reached.
      await waitFor('the worker to finish while Firestore is cut', () => existsSync(exitFile), {
        timeoutMs: 20_000,
        intervalMs: 100,
      });
      expect(JSON.parse(await readFile(exitFile, 'utf8'))).toMatchObject({ code: 0, signal: null });
      const stream = await readFile(join(t.home, 'runs', run.id, 'stream.jsonl'), 'utf8');
      expect(stream).toContain('"type":"result"');

      // The agent noticed, tried the terminal write (it first waits for its earlier writes to the run and
      // reads the run), and missed its deadline: a hang, not a crash. It retries on the next tick.
      const terminalWrite = new RegExp(
        `^(earlier writes to run ${run.id}|read run ${run.id}|move run ${run.id} to succeeded): `,
      );
      await waitFor(
        'the terminal write to miss its deadline',
        () =>
          logs.some(
            (e) =>
              Date.parse(e.time) >= cutAt &&
              e.message === 'run step failed; retrying next tick' &&
              e.runId === run.id &&
              terminalWrite.test(e.error ?? ''),
          ),
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      const since = (e: Entry) => Date.parse(e.time) >= cutAt;
      expect(logs.some((e) => since(e) && e.message === 'run finished')).toBe(false);
      expect(logs.some((e) => since(e) && e.message === 'heartbeat failed; retrying next time')).toBe(true);
      expect(proxy.cutMode).toBe(mode);
      expect(proxy.accepted).toBeGreaterThan(acceptedAtCut); // it kept dialling

      // Read directly from the emulator: nothing the agent did since the cut has landed.
      const during = (await t.env.cols.runs.doc(run.id).get()).data();
      expect(during?.status).toBe('running');
      expect((await heartbeatAt()).at).toBeLessThanOrEqual(cutAt);

      proxy.restore();
      const restoredAt = Date.now();

      const done = await t.waitStatus(run.id, TERMINAL_STATUSES, 20_000);
      expect(done.status).toBe('succeeded');
      expect(done.error).toBeNull();
      expect(done.exitCode).toBe(0);
      expect(done.result).toBe('Slow work done.');
      expect(done.leaseExpiresAt).toBeNull();
      // The fake worker's five turns, from its result message (usage: 100 + 10 + 5 in, 20 out, per turn).
      expect(done.usage).toEqual({ turns: 5, costUsd: 0.0625, inputTokens: 575, outputTokens: 100 });
      const workspace = join(t.home, 'workspaces', workerId);
      const commits = (await git(workspace, 'rev-list', '--reverse', `${done.startCommit}..HEAD`)).split(
        '\n',
      );
      expect(commits).toHaveLength(5);
      expect(done.commits).toEqual(commits);

      const statusEvents = (await t.events(run.id)).filter((e) => e.includes('->'));
      expect(statusEvents).toEqual(['queued->starting', 'starting->running', 'running->succeeded']);

      // The heartbeat resumes, without the run; the worker's lock is released.
      await waitFor(
        'a heartbeat after the restore',
        async () => {
          const beat = await heartbeatAt();
          return beat.at > restoredAt && beat.running.length === 0;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      expect((await t.env.db.collection(COLLECTIONS.workerLocks).doc(workerId).get()).exists).toBe(false);

      // Calls the agent gave up on during the outage may still be delivered late; none may undo the end.
      const settledAt = Date.now();
      await waitFor(
        'two more heartbeats',
        async () => (await heartbeatAt()).at > settledAt + TEST_TIMINGS.heartbeatMs,
        {
          timeoutMs: 15_000,
          intervalMs: 100,
        },
      );
      const after = (await t.env.cols.runs.doc(run.id).get()).data();
      expect(after).toEqual(done);
      expect((await t.events(run.id)).filter((e) => e.includes('->'))).toEqual(statusEvents);
    },
  );
});
