// `nightshift runs …`: start (and follow), ls (across pages), show, logs (and follow), cancel.
import { type Command, Option } from 'commander';
import { type Run, type RunStatus, unwrap } from '../api.js';
import { Ctx, type Io } from '../context.js';
import { usageError } from '../errors.js';
import { followRun } from '../follow.js';
import { dim } from '../format.js';
import { exitCodeOfRun } from '../outcome.js';
import { positiveInt, positiveNumber, readPromptFile } from '../parse.js';
import { eventLine, progressLine, runsTable, runView } from '../views.js';

/** The most runs the API returns in one page (functions/src/runs/list.ts MAX_PAGE_SIZE). */
const PAGE_MAX = 100;
const DEFAULT_LIMIT = 20;
/** Every status, for --status's choices; the type check fails when the API gains one this list lacks. */
const STATUSES = [
  'queued',
  'starting',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'lost',
] as const satisfies readonly RunStatus[];
const everyStatus: Exclude<RunStatus, (typeof STATUSES)[number]> extends never ? true : false = true;
void everyStatus;

/** Sets the exit code of a command that followed a run: how the run ended. */
export type SetExit = (code: number) => void;

export function registerRuns(program: Command, io: Io, setExit: SetExit): void {
  const runs = program.command('runs').description('start, list, show, follow and cancel runs');

  runs
    .command('start')
    .description('start a run of a worker (202: queued; the agent takes it)')
    .argument('<worker>', 'worker id')
    .option('--prompt <text>', "this run's instructions instead of the worker's")
    .option('--prompt-file <path>', 'read them from a file (- for stdin)')
    .option('--model <name>', "model instead of the worker's")
    .option('--max-turns <n>', 'most turns', positiveInt)
    .option('--max-budget-usd <usd>', 'most it may spend', positiveNumber)
    .option(
      '--idempotency-key <key>',
      'a retry with the same key returns the same run instead of a second one',
    )
    .option('-f, --follow', 'follow it until it ends; the exit code says how it ended')
    .action(async (workerId: string, flags: StartFlags, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const api = await ctx.api();
      if (flags.prompt !== undefined && flags.promptFile !== undefined) {
        throw usageError('give --prompt or --prompt-file, not both');
      }
      const prompt =
        flags.promptFile !== undefined ? await readPromptFile(flags.promptFile, io.stdin) : flags.prompt;
      const run = await unwrap(
        api.POST('/v1/runs', {
          body: {
            workerId,
            ...(prompt !== undefined ? { prompt } : {}),
            ...(flags.model !== undefined ? { model: flags.model } : {}),
            ...(flags.maxTurns !== undefined ? { maxTurns: flags.maxTurns } : {}),
            ...(flags.maxBudgetUsd !== undefined ? { maxBudgetUsd: flags.maxBudgetUsd } : {}),
          },
          params: { header: flags.idempotencyKey ? { 'idempotency-key': flags.idempotencyKey } : {} },
        }),
      );
      if (!flags.follow) {
        if (ctx.json) return ctx.printJson(run);
        return ctx.print(
          `queued run ${run.id} of worker ${run.workerId}; follow it: nightshift runs logs ${run.id} -f`,
        );
      }
      if (!ctx.json) ctx.print(`queued run ${run.id} of worker ${run.workerId}`);
      setExit(exitCodeOfRun((await followRun(ctx, api, run.id)).status));
    });

  runs
    .command('ls')
    .description('list runs, newest first')
    .option('-w, --worker <id>', "only this worker's")
    .addOption(new Option('-s, --status <status>', 'only runs in this status').choices([...STATUSES]))
    .option('-n, --limit <n>', `how many (default ${DEFAULT_LIMIT}; pages are followed)`, positiveInt)
    .option('-a, --all', 'every run, page after page')
    .option('--page-size <n>', `runs per API call (at most ${PAGE_MAX})`, positiveInt)
    .action(async (flags: LsFlags, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      if (flags.all && flags.limit !== undefined) throw usageError('give --limit or --all, not both');
      const api = await ctx.api();
      const want = flags.all ? Number.POSITIVE_INFINITY : (flags.limit ?? DEFAULT_LIMIT);
      const list: Run[] = [];
      let cursor: string | undefined;
      let nextCursor: string | null = null;
      do {
        const page = await unwrap(
          api.GET('/v1/runs', {
            params: {
              query: {
                ...(flags.worker ? { workerId: flags.worker } : {}),
                ...(flags.status ? { status: flags.status } : {}),
                limit: Math.min(flags.pageSize ?? PAGE_MAX, PAGE_MAX, want - list.length),
                ...(cursor ? { cursor } : {}),
              },
            },
          }),
        );
        list.push(...page.runs);
        nextCursor = page.nextCursor;
        cursor = nextCursor ?? undefined;
      } while (cursor && list.length < want);
      if (ctx.json) return ctx.printJson({ runs: list, nextCursor });
      ctx.print(runsTable(list, ctx.view()));
      if (nextCursor) ctx.print(dim(ctx.style, `more runs: --limit ${list.length + DEFAULT_LIMIT} or --all`));
    });

  runs
    .command('show')
    .description('show a run: status, usage, progress, commits, error')
    .argument('<id>', 'run id')
    .action(async (id: string, _flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const run = await unwrap((await ctx.api()).GET('/v1/runs/{id}', { params: { path: { id } } }));
      if (ctx.json) return ctx.printJson(run);
      ctx.print(runView(run, ctx.view()));
    });

  runs
    .command('logs')
    .description("a run's history: status changes and notes, then its usage and progress")
    .argument('<id>', 'run id')
    .option('-f, --follow', 'keep following until the run ends; the exit code says how it ended')
    .action(async (id: string, flags: { follow?: boolean }, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const api = await ctx.api();
      if (flags.follow) {
        setExit(exitCodeOfRun((await followRun(ctx, api, id)).status));
        return;
      }
      const [run, { events }] = await Promise.all([
        unwrap(api.GET('/v1/runs/{id}', { params: { path: { id } } })),
        unwrap(api.GET('/v1/runs/{id}/events', { params: { path: { id } } })),
      ]);
      if (ctx.json) return ctx.printJson({ events });
      for (const event of events) ctx.print(eventLine(event, ctx.view()));
      if (run.usage.turns > 0 || run.progress) ctx.print(progressLine(run, ctx.view()));
    });

  runs
    .command('cancel')
    .description('cancel a run: a queued one at once, a running one by its agent within seconds')
    .argument('<id>', 'run id')
    .option('--reason <text>', 'why (kept in its events)')
    .action(async (id: string, flags: { reason?: string }, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const api = await ctx.api();
      const result = await unwrap(
        api.POST('/v1/runs/{id}/cancel', {
          params: { path: { id } },
          body: flags.reason !== undefined ? { reason: flags.reason } : {},
        }),
      );
      if (ctx.json) return ctx.printJson(result);
      ctx.print(
        result.action === 'cancelled'
          ? `cancelled run ${id}`
          : `asked the agent to stop run ${id} (${result.run.status}); follow it: nightshift runs logs ${id} -f`,
      );
    });
}

interface StartFlags {
  prompt?: string;
  promptFile?: string;
  model?: string;
  maxTurns?: number;
  maxBudgetUsd?: number;
  idempotencyKey?: string;
  follow?: boolean;
}

interface LsFlags {
  worker?: string;
  status?: RunStatus;
  limit?: number;
  all?: boolean;
  pageSize?: number;
}
