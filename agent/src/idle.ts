// When an idle agent stops its VM: the pure decision, step by step (idle → stopping → stop), driven by the heartbeat.
export type IdlePhase =
  | { name: 'busy' }
  /** Nothing held and no session alive since `sinceMs`. */
  | { name: 'idle'; sinceMs: number }
  /** Said `stopping` in its heartbeat; the queue is looked at once more before the VM is stopped. */
  | { name: 'stopping'; sinceMs: number };

export interface IdleFacts {
  /** Runs the agent holds (claimed, running or finishing). */
  heldRuns: number;
  /** Live tmux sessions of runs: a session always keeps the VM up, held or not. */
  liveSessions: number;
  nowMs: number;
  idleMs: number;
}

export type IdleAction =
  | 'none'
  /** Write `state: stopping` in the heartbeat, then scan the queue once. */
  | 'announce-stopping'
  /** The queue scan took nothing: stop the VM. */
  | 'stop-vm';

/**
 * The next phase and what to do. Work (a held run, a live session) always makes it busy again, also
 * after it announced stopping: a run claimed in that moment is taken, not stranded.
 */
export function idleStep(phase: IdlePhase, facts: IdleFacts): { phase: IdlePhase; action: IdleAction } {
  if (facts.heldRuns > 0 || facts.liveSessions > 0) return { phase: { name: 'busy' }, action: 'none' };
  switch (phase.name) {
    case 'busy':
      return { phase: { name: 'idle', sinceMs: facts.nowMs }, action: 'none' };
    case 'idle':
      return facts.nowMs - phase.sinceMs >= facts.idleMs
        ? { phase: { name: 'stopping', sinceMs: facts.nowMs }, action: 'announce-stopping' }
        : { phase, action: 'none' };
    case 'stopping':
      return { phase, action: 'stop-vm' };
  }
}
