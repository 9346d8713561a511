// The agent's start with Firestore slow to answer: the read of the runs it holds is tried again, not fatal.
import type { Firestore } from '@google-cloud/firestore';
import { COLLECTIONS } from '@nightshift/shared';
import {
  createFirestoreVia,
  describeEmulators,
  startTcpProxy,
  type TcpProxy,
} from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import { createLogger } from './log.js';
import { type AgentTest, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';
import { STARTUP_READ_ATTEMPTS } from './timings.js';

const DEADLINE_MS = 1_000;

interface Entry {
  message: string;
  attempt?: number;
  error?: string;
}

describeEmulators('Start: Firestore slow at boot', () => {
  let t: AgentTest;
  let proxy: TcpProxy;
  let agentDb: Firestore;
  let agent: Agent | undefined;
  const logs: Entry[] = [];

  beforeAll(async () => {
    t = await setupAgentTest();
    const emulator = process.env.FIRESTORE_EMULATOR_HOST;
    if (!emulator) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
    proxy = await startTcpProxy(emulator);
    agentDb = createFirestoreVia(proxy.host, t.env.projectId, {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 300,
    });
    // Connected first, so what the test cuts is the start's read and nothing before it.
    await agentDb.collection(COLLECTIONS.agents).doc('agent-test').get();
  });
  afterAll(async () => {
    proxy.restore();
    await agent?.stop();
    await agentDb.terminate();
    await proxy.close();
  });

  it('tries the read of its own runs again after a missed deadline, then takes charge of them and starts', async () => {
    expect(STARTUP_READ_ATTEMPTS).toBeGreaterThan(1);
    await t.createWorker('w1');
    // A run this agent claimed before it died: the start must find it and take charge of it.
    const run = await t.createRun('w1', {
      status: 'starting',
      agentId: 'agent-test',
      sessionId: '5b8ad3d0-5d5c-4c39-9d8e-000000000001',
      session: 'w1-held',
      leaseExpiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    proxy.cut('blackhole');
    const starting = t.startAgent({
      db: agentDb,
      timings: { ...TEST_TIMINGS, firestoreDeadlineMs: DEADLINE_MS, resubscribeMs: 1_500 },
      logger: createLogger({}, (line) => logs.push(JSON.parse(line) as Entry)),
    });
    // Past the first deadline, before the second try.
    await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS + 500));
    proxy.restore();
    agent = await starting;
    const retries = logs.filter(
      (e) => e.message === 'could not read the runs this agent holds; trying again',
    );
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0]?.attempt).toBe(1);
    expect(retries[0]?.error).toMatch(/read own runs/);
    expect(logs.some((e) => e.message === 'agent started')).toBe(true);
    // The held run was found by the start's read and launched (a never-launched `starting` run).
    const after = await t.waitStatus(run.id, ['running', 'succeeded'], 20_000);
    expect(after.agentId).toBe('agent-test');
  }, 60_000);
});
