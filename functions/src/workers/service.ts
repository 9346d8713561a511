// Workers in Firestore: create once, read, patch with a precondition, delete when no run is active.
import { FieldValue } from '@google-cloud/firestore';
import {
  ACTIVE_STATUSES,
  isAlreadyExists,
  isPreconditionFailed,
  mergeWorkerPatch,
  type Worker,
  type WorkerPatch,
  type WorkerSpec,
  WorkerSpecSchema,
  workerSpecOf,
} from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { conflict, notFound, validationFailed } from '../core/errors.js';
import { type AppReach, githubHostOf, workerReach } from '../github/installations.js';
import { loadWorker } from '../runs/service.js';
import { type DaySpend, daySpendOf } from './budget.js';

/** The last slot the scheduler decided for the worker: queued, or skipped and why. */
export interface LastSlot {
  slot: string;
  outcome: 'queued' | 'skipped';
  /** The slot's run id (a skipped slot's run was never made). */
  runId: string;
  reason: string | null;
  at: string;
}

export async function createWorker(deps: Deps, spec: WorkerSpec): Promise<Worker> {
  const now = deps.now().toISOString();
  const worker: Worker = { ...spec, createdAt: now, updatedAt: now, scheduleSince: now };
  try {
    await deps.cols.workers.doc(spec.id).create(worker);
  } catch (error) {
    if (isAlreadyExists(error)) throw conflict(`worker "${spec.id}" already exists`);
    throw error;
  }
  deps.log.info('worker created', { workerId: spec.id });
  return worker;
}

export async function listWorkers(deps: Deps): Promise<Worker[]> {
  const snapshot = await deps.cols.workers.orderBy('id').get();
  return snapshot.docs.map((d) => d.data());
}

export interface WorkerReachOptions {
  /** GITHUB_APP_ID is set: say whether the App reaches the worker's repository. */
  githubAppConfigured: boolean;
  /** GITHUB_API_URL, for the host a repository URL must be on to count as GitHub's. */
  githubApiUrl?: string;
}

/**
 * The worker, with whether the GitHub App reaches its GitHub repository (`githubApp`, absent for a worker
 * with none). A failed read of the installations leaves the field out and is logged: it never fails the
 * request for the worker itself.
 */
export async function getWorkerWithReach(
  deps: Deps,
  id: string,
  options: WorkerReachOptions,
): Promise<Worker & { githubApp?: AppReach; today: DaySpend; lastSlot: LastSlot | null }> {
  const worker = await loadWorker(deps, id);
  const today = await daySpendOf(deps, worker);
  const state = (await deps.cols.scheduleState.doc(id).get()).data();
  const lastSlot: LastSlot | null = state
    ? {
        slot: state.lastSlot,
        outcome: state.outcome,
        runId: state.runId,
        reason: state.reason,
        at: state.updatedAt,
      }
    : null;
  let reach: AppReach | null = null;
  try {
    reach = await workerReach(deps, worker, {
      appConfigured: options.githubAppConfigured,
      host: githubHostOf(options.githubApiUrl),
    });
  } catch (error) {
    deps.log.error('could not read the GitHub App installations for a worker', {
      workerId: id,
      error: (error as Error).message,
    });
  }
  return reach === null ? { ...worker, today, lastSlot } : { ...worker, githubApp: reach, today, lastSlot };
}

/**
 * Applies a patch: merged with the stored spec, validated again as a whole (errors name the field), and
 * written only if the worker did not change since it was read (a concurrent patch answers 409).
 */
export async function patchWorker(deps: Deps, id: string, patch: WorkerPatch): Promise<Worker> {
  const ref = deps.cols.workers.doc(id);
  const snapshot = await ref.get();
  const current = snapshot.data();
  if (!current || !snapshot.updateTime) throw notFound(`worker "${id}" does not exist`);
  const parsed = WorkerSpecSchema.safeParse(mergeWorkerPatch(workerSpecOf(current), patch));
  if (!parsed.success) throw validationFailed(parsed.error);
  const now = deps.now().toISOString();
  // Only a new schedule, or turning the worker back on, moves the point the scheduler counts slots from.
  const scheduleChanged =
    JSON.stringify(current.schedule ?? null) !== JSON.stringify(parsed.data.schedule ?? null);
  const reEnabled = !current.enabled && parsed.data.enabled;
  const updated: Worker = {
    ...parsed.data,
    createdAt: current.createdAt,
    updatedAt: now,
    scheduleSince: scheduleChanged || reEnabled ? now : current.scheduleSince,
  };
  const fields: Record<string, unknown> = { ...updated };
  for (const key of Object.keys(current)) {
    if (!(key in updated)) fields[key] = FieldValue.delete();
  }
  try {
    await ref.update(fields, { lastUpdateTime: snapshot.updateTime });
  } catch (error) {
    if (isPreconditionFailed(error)) {
      throw conflict(`worker "${id}" changed while this patch was applied; read it again and retry`);
    }
    throw error;
  }
  deps.log.info('worker updated', { workerId: id, fields: Object.keys(patch) });
  return updated;
}

/** Deletes a worker that has no active run. Its runs stay: they are its history. */
export async function deleteWorker(deps: Deps, id: string): Promise<void> {
  const ref = deps.cols.workers.doc(id);
  const snapshot = await ref.get();
  if (!snapshot.exists) throw notFound(`worker "${id}" does not exist`);
  const active = await deps.cols.runs
    .where('workerId', '==', id)
    .where('status', 'in', [...ACTIVE_STATUSES])
    .limit(1)
    .get();
  const run = active.docs[0]?.data();
  if (run) {
    throw conflict(`worker "${id}" has an active run (${run.id} is ${run.status}); cancel it first`, {
      runId: run.id,
    });
  }
  try {
    await ref.delete({ lastUpdateTime: snapshot.updateTime! });
  } catch (error) {
    if (isPreconditionFailed(error)) {
      throw conflict(`worker "${id}" changed while it was being deleted; retry`);
    }
    throw error;
  }
  deps.log.info('worker deleted', { workerId: id });
}
