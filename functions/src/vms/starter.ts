// Starting worker VMs when runs wait: how many are needed, which ones, and a start that happens once.
import { createHash } from 'node:crypto';
import {
  ACCOUNT_LIMIT_ID,
  ComputeError,
  isAgentAlive,
  isAlreadyExists,
  isPreconditionFailed,
  limitHolds,
  newEventId,
  type Run,
  resumeHolderOf,
  trimPeriods,
  VM_COMING_UP,
  type VmAction,
  type VmRecord,
  type VmRef,
  type VmStatus,
  vmsNeeded,
} from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { appendEvent } from '../runs/service.js';
import { VM_START_DEBOUNCE_MS } from '../timings.js';

/** Why capacity is being looked at, and for which run (its history then says what was done for it). */
export interface StartRequest {
  reason: string;
  runId: string | null;
}

/** What happened to one configured VM in one look. */
export type VmDecision =
  | { vm: string; action: 'started'; operation: string }
  | { vm: string; action: 'start_failed'; error: string; transient: boolean }
  /** Needed, but STOPPING: it can be started once TERMINATED (the caller retries). */
  | { vm: string; action: 'wait_stopping' }
  /** Another caller claimed its start a moment ago: it is on its way, counted as started. */
  | { vm: string; action: 'claimed'; why: string }
  | { vm: string; action: 'left'; why: string };

export interface CapacityOutcome {
  needed: number;
  decisions: VmDecision[];
  /** Something should be tried again soon (a VM still stopping, a transient Compute error). */
  retry: boolean;
}

/** Queued runs counted per look (more than any fleet here could take at once). */
const QUEUED_LOOK_LIMIT = 500;

/**
 * Starts the fewest stopped worker VMs that the queued runs need: one per `workersPerVm` runs that no live
 * agent has a free slot for, counting VMs already coming up. Each start is claimed first (vms/<name>
 * `startRequestedAt`, moved under a precondition), so concurrent calls start a VM once; Compute's
 * requestId, derived from the claim, makes a repeated call the same operation. Never throws for Compute's
 * answers: they come back as decisions, in the log, and as a note on the run that asked.
 */
export async function ensureCapacity(deps: Deps, request: StartRequest): Promise<CapacityOutcome> {
  const fleet = deps.fleet;
  const outcome: CapacityOutcome = { needed: 0, decisions: [], retry: false };
  if (fleet.vms.length === 0) return outcome;
  const now = deps.now();

  const [queued, agentsSnap, records, locks, limit] = await Promise.all([
    deps.cols.runs.where('status', '==', 'queued').limit(QUEUED_LOOK_LIMIT).get(),
    deps.cols.agents.get(),
    deps.cols.vms.get(),
    deps.cols.workerLocks.get(),
    deps.cols.limits.doc(ACCOUNT_LIMIT_ID).get(),
  ]);
  // The account's usage limit holds every run: a VM started now would only idle until the reset (the tick
  // starts one for the queued runs once it has passed).
  const held = limit.data();
  if (limitHolds(held, now)) {
    deps.log.info('no worker VM started: the account usage limit holds', { until: held.until });
    return outcome;
  }
  // Runs that could start now: one per worker (a worker runs one run at a time), and none of a worker
  // whose lock says its active run already holds it (that run's agent takes the next one).
  // A lock held by a queued run itself is a resumed run's (it keeps its worker while it waits).
  const queuedIds = new Set(queued.docs.map((d) => d.id));
  const busy = new Set(locks.docs.filter((d) => !queuedIds.has(d.data().runId)).map((d) => d.id));
  // A resume needs the VM whose disk holds its workspace and Claude session (its holder), not any VM; a
  // holder that is no VM of the fleet any more is gone, and its run counts like any other (pin.ts).
  const pinned = pinnedResumes(
    queued.docs.map((d) => d.data()).filter((r) => !busy.has(r.workerId)),
    new Set(fleet.vms.map((vm) => vm.name)),
  );
  const pinnedRunIds = new Set([...pinned.values()].flat().map((r) => r.id));
  const startable = new Set(
    queued.docs
      .map((d) => d.data())
      .filter((r) => !pinnedRunIds.has(r.id))
      .map((r) => r.workerId)
      .filter((w) => !busy.has(w)),
  );
  if (startable.size === 0 && pinned.size === 0) return outcome;
  const agents = agentsSnap.docs.map((d) => d.data());
  const alive = agents.filter((a) => isAgentAlive(a, now) && a.state === 'running');
  const freeSlots = alive.reduce((sum, a) => sum + Math.max(0, a.capacity - a.running.length), 0);
  const recordOf = new Map(records.docs.map((d) => [d.id, d]));

  // What each VM is doing now, as Compute says.
  const looks = await Promise.all(
    fleet.vms.map(async (vm) => {
      try {
        return { vm, status: (await fleet.compute.get(vm)).status as VmStatus, error: null };
      } catch (error) {
        return { vm, status: null, error: error as Error };
      }
    }),
  );
  const recentlyStarted = (vm: VmRef) => {
    const requested = recordOf.get(vm.name)?.data()?.startRequestedAt;
    return requested != null && now.getTime() - Date.parse(requested) < VM_START_DEBOUNCE_MS;
  };
  const hasLiveAgent = (vm: VmRef) => alive.some((a) => a.id === vm.name);
  let comingUp = 0;
  const stoppedVms: VmRef[] = [];
  const stopping: VmRef[] = [];
  for (const look of looks) {
    if (look.status === null) {
      const transient = look.error instanceof ComputeError ? look.error.transient : true;
      outcome.decisions.push({
        vm: look.vm.name,
        action: 'start_failed',
        error: look.error?.message ?? '',
        transient,
      });
      outcome.retry ||= transient;
      continue;
    }
    const up = VM_COMING_UP.includes(look.status);
    if (
      (up && !hasLiveAgent(look.vm)) ||
      ((look.status === 'TERMINATED' || look.status === 'STOPPED') && recentlyStarted(look.vm))
    ) {
      comingUp += 1;
      outcome.decisions.push({
        vm: look.vm.name,
        action: 'left',
        why: `${look.status}, its agent is on its way`,
      });
    } else if (look.status === 'TERMINATED' || look.status === 'STOPPED') stoppedVms.push(look.vm);
    else if (look.status === 'STOPPING') stopping.push(look.vm);
    else if (!up) {
      const why = `${look.status}: nightshift starts only TERMINATED or STOPPED VMs`;
      outcome.decisions.push({ vm: look.vm.name, action: 'left', why });
      deps.log.info('a worker VM is left alone', { vm: look.vm.name, status: look.status, why });
    }
  }

  // The holders of pinned resumes first: each is started if it is stopped; its free slots serve the rest.
  let pinnedSlack = 0;
  let pinnedNeeded = 0;
  for (const [name, runs] of pinned) {
    const vm = fleet.vms.find((v) => v.name === name);
    if (vm === undefined) continue;
    const firstRun = runs[0]?.id ?? null;
    const stoppedAt = stoppedVms.findIndex((v) => v.name === name);
    const stoppingAt = stopping.findIndex((v) => v.name === name);
    if (stoppedAt >= 0) {
      stoppedVms.splice(stoppedAt, 1);
      const decision = await startOnce(deps, vm, {
        reason: `${request.reason}; run ${firstRun} resumes its Claude session in its workspace on this VM`,
        runId: firstRun,
      });
      outcome.decisions.push(decision);
      pinnedNeeded += 1;
      if (decision.action === 'started' || decision.action === 'claimed')
        pinnedSlack += Math.max(0, fleet.workersPerVm - runs.length);
      if (decision.action === 'start_failed') outcome.retry ||= decision.transient;
    } else if (stoppingAt >= 0) {
      stopping.splice(stoppingAt, 1);
      pinnedNeeded += 1;
      outcome.retry = true;
      outcome.decisions.push({ vm: name, action: 'wait_stopping' });
    } else if (hasLiveAgent(vm)) {
      outcome.decisions.push({
        vm: name,
        action: 'left',
        why: 'its agent is up and takes its pinned resume',
      });
    }
  }

  const generic = vmsNeeded({
    queuedRuns: Math.max(0, startable.size - pinnedSlack),
    freeSlots,
    comingUpVms: comingUp,
    capacityPerVm: fleet.workersPerVm,
    startableVms: stoppedVms.length + stopping.length,
  });
  outcome.needed = pinnedNeeded + generic;
  let toStart = generic;
  for (const vm of stoppedVms) {
    if (toStart === 0) break;
    const decision = await startOnce(deps, vm, request);
    outcome.decisions.push(decision);
    if (decision.action === 'started' || decision.action === 'claimed') toStart -= 1;
    if (decision.action === 'start_failed') outcome.retry ||= decision.transient;
  }
  // A VM that is stopping can be started once it is TERMINATED: Compute refuses until then.
  for (const vm of stopping) {
    if (toStart === 0) break;
    toStart -= 1;
    outcome.retry = true;
    outcome.decisions.push({ vm: vm.name, action: 'wait_stopping' });
    deps.log.info('a worker VM is needed but still stopping; it is started once stopped', {
      vm: vm.name,
      reason: request.reason,
    });
  }
  return outcome;
}

/** Claims the start of one VM, asks Compute, and records what happened (vms/<name>, the log, the run). */
async function startOnce(deps: Deps, vm: VmRef, request: StartRequest): Promise<VmDecision> {
  const now = deps.now();
  const at = now.toISOString();
  const ref = deps.cols.vms.doc(vm.name);
  const snap = await ref.get();
  const record = snap.data();
  if (record?.startRequestedAt && now.getTime() - Date.parse(record.startRequestedAt) < VM_START_DEBOUNCE_MS)
    return { vm: vm.name, action: 'claimed', why: 'its start was just requested' };
  try {
    if (record === undefined || snap.updateTime === undefined) {
      await ref.create({ ...emptyRecord(vm, at), startRequestedAt: at });
    } else {
      await ref.update({ startRequestedAt: at, updatedAt: at }, { lastUpdateTime: snap.updateTime });
    }
  } catch (error) {
    if (isPreconditionFailed(error) || isAlreadyExists(error))
      return { vm: vm.name, action: 'claimed', why: 'another caller is starting it' };
    throw error;
  }
  // One claim, one requestId: a retry of this very start is the same Compute operation.
  const requestId = uuidFrom(`${vm.zone}/${vm.name}@${at}`);
  const action: VmAction = {
    at,
    reason: request.reason,
    by: 'functions',
    runId: request.runId,
    operation: null,
    error: null,
  };
  try {
    action.operation = await deps.fleet.compute.start(vm, requestId);
  } catch (error) {
    const computeError =
      error instanceof ComputeError
        ? error
        : new ComputeError(`could not start VM ${vm.name}: ${(error as Error).message}`, true);
    action.error = computeError.message;
    // The claim is given back: the next look (a retried event, the tick) tries again at once.
    await ref.update({ lastStart: action, startRequestedAt: null, updatedAt: deps.now().toISOString() });
    const log = computeError.transient ? deps.log.warn : deps.log.error;
    log.call(deps.log, 'could not start a worker VM', {
      vm: vm.name,
      reason: request.reason,
      error: action.error,
    });
    await noteOnRun(deps, request.runId, `could not start worker VM ${vm.name}: ${action.error}`);
    return { vm: vm.name, action: 'start_failed', error: action.error, transient: computeError.transient };
  }
  // The record as read for the claim: the VM was stopped then, so its agent had already recorded its stop.
  await ref.update({
    lastStart: action,
    // A period left open was ended by a stop nobody recorded: it ends at the last stop known, or now.
    periods: [
      ...trimPeriods(record?.periods ?? [], now).map((p) =>
        p.to === null ? { ...p, to: record?.lastStop?.at ?? at } : p,
      ),
      { from: at, to: null },
    ],
    updatedAt: deps.now().toISOString(),
  });
  deps.log.info('started a worker VM', { vm: vm.name, reason: request.reason, operation: action.operation });
  await noteOnRun(deps, request.runId, `started worker VM ${vm.name} for this run (${request.reason})`);
  return { vm: vm.name, action: 'started', operation: action.operation };
}

/** The queued resumes whose holder is a VM of the fleet, by that VM (pure). */
export function pinnedResumes(queued: readonly Run[], fleetVms: ReadonlySet<string>): Map<string, Run[]> {
  const byVm = new Map<string, Run[]>();
  for (const run of queued) {
    const holder = resumeHolderOf(run);
    if (holder === null || !fleetVms.has(holder)) continue;
    byVm.set(holder, [...(byVm.get(holder) ?? []), run]);
  }
  return byVm;
}

export function emptyRecord(vm: VmRef, at: string): VmRecord {
  return {
    name: vm.name,
    zone: vm.zone,
    startRequestedAt: null,
    lastStart: null,
    lastStop: null,
    periods: [],
    updatedAt: at,
  };
}

async function noteOnRun(deps: Deps, runId: string | null, message: string): Promise<void> {
  if (runId === null) return;
  const at = deps.now();
  await appendEvent(deps, {
    type: 'note',
    id: newEventId(at),
    runId,
    at: at.toISOString(),
    message,
    agentId: null,
  }).catch((error: unknown) =>
    deps.log.warn('could not note a VM start on its run', { runId, error: (error as Error).message }),
  );
}

/** A UUID (the form Compute's requestId takes) made from `text`, so the same text gives the same id. */
function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
