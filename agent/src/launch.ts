// Launch: the run's workspace from its checkout snapshot, the run directory, the tmux session, then `starting → running`.
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from '@nightshift/shared';
import type { GitAuth } from './git-auth/credentials.js';
import { type HeldRun, type Launched, outcomeOf } from './lifecycle.js';
import { errorMessage } from './log.js';
import type { Clock } from './options.js';
import { type LaunchSpec, RUN_FILES, writeJsonAtomic } from './rundir.js';
import type { Store } from './store.js';
import type { AgentTimings } from './timings.js';
import type { Tmux } from './tmux.js';
import { prepareWorkspace } from './workspace.js';

/** How a worker is started: the command, its extra environment, and the runner that wraps it in tmux. */
export interface Launcher {
  workerCommand: string;
  workerEnv: Record<string, string>;
  nodePath: string;
  runnerPath: string;
}

export interface LaunchDeps {
  store: Store;
  tmux: Tmux;
  clock: Clock;
  timings: Pick<AgentTimings, 'minuteMs'>;
  home: string;
  launcher: Launcher;
  /** The git credentials of the clone and fetch. */
  gitAuth: GitAuth;
}

/** The worker's argv: the prompt travels as one argument, never through a shell or tmux. */
export function workerArgs(run: Pick<Run, 'prompt' | 'model' | 'maxTurns' | 'maxBudgetUsd'>): string[] {
  const args = [
    '-p',
    run.prompt,
    '--model',
    run.model,
    '--dangerously-skip-permissions',
    '--output-format',
    'stream-json',
    '--verbose',
  ];
  if (run.maxTurns !== null) args.push('--max-turns', String(run.maxTurns));
  if (run.maxBudgetUsd !== null) args.push('--max-budget-usd', String(run.maxBudgetUsd));
  return args;
}

/** The launch facts of a worker that started at `startedMs`. */
export function launchedAt(
  run: Pick<Run, 'maxDurationMinutes' | 'status'>,
  startedMs: number,
  minuteMs: number,
): Launched {
  return {
    deadlineMs: startedMs + run.maxDurationMinutes * minuteMs,
    runningWritten: run.status === 'running',
  };
}

/**
 * Prepares the workspace and starts the session; never throws: a failure (or a cancel seen before the
 * launch) moves the run to `finishing`.
 */
export async function launchRun(deps: LaunchDeps, held: HeldRun): Promise<void> {
  const { store, tmux, clock, launcher } = deps;
  let stage = 'workspace';
  try {
    const prepared = await prepareWorkspace(
      deps.home,
      held.workerId,
      held.checkout,
      held.run.workBranch,
      held.runId,
      deps.gitAuth,
    );
    held.inWorkspace(prepared.dir, prepared.startCommit);
    for (const note of prepared.notes) await store.note(held.runId, note).catch(() => {});
    if (held.cancelReason !== null) {
      held.finishWith(outcomeOf('cancelled', held.cancelReason), 'cancel requested before the launch');
      return;
    }
    stage = 'launch';
    await mkdir(held.dir, { recursive: true });
    const spec: LaunchSpec = {
      command: launcher.workerCommand,
      args: workerArgs(held.run),
      cwd: prepared.dir,
      env: { ...launcher.workerEnv, NIGHTSHIFT_RUN_ID: held.runId, NIGHTSHIFT_RUN_DIR: held.dir },
    };
    await writeJsonAtomic(join(held.dir, RUN_FILES.launch), spec);
    // The runner reads it as the worker user on the VM, through the run directory's shared group.
    await chmod(join(held.dir, RUN_FILES.launch), 0o640);
    await tmux.newSession(held.session, held.dir, [launcher.nodePath, launcher.runnerPath, held.dir]);
    const startedAt = clock.now();
    const launched = launchedAt(held.run, startedAt.getTime(), deps.timings.minuteMs);
    held.moveTo(
      { name: 'running', launched, resultSeenAtMs: null },
      `worker launched in tmux session ${held.session}`,
    );
    await markRunning(store, held, startedAt.toISOString()).catch((error: unknown) =>
      held.log.warn('could not write running yet; retrying', { error: errorMessage(error) }),
    );
  } catch (error) {
    held.log.error('run could not start', { stage, error: errorMessage(error) });
    held.finishWith(outcomeOf('failed', `${stage}: ${errorMessage(error)}`), `the ${stage} failed`);
  }
}

/** `starting → running`, once: written, or someone else moved the run on (the finish will find out which). */
export async function markRunning(store: Store, held: HeldRun, startedAt: string): Promise<void> {
  // Not launched (nothing to say) or already written.
  if (held.launched?.runningWritten !== false) return;
  const moved = await store.move(held.runId, 'running', {
    patch: { startedAt, session: held.session, startCommit: held.startCommit },
    reason: `worker launched in tmux session ${held.session}`,
    expect: ['starting'],
  });
  if (moved.ok) held.recorded(moved.run);
  held.runningWritten();
}
