// Heartbeat and leases: the agent's own document, the leases of the runs it holds, and the cancel poll of those runs.
import type { AgentHeartbeat, AgentState } from '@nightshift/shared';
import type { HeldRun } from './lifecycle.js';
import { errorMessage, type Logger } from './log.js';
import type { Clock } from './options.js';
import type { Store } from './store.js';
import { beginStop } from './supervise.js';
import type { AgentTimings } from './timings.js';

export interface HeartbeatDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  timings: Pick<AgentTimings, 'leaseMs' | 'heartbeatMs'>;
}

/** What the agent says about itself, but the time and the runs. */
export type AgentSelf = Omit<AgentHeartbeat, 'heartbeatAt' | 'running' | 'state'>;

/**
 * Whether a run's lease was renewed within the last heartbeat period (by a progress write, progress.ts):
 * then this beat leaves it, and the next one renews it, so a lease is never older than two beats (pure).
 */
export function leaseRenewedSinceLastBeat(
  leaseExpiresAt: string | null,
  at: Date,
  timings: Pick<AgentTimings, 'leaseMs' | 'heartbeatMs'>,
): boolean {
  if (leaseExpiresAt === null) return false;
  return Date.parse(leaseExpiresAt) - at.getTime() > timings.leaseMs - timings.heartbeatMs;
}

/** The heartbeat document (pure). */
export function heartbeatOf(self: AgentSelf, state: AgentState, running: string[], at: Date): AgentHeartbeat {
  return { ...self, state, running, heartbeatAt: at.toISOString() };
}

/**
 * Writes `agents/<id>` and renews the lease of every held run that is not finishing. A missed call is
 * logged and left for the next heartbeat; the workers keep running meanwhile. Resolves whether the
 * document was written (the idle stop's `stopping` must have been heard).
 */
export async function beat(
  deps: HeartbeatDeps,
  self: AgentSelf,
  state: AgentState,
  held: readonly HeldRun[],
): Promise<boolean> {
  const at = deps.clock.now();
  let written = false;
  try {
    await deps.store.heartbeat(
      heartbeatOf(
        self,
        state,
        held.map((h) => h.runId),
        at,
      ),
    );
    written = true;
    const lease = new Date(at.getTime() + deps.timings.leaseMs).toISOString();
    for (const run of held) {
      if (run.phase.name === 'finishing') continue;
      if (leaseRenewedSinceLastBeat(run.run.leaseExpiresAt, at, deps.timings)) continue;
      await deps.store.renewLease(run.runId, lease);
    }
  } catch (error) {
    deps.log.warn('heartbeat failed; retrying next time', { error: errorMessage(error) });
  }
  return written;
}

/** Re-reads the given held runs' documents: a cancel request becomes a stop within CANCEL_NOTICE_MS. */
export async function pollCancels(
  deps: Pick<HeartbeatDeps, 'store' | 'clock' | 'log'>,
  runs: readonly HeldRun[],
): Promise<void> {
  if (runs.length === 0) return;
  const byId = new Map(runs.map((h) => [h.runId, h]));
  try {
    for (const run of await deps.store.runs([...byId.keys()])) {
      const held = byId.get(run.id);
      if (held === undefined || run.cancelRequestedAt === null || !held.requestCancel(run.cancelReason))
        continue;
      held.log.info('cancel requested', { reason: held.cancelReason });
      if (held.phase.name === 'running') await beginStop(deps.clock, held, 'cancel');
    }
  } catch (error) {
    deps.log.warn('could not read held runs', { error: errorMessage(error) });
  }
}
