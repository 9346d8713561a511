// What follows a run's status change. Each reaction runs at most once per event, even when Pub/Sub
// delivers it twice.
import type { RunStatusEvent } from '@nightshift/shared';
import type { Deps } from '../core/deps.js';

/** The collaborators the reactions need (a GitHub client, …); absent ones turn their reaction off. */
export type Reactions = Record<string, never>;

export interface ReactionOutcome {
  reactions: string[];
}

export async function react(
  deps: Deps,
  _reactions: Reactions,
  event: RunStatusEvent,
): Promise<ReactionOutcome> {
  deps.log.info('run status event', { runId: event.runId, from: event.from, to: event.to });
  return { reactions: [] };
}
