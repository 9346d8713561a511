// Launch: the run's workspace from its checkout snapshot (or, for a later piece, as it was left), the run directory, the tmux session, then `starting → running`.
import { createReadStream } from 'node:fs';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Run, type Usage, ZERO_USAGE } from '@nightshift/shared';
import { applyAttribution, NO_ATTRIBUTION_SETTINGS } from './attribution.js';
import { budgetAtLaunch, withPieceCap } from './day-budget.js';
import type { GitAuth } from './git-auth/credentials.js';
import { type HeldRun, type Launched, outcomeOf } from './lifecycle.js';
import { errorMessage } from './log.js';
import type { Clock } from './options.js';
import { resumesHere } from './pin.js';
import { type LaunchSpec, RUN_FILES, type TailState, writeJsonAtomic } from './rundir.js';
import type { Store } from './store.js';
import { emptyStreamState, sessionBaseOf } from './stream.js';
import type { AgentTimings } from './timings.js';
import type { Tmux } from './tmux.js';
import { clearStaleGitLocks, prepareWorkspace, workspaceDirOf } from './workspace.js';

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

/**
 * What a later piece tells the session it resumes: Claude still has the whole conversation, so only why it
 * stopped and that it goes on.
 */
export const RESUME_PROMPT =
  'nightshift resumed this session after it was paused (a usage limit or an interruption). Continue the task where you stopped.';

/** How a piece starts its Claude session: a new one under the run's id, or the one the earlier pieces made. */
export type PieceMode = 'fresh' | 'resume';

/**
 * The piece a claimed run launches next: the first starts its session, every later one resumes it where
 * the earlier pieces ran; on another agent (its holder gone, pin.ts) the piece starts afresh.
 */
export const pieceModeOf = (run: Pick<Run, 'pieces'>, agentId: string): PieceMode =>
  resumesHere(run, agentId) ? 'resume' : 'fresh';

/**
 * The worker's argv: the prompt travels as one argument, never through a shell or tmux. The run's session id
 * goes to the first piece as `--session-id` (so even a piece that died before its first message can be
 * resumed) and to every later one as `--resume`.
 */
export function workerArgs(
  run: Pick<Run, 'prompt' | 'model' | 'maxTurns' | 'maxBudgetUsd' | 'sessionId'> & {
    autopilot?: Pick<Run['autopilot'], 'attribution'>;
  },
  mode: PieceMode = 'fresh',
): string[] {
  const args = [
    '-p',
    mode === 'resume' ? RESUME_PROMPT : run.prompt,
    '--model',
    run.model,
    '--dangerously-skip-permissions',
    '--output-format',
    'stream-json',
    '--verbose',
  ];
  if (run.sessionId !== null) args.push(mode === 'resume' ? '--resume' : '--session-id', run.sessionId);
  if (run.maxTurns !== null) args.push('--max-turns', String(run.maxTurns));
  if (run.maxBudgetUsd !== null) args.push('--max-budget-usd', String(run.maxBudgetUsd));
  if ((run.autopilot?.attribution ?? 'none') === 'none') args.push('--settings', NO_ATTRIBUTION_SETTINGS);
  return args;
}

/** The parent's Claude session a follow-up forks, or null (not a follow-up, no own session id, or none known). */
const followUpSessionOf = (run: Pick<Run, 'trigger' | 'sessionId'>): string | null =>
  run.sessionId === null || run.trigger.type !== 'github'
    ? null
    : (run.trigger.followUp?.parentSessionId ?? null);

/** The parent's Claude session a follow-up's first piece resumes, or null (not a follow-up, or none known). */
export function parentSessionOf(run: Pick<Run, 'trigger' | 'pieces' | 'sessionId'>): string | null {
  return run.pieces.length > 0 ? null : followUpSessionOf(run);
}

/**
 * Whether a follow-up's pieces on this agent may all have ended before Claude stored the run's own session
 * (pure): none saw a message of it or a result with a cost (its usage came from the stream, and holds no
 * turn). Then its session is looked for in the stream log (`forkAgainOf`).
 */
export function ownSessionMaybeUnstored(
  run: Pick<Run, 'trigger' | 'pieces' | 'sessionId'>,
  agentId: string,
): boolean {
  if (run.pieces.length === 0 || followUpSessionOf(run) === null) return false;
  return run.pieces
    .filter((p) => (p.agentId ?? agentId) === agentId)
    .every((p) => (p.usageFrom ?? 'stream') === 'stream' && p.usage.turns === 0);
}

/**
 * Whether the stream log shows the session begun: its `init` message. The CLI stores the session before it
 * says so, while a resume or fork that found no conversation prints no `init` (its 0-turn result carries the
 * new id all the same, so results do not count).
 */
async function sessionBegunIn(streamPath: string, sessionId: string): Promise<boolean> {
  const input = createReadStream(streamPath, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (!line.includes(sessionId) || !line.includes('"init"')) continue;
      try {
        const m = JSON.parse(line) as { type?: unknown; subtype?: unknown; session_id?: unknown };
        if (m.type === 'system' && m.subtype === 'init' && m.session_id === sessionId) return true;
      } catch {
        // Not a JSON line: not the worker's init.
      }
    }
    return false;
  } catch {
    // No log (nothing was ever started here): nothing of the session either.
    return false;
  } finally {
    lines.close();
    input.destroy();
  }
}

/**
 * The parent's session a follow-up's later piece forks again, or null: when no piece stored the run's own
 * session (they all ended before the worker's `init`: lost with the VM, killed at its start), a resume of it
 * would find nothing and start afresh, losing the parent's conversation, which is still there to fork. Its
 * own `--session-id` is the same, which the CLI accepts since no session of it is stored.
 */
async function forkAgainOf(held: HeldRun, agentId: string): Promise<string | null> {
  const parent = followUpSessionOf(held.run);
  if (parent === null || held.run.sessionId === null || !ownSessionMaybeUnstored(held.run, agentId))
    return null;
  return (await sessionBegunIn(join(held.dir, RUN_FILES.stream), held.run.sessionId)) ? null : parent;
}

/**
 * A follow-up's first piece: the parent's conversation goes on (`--resume <parent>`), forked under the run's
 * own session id (`--fork-session --session-id`), so the run's later pieces resume the run's own session.
 */
export function followUpArgs(
  run: Pick<Run, 'prompt' | 'model' | 'maxTurns' | 'maxBudgetUsd' | 'sessionId'>,
  parentSessionId: string,
): string[] {
  const args = workerArgs(run, 'fresh');
  const at = args.indexOf('--session-id');
  if (at >= 0) args.splice(at, 0, '--resume', parentSessionId, '--fork-session');
  return args;
}

/**
 * launch.json: the worker's command, and for a resumed piece what the runner starts instead when the
 * session is not there (`No conversation found with session ID`): the run's prompt under the same id.
 */
export interface PieceLaunchSpec extends LaunchSpec {
  /** When the piece was launched (ISO): its time limit counts from here, also after an agent restart. */
  startedAt: string;
  fresh: { args: string[]; reason: string } | null;
}

/**
 * Readies the run directory for a later piece: the last piece's launch, exit and signal files go (so a
 * restart in between sees a piece never launched, not one that ended), and the tail starts at the log's
 * end with the earlier pieces' usage as its base, so usage and turns add up across pieces, and what the
 * session it resumes (or forks again) already holds as its session base.
 */
async function readyNextPiece(held: HeldRun, sessionBase: Usage, forked: boolean): Promise<void> {
  for (const name of [RUN_FILES.launch, RUN_FILES.exit, RUN_FILES.signal, RUN_FILES.pids])
    await rm(join(held.dir, name), { force: true });
  const size = await stat(join(held.dir, RUN_FILES.stream)).then(
    (s) => s.size,
    () => 0,
  );
  const tail: TailState = {
    offset: size,
    stream: { ...emptyStreamState(held.run.usage, sessionBase), ...(forked ? { forked } : {}) },
  };
  await mkdir(held.dir, { recursive: true });
  await writeJsonAtomic(join(held.dir, RUN_FILES.tail), tail);
  held.resumeTail(tail);
}

/** The launch facts of a worker that started at `startedMs`. */
export function launchedAt(
  run: Pick<Run, 'maxDurationMinutes' | 'status'>,
  startedMs: number,
  minuteMs: number,
): Launched {
  return {
    startedMs,
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
    // The piece's --max-budget-usd: the run's own cap left and the worker's day left; none left, no launch.
    const { budget, ending } = await budgetAtLaunch(store, held, clock.now());
    if (ending !== null) return held.finishWith(ending, 'nothing of the budget is left');
    const capped = withPieceCap(held.run, budget);
    const mode = pieceModeOf(held.run, store.agentId);
    // The parent's session this piece forks: a follow-up's first piece, or a later one whose own session
    // was never stored.
    let fork = parentSessionOf(held.run);
    // Taken over from a gone agent: a new session, but the usage of the earlier pieces still counts.
    if (mode === 'fresh' && held.run.pieces.length > 0)
      held.resumeTail({ offset: 0, stream: emptyStreamState(held.run.usage) });
    if (mode === 'resume') {
      // The workspace as the earlier piece left it: no fetch, no checkout, no wip commit.
      const dir = workspaceDirOf(deps.home, held.workerId, held.checkout);
      const there = await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!there) {
        held.finishWith(
          outcomeOf(
            'failed',
            `the workspace ${dir} of the run's earlier pieces is gone; the run cannot resume`,
          ),
          'the workspace to resume in is gone',
        );
        return;
      }
      held.inWorkspace(dir);
      const parentUsage = await parentUsageOf(store, held);
      fork = await forkAgainOf(held, store.agentId);
      // A fork again: its first result carries the parent's saved total alone (nothing of the run's was stored).
      await readyNextPiece(
        held,
        fork !== null ? (parentUsage ?? ZERO_USAGE) : sessionBaseOf(held.run.pieces, parentUsage),
        fork !== null,
      );
      const locks = await clearStaleGitLocks(dir);
      if (locks.length > 0)
        await store
          .note(
            held.runId,
            `removed git's stale lock files left by the interrupted piece: ${locks.join(', ')}`,
          )
          .catch(() => {});
      const last = held.run.pieces.at(-1);
      const piece = held.run.pieces.length + 1;
      await store
        .note(
          held.runId,
          fork !== null
            ? `piece ${piece}: the run's own Claude session ${held.run.sessionId} was never stored (the last piece ended: ${last?.ending ?? 'unknown'}); forking run ${held.run.parentRunId ?? 'unknown'}'s session ${fork} again as ${held.run.sessionId} in ${dir}, with the run's prompt; if the workspace no longer holds it, the piece starts afresh`
            : `piece ${piece}: resuming Claude session ${held.run.sessionId} in ${dir} (the last piece ended: ${last?.ending ?? 'unknown'})`,
        )
        .catch(() => {});
    } else {
      const prepared = await prepareWorkspace(
        deps.home,
        held.workerId,
        held.checkout,
        held.run.workBranch,
        held.runId,
        deps.gitAuth,
        held.run.trigger.type === 'github' && held.run.trigger.followUp !== undefined
          ? {
              followUp: {
                parentRunId: held.run.parentRunId,
                committedBefore: () => committedBefore(store, held.run),
              },
            }
          : {},
      );
      held.inWorkspace(prepared.dir, prepared.startCommit);
      for (const note of prepared.notes) await store.note(held.runId, note).catch(() => {});
    }
    if (held.workspace !== null) {
      const note = await applyAttribution(held.workspace, held.run.autopilot.attribution).catch(
        (error: unknown) => `attribution: the commit-msg hook could not be installed: ${errorMessage(error)}`,
      );
      if (note !== null) await store.note(held.runId, note).catch(() => {});
    }
    if (held.cancelReason !== null) {
      held.finishWith(outcomeOf('cancelled', held.cancelReason), 'cancel requested before the launch');
      return;
    }
    stage = 'launch';
    const workspace = held.workspace ?? '';
    await mkdir(held.dir, { recursive: true });
    const startedAt = clock.now();
    const parentSession = fork;
    const firstFork = parentSession !== null && held.run.pieces.length === 0;
    // The fork's first result carries the parent's saved total: the parser takes it off (Progress).
    if (firstFork) {
      const tail: TailState = {
        offset: 0,
        stream: {
          ...emptyStreamState(ZERO_USAGE, (await parentUsageOf(store, held)) ?? ZERO_USAGE),
          forked: true,
        },
      };
      await writeJsonAtomic(join(held.dir, RUN_FILES.tail), tail);
      held.resumeTail(tail);
    }
    if (firstFork)
      await store
        .note(
          held.runId,
          `follow-up of run ${held.run.parentRunId ?? 'unknown'}: resuming its Claude session ${parentSession} in ${workspace} (as session ${held.run.sessionId}); if the workspace no longer holds it, the run starts afresh with its prompt`,
        )
        .catch(() => {});
    else if (mode === 'fresh' && held.run.parentRunId !== null)
      await store
        .note(
          held.runId,
          `follow-up of run ${held.run.parentRunId}: no Claude session of it to resume; a new session`,
        )
        .catch(() => {});
    const spec: PieceLaunchSpec = {
      command: launcher.workerCommand,
      args: parentSession !== null ? followUpArgs(capped, parentSession) : workerArgs(capped, mode),
      cwd: workspace,
      env: { ...launcher.workerEnv, NIGHTSHIFT_RUN_ID: held.runId, NIGHTSHIFT_RUN_DIR: held.dir },
      startedAt: startedAt.toISOString(),
      fresh:
        parentSession !== null
          ? {
              args: workerArgs(capped, 'fresh'),
              reason: `the parent run's Claude session ${parentSession} was not found in ${workspace}; this follow-up starts afresh with its prompt`,
            }
          : mode === 'resume'
            ? {
                args: workerArgs(capped, 'fresh'),
                reason: `Claude session ${held.run.sessionId} was not found in ${workspace}; this piece starts afresh with the run's prompt under the same id`,
              }
            : null,
    };
    await writeJsonAtomic(join(held.dir, RUN_FILES.launch), spec);
    // The runner reads it as the worker user on the VM, through the run directory's shared group.
    await chmod(join(held.dir, RUN_FILES.launch), 0o640);
    await tmux.newSession(held.session, held.dir, [launcher.nodePath, launcher.runnerPath, held.dir]);
    const launched = launchedAt(held.run, startedAt.getTime(), deps.timings.minuteMs);
    held.moveTo(
      { name: 'running', launched, resultSeenAtMs: null },
      `worker launched in tmux session ${held.session} (${parentSession !== null ? "forking its parent's session" : mode === 'resume' ? 'resuming its session' : 'new session'})`,
    );
    await markRunning(store, held, startedAt.toISOString()).catch((error: unknown) =>
      held.log.warn('could not write running yet; retrying', { error: errorMessage(error) }),
    );
  } catch (error) {
    held.log.error('run could not start', { stage, error: errorMessage(error) });
    held.finishWith(outcomeOf('failed', `${stage}: ${errorMessage(error)}`), `the ${stage} failed`);
  }
}

/** Says in an event each time the runner started a resumed piece afresh (its session was not found). */
export async function noteFreshStarts(store: Store, held: HeldRun): Promise<void> {
  const starts = held.tail.stream.freshStarts ?? [];
  while (held.freshStartsNoted < starts.length) {
    const reason = starts[held.freshStartsNoted] ?? 'started afresh';
    held.freshStartSeen();
    await store.note(held.runId, reason).catch(() => {});
  }
}

/** The usage of the run's parent (a follow-up's, whose session it forked), or null: none, or not readable. */
async function parentUsageOf(store: Store, held: HeldRun): Promise<Usage | null> {
  const parentRunId = forkedFromOf(held.run);
  if (parentRunId === null) return null;
  try {
    return await sessionUsageOf(store, parentRunId, 0);
  } catch (error) {
    held.log.warn('could not read the parent run usage; its fork counts from zero', {
      error: errorMessage(error),
    });
    return null;
  }
}

/** The run a follow-up forks its session from, or null for any other run. */
const forkedFromOf = (run: Run): string | null =>
  run.parentRunId !== null && run.trigger.type === 'github' && run.trigger.followUp ? run.parentRunId : null;

/** Follow-ups of follow-ups forked this deep are still counted; a longer line is read no further. */
const FORK_DEPTH_MAX = 20;

/**
 * What the CLI's saved total of the run's session holds at its end: its pieces back to the one that began
 * the session and, when that one forked a parent's session, the parent's session total too (a follow-up
 * of a follow-up forks a session that already carries the first one's spend). A run from before pieces
 * were recorded counts by its usage alone.
 */
async function sessionUsageOf(store: Store, runId: string, depth: number): Promise<Usage | null> {
  const run = (await store.run(runId)).data();
  if (run === undefined) return null;
  if (run.pieces.length === 0) return run.usage;
  const parent = forkedFromOf(run);
  const parentTotal =
    parent !== null && depth < FORK_DEPTH_MAX ? await sessionUsageOf(store, parent, depth + 1) : null;
  return sessionBaseOf(run.pieces, parentTotal);
}

/**
 * The nearest run before a follow-up that made commits, and how many, or null when none did: its parent,
 * then, while each kept to the follow-up's branch, the runs it followed up (at most FORK_DEPTH_MAX). A run of
 * the line that is not found leaves it unknown (throws).
 */
async function committedBefore(
  store: Store,
  run: Pick<Run, 'parentRunId' | 'workBranch'>,
): Promise<{ runId: string; commits: number } | null> {
  let id = run.parentRunId;
  for (let depth = 0; id !== null && depth < FORK_DEPTH_MAX; depth++) {
    const parent = (await store.run(id)).data();
    if (parent === undefined) throw new Error(`run ${id} of its line is not found`);
    if (parent.commits.length > 0) return { runId: id, commits: parent.commits.length };
    if (parent.workBranch !== run.workBranch) return null;
    id = parent.parentRunId;
  }
  return null;
}

/** `starting → running`, once: written, or someone else moved the run on (the finish will find out which). */
export async function markRunning(store: Store, held: HeldRun, startedAt: string): Promise<void> {
  // Not launched (nothing to say) or already written.
  if (held.launched?.runningWritten !== false) return;
  const moved = await store.move(held.runId, 'running', {
    // A later piece keeps the run's first start.
    patch: {
      startedAt: held.run.startedAt ?? startedAt,
      session: held.session,
      startCommit: held.startCommit,
    },
    reason: `worker launched in tmux session ${held.session}`,
    expect: ['starting'],
  });
  if (moved.ok) held.recorded(moved.run);
  held.runningWritten();
}
