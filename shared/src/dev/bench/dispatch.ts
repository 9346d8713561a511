// Dispatch and finish: runs one at a time, each timed from POST /v1/runs through its stages to its terminal write.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Api, RunDoc } from './api.js';
import { type CommitLine, firstCommit, readCommitLog } from './writes.js';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'lost']);
const RUN_TIMEOUT_MS = 60_000;

/** The moments of one run, in epoch ms, in the order of the path. */
export interface RunTimeline {
  runId: string;
  posted: number;
  /** The agent's `starting` write answered. */
  claimed: number;
  /** launch.json written: the workspace is ready. */
  workspaceReady: number;
  /** tmux new-session returned (the run's startedAt). */
  sessionStarted: number;
  /** pids.json written: the runner is up and has spawned the worker. */
  runnerUp: number;
  /** The worker process's own start (its performance.timeOrigin). */
  workerStarted: number;
  /** The agent's first progress write answered (null: none before the terminal one). */
  firstProgress: number | null;
  workerExited: number;
  /** The agent's terminal write answered. */
  terminal: number;
}

/** The stages of the path, each from one moment of the timeline to the next. */
export const STAGES = [
  { stage: 'claim (POST → starting written)', from: 'posted', to: 'claimed' },
  { stage: 'workspace (→ launch.json)', from: 'claimed', to: 'workspaceReady' },
  { stage: 'launch (→ tmux new-session returned)', from: 'workspaceReady', to: 'sessionStarted' },
  { stage: 'runner (→ runner spawned the worker)', from: 'sessionStarted', to: 'runnerUp' },
  { stage: 'worker start (→ worker process started)', from: 'runnerUp', to: 'workerStarted' },
  { stage: 'first progress write (worker started →)', from: 'workerStarted', to: 'firstProgress' },
  { stage: 'terminal write (worker exit →)', from: 'workerExited', to: 'terminal' },
] as const satisfies readonly { stage: string; from: keyof RunTimeline; to: keyof RunTimeline }[];

/** A stage's duration in a timeline; null when its end did not happen. */
export function stageMs(t: RunTimeline, s: (typeof STAGES)[number]): number | null {
  const from = t[s.from];
  const to = t[s.to];
  return typeof from === 'number' && typeof to === 'number' ? to - from : null;
}

export const dispatchMs = (t: RunTimeline) => t.workerStarted - t.posted;
export const finishMs = (t: RunTimeline) => t.terminal - t.workerExited;

const mtimeMs = async (path: string) => (await stat(path)).mtimeMs;

/** The timeline of a finished run from its markers, its run directory and the write log. */
export async function timelineOf(
  ctx: { home: string; fakeDir: string },
  run: RunDoc,
  posted: number,
  commits: readonly CommitLine[],
): Promise<RunTimeline> {
  const dir = join(ctx.home, 'runs', run.id);
  const marker = JSON.parse(await readFile(join(ctx.fakeDir, `${run.id}.bench.json`), 'utf8')) as {
    startedAtMs: number;
    exitAtMs: number;
  };
  const claimed = firstCommit(commits, run.id, 'agent', (w) => w.s === 'starting');
  const terminal = firstCommit(commits, run.id, 'agent', (w) => w.s !== undefined && TERMINAL.has(w.s));
  const progress = firstCommit(
    commits,
    run.id,
    'agent',
    (w) => w.s === undefined && (w.f?.includes('progress') ?? false),
  );
  if (claimed === null || terminal === null)
    throw new Error(`run ${run.id}: no claim or terminal write logged`);
  if (run.startedAt === null) throw new Error(`run ${run.id} has no startedAt`);
  return {
    runId: run.id,
    posted,
    claimed: claimed.t1,
    workspaceReady: await mtimeMs(join(dir, 'launch.json')),
    sessionStarted: Date.parse(run.startedAt),
    runnerUp: await mtimeMs(join(dir, 'pids.json')),
    workerStarted: marker.startedAtMs,
    firstProgress: progress !== null && progress.t1 < terminal.t0 ? progress.t1 : null,
    workerExited: marker.exitAtMs,
    terminal: terminal.t1,
  };
}

/** `runs` runs of worker `workerId`, one at a time; each lives `aliveMs`. Returns their timelines. */
export async function runDispatch(opts: {
  api: Api;
  home: string;
  fakeDir: string;
  writesLog: string;
  workerId: string;
  runs: number;
  onProgress?: (done: number) => void;
  /** Run before each run, untimed (the floor's samples, spread over the runs). */
  between?: () => Promise<void>;
}): Promise<RunTimeline[]> {
  const done: { run: RunDoc; posted: number }[] = [];
  for (let i = 0; i < opts.runs; i++) {
    await opts.between?.();
    const posted = performance.timeOrigin + performance.now();
    const run = await opts.api.call<RunDoc>('POST', '/v1/runs', { workerId: opts.workerId });
    done.push({ run: await opts.api.waitSucceeded(run.id, RUN_TIMEOUT_MS), posted });
    opts.onProgress?.(i + 1);
  }
  // The log is read once the runs are over: every commit of theirs has been answered by then.
  const commits = await readCommitLog(opts.writesLog);
  return Promise.all(done.map(({ run, posted }) => timelineOf(opts, run, posted, commits)));
}
