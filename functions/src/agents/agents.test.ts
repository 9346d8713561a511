// GET /v1/agents on the emulators, through real HTTP.
import { AGENT_ALIVE_WINDOW_MS, type AgentHeartbeat } from '@nightshift/shared';
import { describeEmulators, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApi, type TestApi } from '../api/testing.js';

describeEmulators('agents API', () => {
  let env: TestEnv;
  let api: TestApi;
  const now = new Date('2030-06-01T12:00:00.000Z');
  beforeAll(async () => {
    env = await useTestEnv();
    api = await startApi(env.projectId, { now: () => now });
  });
  afterAll(() => api.close());

  function heartbeat(id: string, ageMs: number, extra: Partial<AgentHeartbeat> = {}): AgentHeartbeat {
    return {
      id,
      version: '0.1.0',
      host: `${id}.internal`,
      state: 'running',
      capacity: 2,
      running: [],
      startedAt: '2030-06-01T00:00:00.000Z',
      heartbeatAt: new Date(now.getTime() - ageMs).toISOString(),
      ...extra,
    };
  }

  it('answers an empty fleet', async () => {
    const res = await api.call('GET', '/v1/agents');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ agents: [] });
  });

  it("lists each agent's heartbeat with whether it counts as alive", async () => {
    const agents = [
      heartbeat('a-fresh', 1000, { running: ['r-1', 'r-2'] }),
      heartbeat('b-stale', AGENT_ALIVE_WINDOW_MS + 1000),
      heartbeat('c-stopped', 1000, { state: 'stopped' }),
      heartbeat('d-draining', 0, { state: 'draining', capacity: 4 }),
    ];
    for (const a of agents) await env.cols.agents.doc(a.id).set(a);
    const res = await api.call('GET', '/v1/agents');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      agents: [
        { ...agents[0], alive: true },
        { ...agents[1], alive: false },
        { ...agents[2], alive: false },
        { ...agents[3], alive: true },
      ],
    });
  });
});
