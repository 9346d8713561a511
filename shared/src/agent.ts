// The Agent heartbeat document: what one VM agent says about itself every heartbeat.
import * as z from 'zod';
import { AgentIdSchema, IsoDateTimeSchema, RunIdSchema } from './ids.js';
import { AGENT_ALIVE_WINDOW_MS } from './timings.js';

/**
 * `stopping`: idle long enough to stop its own VM (the idle stop); still alive and still claiming, but not
 * counted as capacity by the functions' VM starter, which starts VMs only for agents that say `running`.
 */
export const AgentStateSchema = z.enum(['running', 'draining', 'stopping', 'stopped']);
export type AgentState = z.infer<typeof AgentStateSchema>;

export const AgentHeartbeatSchema = z.object({
  id: AgentIdSchema,
  version: z.string(),
  host: z.string(),
  state: AgentStateSchema,
  /** Most runs this agent runs at once (NIGHTSHIFT_MAX_WORKERS). */
  capacity: z.number().int().min(0),
  /** Ids of the runs this agent holds now. */
  running: z.array(RunIdSchema),
  startedAt: IsoDateTimeSchema,
  heartbeatAt: IsoDateTimeSchema,
});
export type AgentHeartbeat = z.infer<typeof AgentHeartbeatSchema>;

/** Whether an agent counts as alive at `now`: it said so recently and has not stopped (`stopping` is alive). */
export function isAgentAlive(agent: AgentHeartbeat, now: Date): boolean {
  return agent.state !== 'stopped' && now.getTime() - Date.parse(agent.heartbeatAt) <= AGENT_ALIVE_WINDOW_MS;
}
