// What follows a run's status change: each reaction decides from the event (and the run, Firestore's truth)
// and is idempotent on its own, so an event delivered twice still has one effect.
import { isTerminal, type RunStatusEvent } from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import type { Github } from '../github/client.js';
import { postRunSummaryIfOwed } from '../github/feedback.js';
import { notifyRunStatus } from '../notifications/deliver.js';
import type { NotifyOptions } from '../notifications/send.js';
import { ensureCapacity } from '../vms/starter.js';
import { continueChain } from './chain.js';
import { pauseFailingSchedule } from './pause.js';

/** The collaborators the reactions need; an absent one turns its reaction off (no App or token: no GitHub comments). */
export interface Reactions {
  github: Github | null;
  /** Sends run statuses to the notification sinks that want them; absent: none are sent. */
  notifications?: NotifyOptions | null;
}

export interface ReactionOutcome {
  /** One line per reaction that looked at the event: `name: what it did`. */
  reactions: string[];
  /** A reaction failed in a way worth retrying: the message is nacked, and Pub/Sub delivers it again. */
  retry: boolean;
}

export async function react(
  deps: Deps,
  reactions: Reactions,
  event: RunStatusEvent,
): Promise<ReactionOutcome> {
  const outcome: ReactionOutcome = { reactions: [], retry: false };
  // A run waits: start a worker VM if no live agent can take it. Starts are claimed, so a redelivered
  // event starts nothing twice; a VM still stopping asks for a retry, by when it can be started.
  if (event.to === 'queued' && deps.fleet.vms.length > 0) {
    const capacity = await ensureCapacity(deps, {
      reason: `run ${event.runId} was queued`,
      runId: event.runId,
    });
    const started = capacity.decisions.filter((d) => d.action === 'started').map((d) => d.vm);
    outcome.reactions.push(
      `vm-start: ${started.length > 0 ? `started ${started.join(', ')}` : `needed ${capacity.needed}`}`,
    );
    if (capacity.retry) outcome.retry = true;
  }
  // The GitHub summary (and pull request) of a GitHub-triggered run, once it has ended. The githubFeedback
  // entry's claim makes it once per run, whoever posts it (this, a redelivery, or the tick's safety net).
  if (isTerminal(event.to) && event.trigger.type === 'github' && reactions.github !== null) {
    const attempt = await postRunSummaryIfOwed(deps, reactions.github, event.runId);
    outcome.reactions.push(`github-summary: ${attempt.result}`);
    if (attempt.result === 'failed' && attempt.retry) outcome.retry = true;
  }
  // Notifications never ask for a retry: their failures are recorded on the sink (notifications/deliver.ts).
  if (reactions.notifications) {
    outcome.reactions.push(...(await notifyRunStatus(deps, reactions.notifications, event)));
  }
  // A chain's next run, queued at once (its id comes from this run, so a redelivery queues one); a failure
  // asks for the event again, and the scheduler tick's sweep is the safety net.
  if (isTerminal(event.to)) {
    try {
      const chain = await continueChain(deps, event);
      if (chain !== null) outcome.reactions.push(`chain: ${chain}`);
    } catch (error) {
      outcome.reactions.push(`chain: failed (${(error as Error).message})`);
      outcome.retry = true;
    }
    try {
      const paused = await pauseFailingSchedule(deps, event);
      if (paused !== null) outcome.reactions.push(`schedule: ${paused}`);
    } catch (error) {
      outcome.reactions.push(`schedule: failed (${(error as Error).message})`);
      outcome.retry = true;
    }
  }
  deps.log.info('reacted to a run status event', {
    runId: event.runId,
    from: event.from,
    to: event.to,
    reactions: outcome.reactions,
  });
  return outcome;
}
