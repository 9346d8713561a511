// Pinning: a resume piece runs on the agent (VM) whose disk holds the run's workspace and Claude session; another agent leaves it queued, unless that agent is known gone.
import { type AgentHeartbeat, type Run, resumeHolderOf } from '@nightshift/shared';
import type { Logger } from './log.js';
import type { Clock } from './options.js';
import type { Store } from './store.js';
import type { AgentTimings } from './timings.js';

/** What a claim of a queued run may do about its pin. */
export type PinVerdict =
  /** No earlier piece, or its holder is this agent: claim as usual. */
  | { kind: 'free' }
  /** Another agent holds its workspace and session: leave the run queued for it. */
  | { kind: 'elsewhere'; holder: string }
  /** Its holder has given no sign for long enough: this agent starts the piece afresh. */
  | { kind: 'orphaned'; holder: string; why: string };

export interface PinFacts {
  agentId: string;
  /** `agents/<holder>`, or undefined when there is none. */
  holderBeat: AgentHeartbeat | undefined;
  nowMs: number;
  /** How long holder and run must both be silent before the holder counts as gone. */
  holderGoneMs: number;
}

/**
 * The pin's verdict (pure). The holder is gone when neither it (its heartbeat) nor anything about the run
 * (its last write, which for a queued run is its move to `queued`) has moved for `holderGoneMs`: the
 * functions start the holder's VM as soon as the resume is queued, so a holder that can come back has
 * done so well within that time. A stopped or stale heartbeat alone says nothing: a VM that stopped while
 * its run waited out a five-hour limit is silent for hours, and is started again for the resume.
 */
export function pinVerdict(run: Pick<Run, 'pieces' | 'agentId' | 'updatedAt'>, facts: PinFacts): PinVerdict {
  const holder = resumeHolderOf(run);
  if (holder === null || holder === facts.agentId) return { kind: 'free' };
  const beatMs = facts.holderBeat ? Date.parse(facts.holderBeat.heartbeatAt) : Number.NEGATIVE_INFINITY;
  const lastSignMs = Math.max(beatMs, Date.parse(run.updatedAt));
  if (facts.nowMs - lastSignMs < facts.holderGoneMs) return { kind: 'elsewhere', holder };
  const minutes = Math.round((facts.nowMs - lastSignMs) / 60_000);
  const beat = facts.holderBeat
    ? `its last heartbeat was at ${facts.holderBeat.heartbeatAt}`
    : 'it has no heartbeat document';
  return {
    kind: 'orphaned',
    holder,
    why: `agent ${holder} has not come back for about ${minutes} minute(s) since the run was queued to resume (${beat})`,
  };
}

/**
 * Whether this agent's next piece of the run resumes its session: only where the earlier pieces ran. A
 * piece recorded before pieces named their agent counts as this agent's (the single-VM default).
 */
export function resumesHere(run: Pick<Run, 'pieces'>, agentId: string): boolean {
  const last = run.pieces.at(-1);
  return last !== undefined && (last.agentId ?? agentId) === agentId;
}

export interface PinDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  timings: Pick<AgentTimings, 'holderGoneMs'>;
}

/**
 * The claim's hook: true when this agent may claim the queued run. A run pinned to another live agent is
 * left queued, with a note once per piece; a run whose holder is gone gets a note saying its session was
 * lost with its VM, and is claimed (the launch then starts the piece afresh: `resumesHere`).
 */
export async function mayClaim(deps: PinDeps, run: Run): Promise<boolean> {
  const { store } = deps;
  const holder = resumeHolderOf(run);
  if (holder === null || holder === store.agentId) return true;
  const verdict = pinVerdict(run, {
    agentId: store.agentId,
    holderBeat: await store.agentHeartbeat(holder),
    nowMs: deps.clock.now().getTime(),
    holderGoneMs: deps.timings.holderGoneMs,
  });
  const piece = run.pieces.length + 1;
  if (verdict.kind === 'elsewhere') {
    await store
      .noteOnce(
        run.id,
        `pinned-${holder}-${piece}`,
        `not claimed by agent ${store.agentId}: piece ${piece} resumes the workspace and Claude session on agent ${holder}'s disk; the run stays queued for it`,
      )
      .catch(() => {});
    return false;
  }
  if (verdict.kind === 'orphaned') {
    deps.log.warn('taking over a resume whose agent is gone; starting it afresh', {
      runId: run.id,
      holder,
    });
    await store
      .noteOnce(
        run.id,
        `orphaned-${holder}-${piece}`,
        `the Claude session was lost with its VM: ${verdict.why}; agent ${store.agentId} starts piece ${piece} afresh with the run's prompt in a new checkout (the earlier pieces' uncommitted work and unpushed commits stay on ${holder}'s disk)`,
      )
      .catch(() => {});
  }
  return true;
}
