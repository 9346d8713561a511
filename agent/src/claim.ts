// Claim: the run and the account-wide usage limit in one read, then the worker lock's create() and `queued → starting` (under a precondition) in one commit; and which queued run to take next.
import { randomUUID } from 'node:crypto';
import type { DocumentSnapshot } from '@google-cloud/firestore';
import { isTerminal, limitHolds, type MoveOptions, type MoveResult, type Run } from '@nightshift/shared';
import type { Logger } from './log.js';
import type { Clock } from './options.js';
import { mayClaim } from './pin.js';
import type { Store } from './store.js';
import type { AgentTimings } from './timings.js';
import { sessionNameOf } from './tmux.js';

export interface ClaimDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  timings: Pick<AgentTimings, 'leaseMs' | 'holderGoneMs'>;
}

/** What one claim attempt found. */
export type ClaimAttempt =
  /** Moved to `starting` for this agent: the run is to be held and launched. */
  | { kind: 'claimed'; run: Run }
  /** Recorded as this agent's (`starting`/`running`) but not held: an earlier claim whose write landed late. */
  | { kind: 'ours'; run: Run }
  /** Not queued (duplicate, late, claimed by another, cancelled), or someone else moved it first. */
  | { kind: 'ignored' }
  /** Its worker is held by another active run: it stays queued. */
  | { kind: 'busy' }
  /** The account's usage limit holds until `until`: no run is launched before, it stays queued. */
  | { kind: 'held'; until: string }
  /** A resume whose workspace and session are on another agent's disk (pin.ts): it stays queued for it. */
  | { kind: 'pinned' }
  | { kind: 'unknown' };

/**
 * The queue scan's choice (pure): at most one run per worker, none of a worker already held, the preferred
 * worker's first (its slot just freed), then oldest first.
 */
export function queueCandidates(
  queued: readonly Run[],
  opts: { heldWorkers: ReadonlySet<string>; preferWorker?: string | undefined },
): Run[] {
  const { preferWorker } = opts;
  const ordered = [...queued].sort(
    (a, b) =>
      Number(b.workerId === preferWorker) - Number(a.workerId === preferWorker) ||
      // Code-unit order, which is time order for ISO timestamps; localeCompare would map ICU's collation
      // data (some 2.5 MB resident) for nothing.
      (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0),
  );
  const seen = new Set<string>();
  return ordered.filter((run) => {
    if (seen.has(run.workerId) || opts.heldWorkers.has(run.workerId)) return false;
    seen.add(run.workerId);
    return true;
  });
}

/** Claims a queued run (see PROTOCOL.md, Claim); the caller holds its id against concurrent copies. */
export async function claimQueued(deps: ClaimDeps, runId: string): Promise<ClaimAttempt> {
  const { store, clock } = deps;
  // One read for both: the run and the account's limit.
  const { snap, limit } = await store.runAndLimit(runId);
  const run = snap.exists ? snap.data() : undefined;
  if (run === undefined) return { kind: 'unknown' };
  if (run.agentId === store.agentId && (run.status === 'starting' || run.status === 'running'))
    return { kind: 'ours', run };
  if (run.status !== 'queued') return { kind: 'ignored' };
  if (!(await mayClaim(deps, run))) return { kind: 'pinned' };
  // A plan's limit is the account's: a run launched now would only hit the same wall.
  if (limitHolds(limit, clock.now())) {
    await store
      .noteOnce(
        runId,
        `held-${Date.parse(limit.until)}`,
        `not started yet: the account's usage limit holds until ${limit.until} (${limit.reason}); the run stays queued`,
      )
      .catch(() => {});
    return { kind: 'held', until: limit.until };
  }
  const moved = await lockAndMove(deps, run, snap);
  if (moved === 'busy') return { kind: 'busy' };
  if (!moved.ok) {
    if (moved.current && isTerminal(moved.current.status)) await store.releaseLock(run.workerId, runId);
    return { kind: 'ignored' };
  }
  return { kind: 'claimed', run: moved.run };
}

/**
 * Takes the worker's lock and moves the run `queued → starting` in one commit (Claim, step 1). When the
 * lock is there already, it is read: a lock of this very run is an earlier, half-done claim (the run is
 * moved alone), a stale one (its run terminal or missing) is replaced, any other holder means busy.
 */
async function lockAndMove(
  deps: ClaimDeps,
  run: Run,
  snap: DocumentSnapshot<Run>,
): Promise<MoveResult | 'busy'> {
  const { store, clock } = deps;
  const opts: MoveOptions = {
    patch: {
      // Chosen once, at the first claim: every piece of the run is this one Claude session.
      sessionId: run.sessionId ?? randomUUID(),
      agentId: store.agentId,
      session: sessionNameOf(run.workerId, run.id),
      leaseExpiresAt: new Date(clock.now().getTime() + deps.timings.leaseMs).toISOString(),
    },
    reason: `claimed by agent ${store.agentId}`,
    expect: ['queued'],
    snapshot: snap,
  };
  const lock = {
    workerId: run.workerId,
    runId: run.id,
    agentId: store.agentId,
    createdAt: clock.now().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    const moved = await store.claim(lock, opts);
    if (!('locked' in moved)) return moved;
    const holder = await lockHolder(deps, run);
    if (holder === 'ours') return store.move(run.id, 'starting', opts);
    if (holder === 'busy') return 'busy';
    // Stale and removed, or released meanwhile: try again.
  }
  return 'busy';
}

/**
 * Who holds the worker's lock that a create() found: this run (`ours`), an active run (`busy`), or nobody
 * any more (`free`: released meanwhile, or stale and removed here with a precondition).
 */
async function lockHolder(
  deps: Pick<ClaimDeps, 'store' | 'log'>,
  run: Run,
): Promise<'ours' | 'busy' | 'free'> {
  const { store } = deps;
  const existing = await store.readLock(run.workerId);
  const holder = existing.data();
  if (holder === undefined) return 'free';
  if (holder.runId === run.id) return 'ours';
  const other = (await store.run(holder.runId)).data();
  if (other !== undefined && !isTerminal(other.status)) return 'busy';
  deps.log.warn('removing a stale worker lock', { workerId: run.workerId, staleRunId: holder.runId });
  await store.deleteLockIfUnchanged(existing);
  return 'free';
}

/**
 * Takes `workerLocks/<workerId>` for the run. A lock of this very run is an earlier, half-done claim of it;
 * a lock of a terminal or missing run is stale and replaced; any other holder means the worker is busy.
 */
export async function lockWorker(
  deps: Pick<ClaimDeps, 'store' | 'clock' | 'log'>,
  run: Run,
): Promise<boolean> {
  const { store } = deps;
  const lock = {
    workerId: run.workerId,
    runId: run.id,
    agentId: store.agentId,
    createdAt: deps.clock.now().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await store.createLock(lock)) return true;
    const holder = await lockHolder(deps, run);
    if (holder !== 'free') return holder === 'ours';
  }
  return false;
}
