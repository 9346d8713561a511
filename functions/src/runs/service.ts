// Creating a run: the one path that API calls, schedule ticks and GitHub issues all take.
import { createHash } from 'node:crypto';
import {
  checkoutOf,
  isAlreadyExists,
  makeCommand,
  type Run,
  type RunEvent,
  RunSchema,
  renderPrompt,
  statusEvent,
  type Trigger,
  transition,
  type Worker,
} from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { conflict, notFound, unavailable } from '../core/errors.js';
import { IDEMPOTENCY_KEY_TTL_MS, PUBLISH_TIMEOUT_MS } from '../timings.js';

export interface RunOverrides {
  prompt?: string;
  model?: string;
  maxTurns?: number;
  maxBudgetUsd?: number;
}

export interface CreateRunRequest {
  workerId: string;
  trigger: Trigger;
  overrides?: RunOverrides;
  /** Text appended to the rendered prompt (e.g. an issue, inside its delimiters). */
  promptSuffix?: string;
  /**
   * A run id derived from the request (a schedule slot, a GitHub delivery): creating it a second time
   * returns the first run instead of a new one.
   */
  runId?: string;
  /** API retries: the same key and body return the same run; the same key with another body is 409. */
  idempotencyKey?: string;
  /**
   * The branch the run works on instead of the worker's own (an issue's run); the agent branches it off
   * the worker's branch and pushes it there. Made only from our own ids and numbers, validated as a branch.
   */
  workBranch?: string;
}

export interface CreateRunResult {
  run: Run;
  /** false when the request repeated an earlier one and the existing run came back. */
  created: boolean;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function loadWorker(deps: Deps, workerId: string): Promise<Worker> {
  const worker = (await deps.cols.workers.doc(workerId).get()).data();
  if (!worker) throw notFound(`worker "${workerId}" does not exist`);
  return worker;
}

/**
 * Writes the run as queued, then publishes run.start. If the publish fails the run is marked failed with
 * the reason (a run never sits queued with no command behind it) and the error is thrown as 503.
 */
export async function createRun(deps: Deps, request: CreateRunRequest): Promise<CreateRunResult> {
  const now = deps.now();
  let runId = request.runId ?? deps.newRunId(now);

  if (request.idempotencyKey !== undefined) {
    const keyRef = deps.cols.idempotencyKeys.doc(sha256(request.idempotencyKey));
    const fingerprint = sha256(
      JSON.stringify([request.workerId, request.overrides ?? {}, request.promptSuffix ?? '']),
    );
    try {
      await keyRef.create({
        runId,
        fingerprint,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + IDEMPOTENCY_KEY_TTL_MS),
      });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const earlier = (await keyRef.get()).data();
      if (earlier === undefined) throw unavailable('the Idempotency-Key is being released; try again');
      if (earlier.fingerprint !== fingerprint) {
        throw conflict('this Idempotency-Key was already used with a different request body', {
          runId: earlier.runId,
        });
      }
      runId = earlier.runId;
      const existing = (await deps.cols.runs.doc(runId).get()).data();
      if (existing) return { run: existing, created: false };
      // The earlier request stopped between the key and the run: finish its work under the same id.
    }
  }

  // After the key: a retry of a request that made its run gets that run even if the worker changed since.
  const worker = await loadWorker(deps, request.workerId);
  if (!worker.enabled) throw conflict(`worker "${worker.id}" is disabled; enable it to start runs`);

  const overrides = request.overrides ?? {};
  const prompt =
    renderPrompt(overrides.prompt ?? worker.prompt, {
      roadmapPath: worker.roadmapPath,
      progressPath: worker.progressPath,
    }) + (request.promptSuffix ?? '');
  const run = RunSchema.parse({
    id: runId,
    workerId: worker.id,
    trigger: request.trigger,
    prompt,
    model: overrides.model ?? worker.model,
    checkout: checkoutOf(worker),
    maxTurns: overrides.maxTurns ?? worker.maxTurns ?? null,
    maxBudgetUsd: overrides.maxBudgetUsd ?? worker.maxBudgetUsd ?? null,
    maxDurationMinutes: worker.maxDurationMinutes,
    workBranch: request.workBranch ?? null,
    status: 'queued',
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  });

  const runRef = deps.cols.runs.doc(run.id);
  try {
    await runRef.create(run);
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    const existing = (await runRef.get()).data();
    if (existing) return { run: existing, created: false };
    throw error;
  }
  await appendEvent(deps, statusEvent(run.id, null, 'queued', now, triggerReason(run.trigger)));

  try {
    await withTimeout(deps.publish(makeCommand('run.start', run.id, now)), PUBLISH_TIMEOUT_MS);
  } catch (error) {
    const reason = `could not publish the run.start command: ${(error as Error).message}`;
    deps.log.error(reason, { runId: run.id, workerId: run.workerId });
    const failed = await failQueuedRun(deps, run, reason);
    throw unavailable(reason, { runId: run.id, run: failed });
  }
  deps.log.info('run queued', { runId: run.id, workerId: run.workerId, trigger: run.trigger.type });
  return { run, created: true };
}

async function failQueuedRun(deps: Deps, run: Run, reason: string): Promise<Run> {
  const moved = transition(run.status, 'failed');
  if (!moved.ok) return run;
  const at = deps.now();
  const failed: Run = {
    ...run,
    status: 'failed',
    error: reason,
    finishedAt: at.toISOString(),
    updatedAt: at.toISOString(),
  };
  await deps.cols.runs.doc(run.id).set(failed);
  await appendEvent(deps, statusEvent(run.id, 'queued', 'failed', at, reason));
  return failed;
}

/** Adds an event to its run's history under its own (time-sortable) id. */
export async function appendEvent(deps: Deps, event: RunEvent): Promise<void> {
  await deps.cols.runEvents(event.runId).doc(event.id).set(event);
}

function triggerReason(trigger: Trigger): string {
  switch (trigger.type) {
    case 'api':
      return 'requested through the API';
    case 'schedule':
      return `scheduled slot ${trigger.slot}`;
    case 'github':
      return `GitHub issue ${trigger.repo}#${trigger.issue} by ${trigger.sender}`;
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Pub/Sub within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
