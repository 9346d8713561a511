// /v1/vms: each worker VM the functions may start, with Compute's status, its agent, last start and stop, and its cost this month.
import { createRoute } from '@hono/zod-openapi';
import {
  AgentStateSchema,
  isAgentAlive,
  MACHINE_HOURLY_USD,
  monthStart,
  runningSeconds,
  VM_STATUSES,
  VmActionSchema,
  VmNameSchema,
  ZoneSchema,
} from '@nightshift/shared';
import * as z from 'zod';
import type { Deps } from '../core/deps.js';
import { COMMON_PROBLEMS, json, named, newRouter, problems, secured } from '../core/openapi.js';

export const VmViewSchema = z.object({
  name: VmNameSchema,
  zone: ZoneSchema,
  status: z.enum(VM_STATUSES).nullable().describe("Compute's status; null when Compute could not be asked"),
  statusError: z.string().nullable().describe('Why Compute could not be asked'),
  machineType: z.string().nullable(),
  agent: z
    .object({
      id: z.string(),
      alive: z.boolean(),
      state: AgentStateSchema,
      capacity: z.number().int(),
      running: z.array(z.string()),
      heartbeatAt: z.string(),
    })
    .nullable()
    .describe("The VM's agent (agent id = instance name), as its last heartbeat tells it"),
  lastStart: named('VmAction', VmActionSchema).nullable(),
  lastStop: named('VmAction', VmActionSchema).nullable(),
  costThisMonth: z.object({
    hours: z
      .number()
      .describe('Running time since the first of the month (UTC), from recorded starts and stops'),
    hourlyUsd: z
      .number()
      .nullable()
      .describe('NIGHTSHIFT_VM_HOURLY_USD, else the machine type from the price table'),
    usd: z
      .number()
      .nullable()
      .describe('hours × hourlyUsd; the disk, billed also while stopped, is not included'),
  }),
});
export const VmListSchema = z.object({
  vms: z.array(named('Vm', VmViewSchema)),
  costThisMonthUsd: z.number().nullable(),
});

const list = createRoute({
  method: 'get',
  path: '/v1/vms',
  operationId: 'listVms',
  tags: ['vms'],
  summary: 'The worker VMs: Compute status, agent, last start and stop with their reasons, cost this month',
  security: secured,
  responses: {
    200: json(VmListSchema, 'Every VM the functions may start (NIGHTSHIFT_VMS), in configured order'),
    ...problems(...COMMON_PROBLEMS),
  },
});

export function vmRoutes(deps: Deps) {
  const app = newRouter();
  app.openapi(list, async (c) => c.json(await listVms(deps), 200));
  return app;
}

/** The VM list of GET /v1/vms (also read by the dashboard). */
export async function listVms(deps: Deps): Promise<z.infer<typeof VmListSchema>> {
  const { fleet } = deps;
  const now = deps.now();
  const [records, agents] = await Promise.all([deps.cols.vms.get(), deps.cols.agents.get()]);
  const recordOf = new Map(records.docs.map((d) => [d.id, d.data()]));
  const agentOf = new Map(agents.docs.map((d) => [d.id, d.data()]));
  const vms = await Promise.all(
    fleet.vms.map(async (vm) => {
      let status: z.infer<typeof VmViewSchema>['status'] = null;
      let statusError: string | null = null;
      let machineType: string | null = null;
      try {
        const state = await fleet.compute.get(vm);
        status = state.status;
        machineType = state.machineType;
      } catch (error) {
        statusError = (error as Error).message;
      }
      const record = recordOf.get(vm.name);
      const agent = agentOf.get(vm.name);
      const hours = runningSeconds(record?.periods ?? [], monthStart(now), now) / 3600;
      const hourlyUsd = fleet.hourlyUsd ?? (machineType ? (MACHINE_HOURLY_USD[machineType] ?? null) : null);
      return {
        name: vm.name,
        zone: vm.zone,
        status,
        statusError,
        machineType,
        agent: agent
          ? {
              id: agent.id,
              alive: isAgentAlive(agent, now),
              state: agent.state,
              capacity: agent.capacity,
              running: agent.running,
              heartbeatAt: agent.heartbeatAt,
            }
          : null,
        lastStart: record?.lastStart ?? null,
        lastStop: record?.lastStop ?? null,
        costThisMonth: {
          hours: Math.round(hours * 100) / 100,
          hourlyUsd,
          usd: hourlyUsd === null ? null : Math.round(hours * hourlyUsd * 100) / 100,
        },
      };
    }),
  );
  const known = vms.map((v) => v.costThisMonth.usd);
  const costThisMonthUsd = known.some((u) => u === null)
    ? null
    : Math.round(known.reduce<number>((sum, u) => sum + (u ?? 0), 0) * 100) / 100;
  return { vms, costThisMonthUsd };
}
