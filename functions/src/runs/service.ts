// Creating a run: the one path that API calls, schedule ticks and GitHub issues all take.
import { createHash } from 'node:crypto';
import {
  autopilotOf,
  checkoutOf,
  isAlreadyExists,
  makeCommand,
  newEventId,
  QUEUED_REPUBLISH_AFTER_MS,
  type Run,
  type RunEvent,
  RunSchema,
  renderPrompt,
  resumeMoveOf,
  runStatusEventOf,
  statusEvent,
  type Trigger,
  type Worker,
  withDeadline,
} from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { conflict, notFound, unavailable } from '../core/errors.js';
import { IDEMPOTENCY_KEY_TTL_MS, PUBLISH_TIMEOUT_MS } from '../timings.js';
import { admitRun, workerDay } from '../workers/budget.js';

/** Queued runs looked at per sweep for a run.start to publish again. */
const REPUBLISH_BATCH = 200;

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
  /** The run this one follows: a chain's previous run, or the run a follow-up answers. */
  parentRunId?: string;
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

/** Writes the run as queued with its status event (one batch), then publishes run.start (see dispatchRun). */
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
      tasksPath: worker.tasksPath,
    }) + (request.promptSuffix ?? '');
  const run = RunSchema.parse({
    id: runId,
    workerId: worker.id,
    trigger: request.trigger,
    prompt,
    model: overrides.model ?? worker.model,
    checkout: checkoutOf(worker),
    autopilot: autopilotOf(worker),
    maxTurns: overrides.maxTurns ?? worker.maxTurns ?? null,
    maxBudgetUsd: overrides.maxBudgetUsd ?? worker.maxBudgetUsd ?? null,
    maxDurationMinutes: worker.maxDurationMinutes,
    workBranch: request.workBranch ?? null,
    parentRunId: request.parentRunId ?? null,
    status: 'queued',
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  });

  // The run and its `queued` event in one commit (one round trip before the publish): the batch fails whole
  // when the run already exists, so a repeated request never adds a second `queued` event.
  const runRef = deps.cols.runs.doc(run.id);
  const queued = statusEvent(run.id, null, 'queued', now, triggerReason(run.trigger));
  try {
    await deps.cols.runs.firestore
      .batch()
      .create(runRef, run)
      .set(deps.cols.runEvents(run.id).doc(queued.id), queued)
      .commit();
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    const existing = (await runRef.get()).data();
    if (existing) return { run: existing, created: false };
    throw error;
  }

  // Over the worker's budget for its day: the run waits for the next day (the scheduler tick resumes it).
  // Under maxRunsPerDay it takes one of the day's run slots (create(), exact under concurrency).
  const over = await admitRun(deps, worker, run.id, now);
  if (over !== null) {
    const resumeAt = workerDay(worker, now).end.toISOString();
    const reason = `not started: ${over}; it waits for the worker's next day (${resumeAt})`;
    const moved = await deps.moveRun(run.id, 'waiting', {
      patch: { resumeAt, waitReason: reason },
      reason,
      expect: ['queued'],
    });
    if (moved.ok) {
      deps.log.info('run waits for the budget', { runId: run.id, workerId: run.workerId, resumeAt });
      return { run: moved.run, created: true };
    }
  }

  // Both go out at once: the command to the agents and the status event to the reactor.
  await Promise.all([dispatchRun(deps, run, now), announceQueued(deps, run, queued)]);
  deps.log.info('run queued', { runId: run.id, workerId: run.workerId, trigger: run.trigger.type });
  return { run, created: true };
}

/**
 * Publishes run.start for a queued run. A publish that fails or does not answer in time leaves the run
 * queued, with a note: it may still land, and an agent may already be running it, so failing the run here
 * could overwrite a live one. The scheduler tick publishes queued runs again (republishQueuedRuns), and
 * agents find queued runs on their own heartbeat scans.
 */
export async function dispatchRun(
  deps: Deps,
  run: Pick<Run, 'id' | 'workerId'>,
  now: Date,
): Promise<boolean> {
  try {
    await withDeadline(
      'publish run.start',
      PUBLISH_TIMEOUT_MS,
      deps.publish(makeCommand('run.start', run.id, now)),
    );
    return true;
  } catch (error) {
    const message = `could not publish the run.start command (${(error as Error).message}); the run stays queued and is published again by the scheduler tick`;
    deps.log.warn(message, { runId: run.id, workerId: run.workerId });
    await appendEvent(deps, {
      type: 'note',
      id: newEventId(deps.now()),
      runId: run.id,
      at: deps.now().toISOString(),
      message,
      agentId: null,
    }).catch((noteError: unknown) =>
      deps.log.warn('could not record the publish failure on the run', {
        runId: run.id,
        error: (noteError as Error).message,
      }),
    );
    return false;
  }
}

async function announceQueued(deps: Deps, run: Run, event: RunEvent): Promise<void> {
  if (event.type !== 'status') return;
  try {
    await withDeadline(
      'publish run.status',
      PUBLISH_TIMEOUT_MS,
      deps.publishStatus(runStatusEventOf(run, event)),
    );
  } catch (error) {
    deps.log.warn('could not publish the run.status event of a queued run', {
      runId: run.id,
      error: (error as Error).message,
    });
  }
}

/** What republishQueuedRuns did: the runs whose run.start went out again, and those that failed again. */
export interface RepublishResult {
  republished: string[];
  failed: string[];
}

/**
 * The sweep of the scheduler tick: publishes run.start again for every queued run untouched for
 * QUEUED_REPUBLISH_AFTER_MS (its first publish failed, the function died before it, or its agent was
 * full). A second command is harmless: agents claim a run once, whatever arrives.
 */
export async function republishQueuedRuns(deps: Deps): Promise<RepublishResult> {
  const now = deps.now();
  const before = new Date(now.getTime() - QUEUED_REPUBLISH_AFTER_MS).toISOString();
  // One field, no composite index: the age is checked here.
  const snapshot = await deps.cols.runs.where('status', '==', 'queued').limit(REPUBLISH_BATCH).get();
  const result: RepublishResult = { republished: [], failed: [] };
  for (const doc of snapshot.docs) {
    const run = doc.data();
    if (run.updatedAt > before) continue;
    if (await dispatchRun(deps, run, now)) result.republished.push(run.id);
    else result.failed.push(run.id);
  }
  if (result.republished.length > 0 || result.failed.length > 0)
    deps.log.info('republished the run.start of waiting queued runs', { ...result });
  return result;
}

/** What resumeWaitingRuns did: the runs queued again, and those whose move or publish failed. */
export interface ResumeResult {
  resumed: string[];
  failed: Array<{ runId: string; error: string }>;
}

/**
 * The scheduler tick's resume: every waiting run whose `resumeAt` has come goes back to `queued` (under a
 * precondition, so two ticks move it once) and its run.start is published through dispatchRun; the agent
 * that claims it resumes the run's Claude session in the same workspace. A publish that fails leaves it
 * queued for the republish sweep.
 */
export async function resumeWaitingRuns(deps: Deps): Promise<ResumeResult> {
  const now = deps.now();
  // One field, no composite index: the time is checked here.
  const snapshot = await deps.cols.runs.where('status', '==', 'waiting').limit(REPUBLISH_BATCH).get();
  const result: ResumeResult = { resumed: [], failed: [] };
  for (const doc of snapshot.docs) {
    const run = doc.data();
    if (run.resumeAt !== null && Date.parse(run.resumeAt) > now.getTime()) continue;
    try {
      // The same move as the holding agent's own resume timer: whichever lands first moves it.
      const moved = await deps.moveRun(run.id, 'queued', { ...resumeMoveOf(run), snapshot: doc });
      if (!moved.ok) continue; // moved on meanwhile (cancelled, or another tick)
      await dispatchRun(deps, moved.run, now);
      result.resumed.push(run.id);
    } catch (error) {
      result.failed.push({ runId: run.id, error: (error as Error).message });
    }
  }
  if (result.resumed.length > 0 || result.failed.length > 0)
    deps.log.info('resumed waiting runs', { ...result });
  return result;
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
    case 'chain':
      return `chained after run ${trigger.previousRunId}: the roadmap has open items`;
  }
}
