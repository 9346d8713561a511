// Resume pieces: which agent holds a paused run's workspace and Claude session, and the one move that queues a waiting run at its resumeAt.
import type { MoveOptions } from './move.js';
import type { Run } from './run.js';

/**
 * The agent (its VM) that holds the workspace and the Claude session a queued or waiting run resumes, or
 * null when the run has none yet (its first piece is still to come). The agent that ran the last piece
 * recorded itself on it; a piece from before that field counts as the run's `agentId`'s, which no move
 * between the pieces clears.
 */
export function resumeHolderOf(run: Pick<Run, 'pieces' | 'agentId'>): string | null {
  const last = run.pieces.at(-1);
  if (last === undefined) return null;
  return last.agentId ?? run.agentId;
}

/**
 * `waiting → queued` at resumeAt, made alike by the scheduler tick and by the holding agent's own timer:
 * the same expected status and reason, so whichever lands first moves it and the other's precondition
 * fails.
 */
export function resumeMoveOf(run: Pick<Run, 'resumeAt' | 'pieces' | 'waits' | 'autopilot'>): MoveOptions {
  return {
    patch: { resumeAt: null },
    reason: `resumeAt ${run.resumeAt ?? '(none)'} has come: resuming (piece ${run.pieces.length + 1}, wait ${run.waits} of at most ${run.autopilot.maxWaits})`,
    expect: ['waiting'],
  };
}
