// /v1/agents: the fleet as its heartbeats tell it, each with whether it counts as alive now.
import { createRoute } from '@hono/zod-openapi';
import { AgentHeartbeatSchema, isAgentAlive } from '@nightshift/shared';
import * as z from 'zod';
import type { Deps } from '../core/deps.js';
import { COMMON_PROBLEMS, json, named, newRouter, problems, secured } from '../core/openapi.js';

export const AgentStatusSchema = AgentHeartbeatSchema.extend({
  alive: z.boolean().describe('Heartbeat within the alive window and not stopped'),
});
export const AgentListSchema = z.object({ agents: z.array(named('AgentStatus', AgentStatusSchema)) });

const list = createRoute({
  method: 'get',
  path: '/v1/agents',
  operationId: 'listAgents',
  tags: ['agents'],
  summary: "The fleet: each agent's last heartbeat, capacity, running runs and whether it is alive",
  security: secured,
  responses: {
    200: json(AgentListSchema, 'Every agent that ever sent a heartbeat'),
    ...problems(...COMMON_PROBLEMS),
  },
});

export function agentRoutes(deps: Deps) {
  const app = newRouter();
  app.openapi(list, async (c) => {
    const snapshot = await deps.cols.agents.orderBy('id').get();
    const now = deps.now();
    const agents = snapshot.docs.map((d) => {
      const agent = d.data();
      return { ...agent, alive: isAgentAlive(agent, now) };
    });
    return c.json({ agents }, 200);
  });
  return app;
}
