// Following a run: its new events, usage and progress as they come, a spinner on a terminal, until it ends.

import { type Client, type Run, type RunEvent, unwrap } from './api.js';
import type { Ctx } from './context.js';
import { CliError, EXIT } from './errors.js';
import { dim, duration, truncate, usd } from './format.js';
import { isTerminal } from './outcome.js';
import { FOLLOW_MAX_POLL_FAILURES, FOLLOW_POLL_MS, SPINNER_FRAME_MS } from './timings.js';
import { eventLine, progressLine, runDuration } from './views.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * The spinner's line, cut to the terminal's own width whatever --wide says: `\r` and erase-line reach only
 * the row the cursor is on, so a line that wrapped would leave its first rows behind at every redraw.
 */
export function spinnerLine(frame: string, text: string, columns: number | undefined): string {
  const line = `${frame} ${text}`;
  // One column spare: a line exactly as wide as the terminal moves some terminals' cursor to the next row.
  return columns !== undefined && columns > 2 ? truncate(line, columns - 1) : line;
}

/** One line on a terminal's stderr, redrawn in place; nothing at all elsewhere. */
class Spinner {
  private text = '';
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly ctx: Ctx) {}
  get on(): boolean {
    return this.ctx.io.stderr.isTTY === true && !this.ctx.json;
  }
  set(text: string): void {
    if (!this.on) return;
    this.text = text;
    this.timer ??= setInterval(() => this.draw(), SPINNER_FRAME_MS);
    this.draw();
  }
  private draw(): void {
    this.frame = (this.frame + 1) % FRAMES.length;
    const line = spinnerLine(
      FRAMES[this.frame] ?? '',
      dim(this.ctx.style, this.text),
      this.ctx.io.stderr.columns,
    );
    this.ctx.io.stderr.write(`\r\u001b[2K${line}`);
  }
  clear(): void {
    if (this.on && this.timer) this.ctx.io.stderr.write('\r\u001b[2K');
  }
  stop(): void {
    this.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** A poll answered with 5xx or not at all is tried again; anything else (404, 401) ends the follow. */
const retryable = (error: unknown) =>
  error instanceof CliError &&
  error.exitCode === EXIT.failure &&
  !/^(Bad Request|Conflict)/.test(error.message);

/**
 * Prints the run's events (all of them first, then each new one), a line whenever its usage or progress
 * changes, and resolves to the run once it has ended. With --json: each event, then the ended run, as
 * one JSON line each.
 */
export async function followRun(ctx: Ctx, api: Client, runId: string): Promise<Run> {
  const seen = new Set<string>();
  const spinner = new Spinner(ctx);
  let lastProgress = '';
  let failures = 0;
  const emit = (text: string) => {
    spinner.clear();
    ctx.print(text);
  };
  try {
    for (;;) {
      let run: Run;
      let events: RunEvent[];
      try {
        run = await unwrap(api.GET('/v1/runs/{id}', { params: { path: { id: runId } } }));
        ({ events } = await unwrap(api.GET('/v1/runs/{id}/events', { params: { path: { id: runId } } })));
        failures = 0;
      } catch (error) {
        if (!retryable(error) || ++failures >= FOLLOW_MAX_POLL_FAILURES) throw error;
        spinner.set(`${(error as Error).message}; trying again`);
        await ctx.io.sleep(FOLLOW_POLL_MS);
        continue;
      }
      for (const event of events) {
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        emit(ctx.json ? JSON.stringify(event) : eventLine(event, ctx.view()));
      }
      const progress = `${run.usage.turns}|${run.usage.costUsd}|${run.progress?.updatedAt ?? ''}`;
      if (progress !== lastProgress && (run.usage.turns > 0 || run.progress)) {
        lastProgress = progress;
        if (!ctx.json) emit(progressLine(run, ctx.view()));
      }
      if (isTerminal(run.status)) {
        spinner.stop();
        if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(run)}\n`);
        else ctx.print(endLine(ctx, run));
        return run;
      }
      const since = run.startedAt ?? run.createdAt;
      spinner.set(
        `${run.status} ${duration(ctx.io.now().getTime() - Date.parse(since))} · ${run.usage.turns} turns · ${usd(run.usage.costUsd)}`,
      );
      await ctx.io.sleep(FOLLOW_POLL_MS);
    }
  } finally {
    spinner.stop();
  }
}

/** The last line of a followed run: how it ended, how long it took, what it cost, and why if it failed. */
export function endLine(ctx: Ctx, run: Run): string {
  const how = `run ${run.id} ${run.status} after ${runDuration(run, ctx.io.now())}, ${run.usage.turns} turns, ${usd(run.usage.costUsd)}`;
  const commits =
    run.commits.length > 0 ? `, ${run.commits.length} commit${run.commits.length === 1 ? '' : 's'}` : '';
  return `${how}${commits}${run.error ? `: ${run.error}` : ''}`;
}
