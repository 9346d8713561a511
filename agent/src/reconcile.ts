// Reconcile (Restart): taking charge of runs recorded as this agent's that it does not hold, by the Restart table.
import type { Run } from '@nightshift/shared';
import { lockWorker } from './claim.js';
import { decideOutcome, endingFactsOf, exitUnreadable, SESSION_CLOSED_NOTE, sessionGone } from './finish.js';
import { launchedAt } from './launch.js';
import { HeldRun, type Outcome, outcomeOf } from './lifecycle.js';
import { errorMessage, type Logger } from './log.js';
import type { Clock } from './options.js';
import { finishTail, type LaunchSpec, RUN_FILES, readExitStatus, readLaunch, readTail } from './rundir.js';
import type { Store } from './store.js';
import { emptyStreamState } from './stream.js';
import type { AgentTimings } from './timings.js';
import type { Tmux } from './tmux.js';
import { workspaceDirOf } from './workspace.js';

export interface ReconcileDeps {
  store: Store;
  tmux: Tmux;
  clock: Clock;
  log: Logger;
  timings: Pick<AgentTimings, 'minuteMs'>;
  home: string;
}

/** What can be known of a run of this agent that it does not hold. */
export interface AdoptFacts {
  status: 'starting' | 'running';
  session: string;
  dir: string;
  /** launch.json: written before the session is made, so present or unreadable means it got that far. */
  launch: 'present' | 'missing' | 'unreadable';
  exit: 'present' | 'missing' | 'unreadable';
  /** The exit file's path and why it is unreadable, when it is. */
  exitUnreadable: string | null;
  sessionAlive: boolean;
}

export type AdoptAction =
  /** The session lives: tailing resumes at the saved offset. */
  | { action: 'adopt' }
  /** The worker ended while unheld: the rest of the log is read and it is finished from exit.json. */
  | { action: 'finish' }
  /** `starting` and never launched: nothing ran, so it is launched now. */
  | { action: 'launch' }
  | { action: 'lost'; outcome: Outcome };

/** The Restart table of PROTOCOL.md (pure). */
export function adoptAction(f: AdoptFacts): AdoptAction {
  if (f.launch === 'missing') {
    if (f.status === 'starting') return { action: 'launch' };
    return {
      action: 'lost',
      outcome: outcomeOf(
        'lost',
        `the run is running but its run directory ${f.dir} has no ${RUN_FILES.launch}`,
      ),
    };
  }
  if (f.exit === 'present') return { action: 'finish' };
  // (An unreadable exit.json beside a live session is judged when the session ends.)
  if (f.sessionAlive) return { action: 'adopt' };
  if (f.exit === 'unreadable') return { action: 'lost', outcome: exitUnreadable(f.exitUnreadable ?? f.dir) };
  return { action: 'lost', outcome: sessionGone(f.session) };
}

/**
 * What a restarted agent finds of a worker that died while no agent ran: its session gone without an exit
 * status, or the worker killed by a signal (a stop or a preemption signals every process; a killed tmux
 * server hangs up on the runner) without a result. The VM went down under it: an interruption, which the
 * finish resumes by the run's settings. A session that ends while its agent runs is no interruption: someone
 * killed it, and it stays lost.
 */
export function interruptedWhileUnheld(
  held: HeldRun,
  ending: Outcome,
  exit: { signal: string | null; code: number | null; note?: string | null } | null,
): Outcome {
  if (ending.limit !== null || ending.interrupted !== null || held.tail.stream.result !== null) return ending;
  if (ending.status === 'lost' && exit === null)
    return {
      ...ending,
      interrupted: `its tmux session ${held.session} was gone without an exit status when the agent came back (the VM stopped, rebooted or was preempted)`,
    };
  if (
    ending.status !== 'failed' ||
    exit === null ||
    (exit.signal === null && exit.note !== SESSION_CLOSED_NOTE)
  )
    return ending;
  return {
    ...ending,
    interrupted: `the worker ended by ${exit.signal ?? `code ${exit.code}`} while no agent ran${exit.note === SESSION_CLOSED_NOTE ? ', its tmux session closed under it' : ''} (the VM stopped, rebooted or was preempted)`,
  };
}

/** A run taken charge of: to be held, and launched first when `launch`. */
export interface Adopted {
  held: HeldRun;
  launch: boolean;
}

/**
 * Takes charge of a run of this agent that it does not hold (on its fresh document): reads what its run
 * directory still says (an unreadable file is handled by what can still be known, with a note) and acts
 * by adoptAction(). A never-launched run's claim took the worker lock for it; the lock is checked again.
 */
export async function adoptRun(deps: ReconcileDeps, run: Run): Promise<Adopted> {
  const { store, tmux, clock } = deps;
  const held = new HeldRun(run, deps.home, deps.log);
  const notes: string[] = [];
  try {
    held.resumeTail(await readTail(held.dir));
  } catch (error) {
    // Usage is rebuilt from the log itself (assistant messages deduplicated by id, the result's totals
    // replacing the sums) and written as absolute values: reading it again from its start counts nothing
    // twice, it only costs the reread.
    held.resumeTail({ offset: 0, stream: emptyStreamState() });
    notes.push(
      `${RUN_FILES.tail} was unreadable (${errorMessage(error)}); the log is read again from its start`,
    );
  }
  let launch: LaunchSpec | null = null;
  let launchState: AdoptFacts['launch'] = 'present';
  try {
    launch = await readLaunch(held.dir);
    if (launch === null) launchState = 'missing';
  } catch (error) {
    launchState = 'unreadable';
    notes.push(`${RUN_FILES.launch} is unreadable (${errorMessage(error)}); the run's workspace is assumed`);
  }
  for (const note of notes) held.log.warn('run directory file unreadable', { note });
  const { exit, unreadable } = await readExitStatus(held.dir);
  const action = adoptAction({
    status: run.status === 'starting' ? 'starting' : 'running',
    session: held.session,
    dir: held.dir,
    launch: launchState,
    exit: exit !== null ? 'present' : unreadable !== null ? 'unreadable' : 'missing',
    exitUnreadable: unreadable,
    sessionAlive: launchState === 'missing' ? false : await tmux.hasSession(held.session),
  });

  if (launchState === 'missing') {
    if (action.action === 'lost') {
      held.finishWith(action.outcome, 'adopted without a launch spec');
      return { held, launch: false };
    }
    if (!(await lockWorker(deps, run))) {
      held.finishWith(
        outcomeOf(
          'failed',
          `worker ${run.workerId} is held by another run; this run was claimed but never launched`,
        ),
        'adopted a never-launched run whose worker is held by another',
      );
      return { held, launch: false };
    }
    held.log.warn('run was claimed but never launched; launching it');
    return { held, launch: true };
  }

  held.inWorkspace(launch?.cwd ?? workspaceDirOf(deps.home, run.workerId, held.checkout));
  // This piece's start (a later piece's launch.json says it; the run's startedAt is its first piece's).
  const pieceStart = (launch as { startedAt?: unknown } | null)?.startedAt;
  const startedMs =
    typeof pieceStart === 'string' && !Number.isNaN(Date.parse(pieceStart))
      ? Date.parse(pieceStart)
      : run.startedAt
        ? Date.parse(run.startedAt)
        : clock.now().getTime();
  const launched = launchedAt(run, startedMs, deps.timings.minuteMs);
  held.moveTo({ name: 'running', launched, resultSeenAtMs: null }, 'adopted a launched run');
  switch (action.action) {
    case 'adopt':
      if (held.tail.stream.result !== null) held.resultSeen(clock.now().getTime());
      held.log.info('adopted a live run', { offset: held.tail.offset });
      break;
    case 'finish': {
      await finishTail(held.dir, held.tail);
      const ending = decideOutcome(endingFactsOf(held), exit);
      held.finishWith(interruptedWhileUnheld(held, ending, exit), 'it ended while no agent held it');
      break;
    }
    case 'lost':
      await finishTail(held.dir, held.tail);
      held.finishWith(
        exit === null && unreadable === null
          ? interruptedWhileUnheld(held, action.outcome, null)
          : action.outcome,
        'it ended without an exit status that can be read',
      );
      break;
    case 'launch':
      throw new Error(`run ${run.id} has a launch spec and cannot be launched again`);
  }
  for (const note of notes) void store.note(run.id, note).catch(() => {});
  return { held, launch: false };
}
