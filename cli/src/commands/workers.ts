// `nightshift workers …`: add, ls, show (with its last runs and next slot), edit, rm, enable, disable.
import { type Command, Option } from 'commander';
import { Cron } from 'croner';
import { unwrap, type Worker, type WorkerPatch, type WorkerSpec } from '../api.js';
import { Ctx, type Io } from '../context.js';
import { usageError } from '../errors.js';
import { collect, positiveInt, positiveNumber, readPromptFile } from '../parse.js';
import { workersTable, workerView } from '../views.js';

/** How many of a worker's newest runs `workers show` lists. */
const SHOW_RUNS = 5;

interface WorkerFlags {
  repo?: string;
  branch?: string;
  push?: boolean;
  workdir?: string;
  model?: string;
  prompt?: string;
  promptFile?: string;
  roadmap?: string;
  progress?: string;
  maxTurns?: number | false;
  maxBudgetUsd?: number | false;
  maxDurationMinutes?: number;
  schedule?: string | false;
  tz?: string;
  onBusy?: 'skip' | 'queue';
  github?: string | false;
  label?: string;
  allowBot?: string[];
  disabled?: boolean;
}

/** The flags `add` and `edit` share: one per field of the worker. */
function workerOptions(cmd: Command, editing: boolean): Command {
  cmd
    .option('--repo <url>', 'git repository to clone (https://, ssh://, git@host:path, file://, or a path)')
    .option('--branch <name>', 'branch to work on (default main)')
    .option('--push', 'push the branch after each run');
  if (editing) cmd.option('--no-push', 'stop pushing after runs');
  cmd
    .option('--workdir <path>', 'an existing folder on the VM to work in, instead of a clone')
    .option('--model <name>', 'model for its runs (default sonnet)')
    .option('--prompt <text>', 'instructions ({{roadmapPath}} and {{progressPath}} are filled in)')
    .option('--prompt-file <path>', 'read the instructions from a file (- for stdin)')
    .option('--roadmap <path>', 'roadmap file in the checkout (default docs/roadmap.md)')
    .option('--progress <path>', 'progress file the worker keeps (default PROGRESS.md)')
    .option('--max-turns <n>', 'most turns of one run', positiveInt)
    .option('--max-budget-usd <usd>', 'most one run may spend', positiveNumber);
  if (editing) {
    cmd.option('--no-max-turns', 'no limit on turns').option('--no-max-budget-usd', 'no limit on spending');
  }
  cmd
    .option('--max-duration-minutes <n>', 'stop a run after this long', positiveInt)
    .option('--schedule <cron>', 'start runs on this cron schedule (5 or 6 fields), e.g. "30 2 * * *"');
  if (editing) cmd.option('--no-schedule', 'remove the schedule');
  cmd
    .option('--tz <zone>', 'IANA time zone of the schedule (default UTC)')
    .addOption(
      new Option('--on-busy <what>', 'a slot while a run is active: skip it, or queue behind').choices([
        'skip',
        'queue',
      ]),
    )
    .option('--github <owner/repo>', 'start runs from issues of this GitHub repository');
  if (editing) cmd.option('--no-github', 'unbind the GitHub repository');
  cmd
    .option('--label <label>', 'the issue label that starts a run (default nightshift)')
    .option('--allow-bot <login>', 'a bot allowed to start runs by labelling (repeatable)', collect);
  return cmd;
}

async function promptOf(flags: WorkerFlags, io: Io): Promise<string | undefined> {
  if (flags.prompt !== undefined && flags.promptFile !== undefined) {
    throw usageError('give --prompt or --prompt-file, not both');
  }
  if (flags.promptFile !== undefined) return readPromptFile(flags.promptFile, io.stdin);
  return flags.prompt;
}

/** The fields both add and edit set directly from a flag. */
function plainFields(flags: WorkerFlags, prompt: string | undefined): WorkerPatch {
  const out: WorkerPatch = {};
  if (flags.model !== undefined) out.model = flags.model;
  if (prompt !== undefined) out.prompt = prompt;
  if (flags.roadmap !== undefined) out.roadmapPath = flags.roadmap;
  if (flags.progress !== undefined) out.progressPath = flags.progress;
  // false: --no-max-turns (edit only), which removes the limit.
  if (flags.maxTurns !== undefined) out.maxTurns = flags.maxTurns === false ? null : flags.maxTurns;
  if (flags.maxBudgetUsd !== undefined)
    out.maxBudgetUsd = flags.maxBudgetUsd === false ? null : flags.maxBudgetUsd;
  if (flags.maxDurationMinutes !== undefined) out.maxDurationMinutes = flags.maxDurationMinutes;
  return out;
}

/** The body of POST /v1/workers from the flags; the API fills in the defaults and checks every field. */
export async function specFromFlags(id: string, flags: WorkerFlags, io: Io): Promise<WorkerSpec> {
  if (flags.repo === undefined && (flags.branch !== undefined || flags.push !== undefined)) {
    throw usageError('--branch and --push go with --repo');
  }
  if (typeof flags.schedule !== 'string' && (flags.tz !== undefined || flags.onBusy !== undefined)) {
    throw usageError('--tz and --on-busy go with --schedule');
  }
  if (typeof flags.github !== 'string' && (flags.label !== undefined || flags.allowBot !== undefined)) {
    throw usageError('--label and --allow-bot go with --github');
  }
  const spec = { id, ...plainFields(flags, await promptOf(flags, io)) } as WorkerSpec;
  if (flags.repo !== undefined) {
    spec.repo = {
      url: flags.repo,
      ...(flags.branch !== undefined ? { branch: flags.branch } : {}),
      ...(flags.push !== undefined ? { push: flags.push } : {}),
    } as NonNullable<WorkerSpec['repo']>;
  }
  if (flags.workdir !== undefined) spec.workdir = flags.workdir;
  if (typeof flags.schedule === 'string') {
    spec.schedule = {
      cron: flags.schedule,
      ...(flags.tz !== undefined ? { timezone: flags.tz } : {}),
      ...(flags.onBusy !== undefined ? { onBusy: flags.onBusy } : {}),
    } as NonNullable<WorkerSpec['schedule']>;
  }
  if (typeof flags.github === 'string') {
    spec.github = {
      repo: flags.github,
      ...(flags.label !== undefined ? { label: flags.label } : {}),
      ...(flags.allowBot !== undefined ? { allowedBots: flags.allowBot } : {}),
    } as NonNullable<WorkerSpec['github']>;
  }
  if (flags.disabled) spec.enabled = false;
  return spec;
}

/**
 * The body of PATCH /v1/workers/:id. A nested setting (repo, schedule, github) is replaced whole by the
 * API, so a flag that changes part of one (--tz alone) is merged into the worker's current one here.
 */
export async function patchFromFlags(current: Worker, flags: WorkerFlags, io: Io): Promise<WorkerPatch> {
  const patch: WorkerPatch = { ...plainFields(flags, await promptOf(flags, io)) };
  if (flags.repo !== undefined || flags.branch !== undefined || flags.push !== undefined) {
    if (flags.repo === undefined && !current.repo) {
      throw usageError(`worker "${current.id}" has no repo: give --repo with --branch or --push`);
    }
    patch.repo = {
      ...(current.repo ?? {}),
      ...(flags.repo !== undefined ? { url: flags.repo } : {}),
      ...(flags.branch !== undefined ? { branch: flags.branch } : {}),
      ...(flags.push !== undefined ? { push: flags.push } : {}),
    } as NonNullable<WorkerPatch['repo']>;
    if (current.workdir !== undefined && flags.workdir === undefined) patch.workdir = null;
  }
  if (flags.workdir !== undefined) {
    patch.workdir = flags.workdir;
    if (current.repo && flags.repo === undefined) patch.repo = null;
  }
  if (flags.schedule === false) {
    if (flags.tz !== undefined || flags.onBusy !== undefined) {
      throw usageError('--no-schedule removes the schedule: leave out --tz and --on-busy');
    }
    patch.schedule = null;
  } else if (flags.schedule !== undefined || flags.tz !== undefined || flags.onBusy !== undefined) {
    if (flags.schedule === undefined && !current.schedule) {
      throw usageError(`worker "${current.id}" has no schedule: give --schedule with --tz or --on-busy`);
    }
    patch.schedule = {
      ...(current.schedule ?? {}),
      ...(flags.schedule !== undefined ? { cron: flags.schedule } : {}),
      ...(flags.tz !== undefined ? { timezone: flags.tz } : {}),
      ...(flags.onBusy !== undefined ? { onBusy: flags.onBusy } : {}),
    } as NonNullable<WorkerPatch['schedule']>;
  }
  if (flags.github === false) {
    if (flags.label !== undefined || flags.allowBot !== undefined) {
      throw usageError('--no-github unbinds the repository: leave out --label and --allow-bot');
    }
    patch.github = null;
  } else if (flags.github !== undefined || flags.label !== undefined || flags.allowBot !== undefined) {
    if (flags.github === undefined && !current.github) {
      throw usageError(
        `worker "${current.id}" has no GitHub binding: give --github with --label or --allow-bot`,
      );
    }
    patch.github = {
      ...(current.github ?? {}),
      ...(flags.github !== undefined ? { repo: flags.github } : {}),
      ...(flags.label !== undefined ? { label: flags.label } : {}),
      ...(flags.allowBot !== undefined ? { allowedBots: flags.allowBot } : {}),
    } as NonNullable<WorkerPatch['github']>;
  }
  if (Object.keys(patch).length === 0) throw usageError('nothing to change: give at least one option');
  return patch;
}

/** The first slot of the worker's schedule after `now`, as the scheduler reads it (croner, its zone). */
export function nextSlot(worker: Worker, now: Date): Date | null {
  if (!worker.schedule || !worker.enabled) return null;
  try {
    return new Cron(worker.schedule.cron, { timezone: worker.schedule.timezone, paused: true }).nextRun(now);
  } catch {
    return null;
  }
}

export function registerWorkers(program: Command, io: Io): void {
  const workers = program.command('workers').description('create, list, show, change and delete workers');

  workerOptions(
    workers
      .command('add')
      .description('create a worker: a checkout (--repo or --workdir) plus its instructions')
      .argument('<id>', 'worker id: lowercase letters, digits and dashes')
      .option('--disabled', 'create it disabled (no runs until enabled)'),
    false,
  ).action(async (id: string, flags: WorkerFlags, cmd: Command) => {
    const ctx = new Ctx(io, cmd);
    const api = await ctx.api();
    const body = await specFromFlags(id, flags, io);
    const worker = await unwrap(api.POST('/v1/workers', { body }));
    if (ctx.json) return ctx.printJson(worker);
    ctx.print(`created worker ${worker.id}`);
  });

  workers
    .command('ls')
    .description('list the workers')
    .action(async (_flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const list = await unwrap((await ctx.api()).GET('/v1/workers'));
      if (ctx.json) return ctx.printJson(list);
      ctx.print(workersTable(list.workers, ctx.view()));
    });

  workers
    .command('show')
    .description('show a worker, its last runs and the next slot of its schedule')
    .argument('<id>', 'worker id')
    .action(async (id: string, _flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const api = await ctx.api();
      const [worker, page] = await Promise.all([
        unwrap(api.GET('/v1/workers/{id}', { params: { path: { id } } })),
        unwrap(api.GET('/v1/runs', { params: { query: { workerId: id, limit: SHOW_RUNS } } })),
      ]);
      const now = io.now();
      const slot = nextSlot(worker, now);
      if (ctx.json) {
        return ctx.printJson({ ...worker, runs: page.runs, nextSlot: slot?.toISOString() ?? null });
      }
      ctx.print(workerView({ worker, runs: page.runs, nextSlot: slot }, ctx.view()));
    });

  workerOptions(
    workers
      .command('edit')
      .description('change a worker (only the options given; --no-schedule and --no-github remove)')
      .argument('<id>', 'worker id'),
    true,
  ).action(async (id: string, flags: WorkerFlags, cmd: Command) => {
    const ctx = new Ctx(io, cmd);
    const api = await ctx.api();
    const current = await unwrap(api.GET('/v1/workers/{id}', { params: { path: { id } } }));
    const body = await patchFromFlags(current, flags, io);
    const worker = await unwrap(api.PATCH('/v1/workers/{id}', { params: { path: { id } }, body }));
    if (ctx.json) return ctx.printJson(worker);
    ctx.print(`updated worker ${worker.id}`);
  });

  workers
    .command('rm')
    .description('delete a worker (refused while it has an active run; its runs are kept)')
    .argument('<id>', 'worker id')
    .action(async (id: string, _flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      await unwrap((await ctx.api()).DELETE('/v1/workers/{id}', { params: { path: { id } } }));
      if (ctx.json) return ctx.printJson({ id, deleted: true });
      ctx.print(`deleted worker ${id}`);
    });

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    workers
      .command(name)
      .description(
        enabled ? 'let a worker start runs again' : 'refuse new runs of a worker (its schedule pauses)',
      )
      .argument('<id>', 'worker id')
      .action(async (id: string, _flags: object, cmd: Command) => {
        const ctx = new Ctx(io, cmd);
        const api = await ctx.api();
        const worker = await unwrap(
          api.PATCH('/v1/workers/{id}', { params: { path: { id } }, body: { enabled } }),
        );
        if (ctx.json) return ctx.printJson(worker);
        ctx.print(`${enabled ? 'enabled' : 'disabled'} worker ${worker.id}`);
      });
  }
}
