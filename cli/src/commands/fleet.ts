// `nightshift agents ls` and `nightshift status`: the fleet, and one screen of what is going on.
import type { Command } from 'commander';
import { type Client, type Run, unwrap } from '../api.js';
import { Ctx, type Io } from '../context.js';
import { agentsTable, type StatusScreen, statusView } from '../views.js';

/** Pages of runs read back to find today's: enough for a busy day, bounded so `status` stays quick. */
const TODAY_MAX_PAGES = 10;

/** Midnight of `now`'s day on this machine's clock. */
export function startOfDay(now: Date): Date {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d;
}

/** Runs created since `since`, newest first, read page by page until an older one appears. */
async function runsSince(api: Client, since: Date): Promise<Run[]> {
  const out: Run[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < TODAY_MAX_PAGES; page++) {
    const answer = await unwrap(
      api.GET('/v1/runs', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }),
    );
    for (const run of answer.runs) {
      if (Date.parse(run.createdAt) < since.getTime()) return out;
      out.push(run);
    }
    if (!answer.nextCursor) return out;
    cursor = answer.nextCursor;
  }
  return out;
}

export function costPerWorker(runs: Run[]): Record<string, number> {
  const cost: Record<string, number> = {};
  for (const run of runs) cost[run.workerId] = (cost[run.workerId] ?? 0) + run.usage.costUsd;
  return cost;
}

export function registerFleet(program: Command, io: Io): void {
  const agents = program.command('agents').description('the agents on the VMs');
  agents
    .command('ls')
    .description("each agent's heartbeat, capacity, running runs and whether it is alive")
    .action(async (_flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const list = await unwrap((await ctx.api()).GET('/v1/agents'));
      if (ctx.json) return ctx.printJson(list);
      ctx.print(agentsTable(list.agents, ctx.view()));
    });

  program
    .command('status')
    .description("one screen: agents alive, runs running and queued, today's cost per worker")
    .action(async (_flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const api = await ctx.api();
      const byStatus = (status: 'queued' | 'starting' | 'running') =>
        unwrap(api.GET('/v1/runs', { params: { query: { status, limit: 100 } } })).then((p) => p.runs);
      const [agentList, vmList, starting, running, queued, today] = await Promise.all([
        unwrap(api.GET('/v1/agents')),
        unwrap(api.GET('/v1/vms')),
        byStatus('starting'),
        byStatus('running'),
        byStatus('queued'),
        runsSince(api, startOfDay(io.now())),
      ]);
      const screen: StatusScreen = {
        agents: agentList.agents,
        vms: vmList.vms,
        running: [...running, ...starting],
        queued,
        costToday: costPerWorker(today),
      };
      if (ctx.json) {
        return ctx.printJson({
          agents: screen.agents,
          vms: screen.vms,
          running: screen.running,
          queued: screen.queued,
          costTodayUsd: screen.costToday,
        });
      }
      ctx.print(statusView(screen, ctx.view()));
    });
}
