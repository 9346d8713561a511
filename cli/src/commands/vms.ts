// `nightshift vms ls`: the worker VMs as GET /v1/vms answers (Compute's status, agent, last start and stop, cost this month).
import type { Command } from 'commander';
import { unwrap } from '../api.js';
import { Ctx, type Io } from '../context.js';
import { vmsTable } from '../views.js';

export function registerVms(program: Command, io: Io): void {
  const vms = program.command('vms').description('the worker VMs the functions start and stop');
  vms
    .command('ls')
    .description(
      "each VM: Compute's status, its agent, last start and stop with why, hours and cost this month",
    )
    .action(async (_flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const list = await unwrap((await ctx.api()).GET('/v1/vms'));
      if (ctx.json) return ctx.printJson(list);
      ctx.print(vmsTable(list, ctx.view()));
    });
}
