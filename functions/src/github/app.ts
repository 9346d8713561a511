// The githubWebhook function: GitHub issue events as run requests, and the App's installation events as
// the record of which repositories it reaches (installations.ts).
// Public in the cloud; the HMAC signature (X-Hub-Signature-256, GITHUB_WEBHOOK_SECRET) is its guard, and it
// is checked over the exact raw body before anything is parsed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isAlreadyExists, type Run, type Trigger, type Worker } from '@nightshift/shared';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type * as z from 'zod';
import { functionApp } from '../core/app.js';
import type { Deps } from '../core/deps.js';
import { badRequest, HttpError, unauthorized } from '../core/errors.js';
import { problem } from '../core/problem.js';
import type { AppEnv } from '../core/request-context.js';
import { createRun } from '../runs/service.js';
import { CI_FIX_COOLDOWN_MS, CI_FIX_WINDOW_MS, DELIVERY_TTL_MS, MAX_WEBHOOK_BODY_BYTES } from '../timings.js';
import { planAnswer, queueAnswer } from './answer.js';
import { createGithub, type GithubConfig } from './client.js';
import {
  type Ignored,
  type IssueCommentPayload,
  IssueCommentPayloadSchema,
  IssuesPayloadSchema,
  type Plan,
  parseRunComment,
  planCommentEvent,
  planIssueEvent,
  type RunRequest,
  sameRepo,
} from './events.js';
import { owePostRunSummary, postQueuedComment } from './feedback.js';
import {
  CheckSuitePayloadSchema,
  type CiEvent,
  type FollowUpRequest,
  followUpOf,
  lastRunOnIssue,
  PullRequestReviewPayloadSchema,
  planCiFix,
  planPullRequestComment,
  planReview,
  WorkflowRunPayloadSchema,
} from './followups.js';
import {
  type InstallationEvent,
  InstallationPayloadSchema,
  InstallationRepositoriesPayloadSchema,
  recordInstallationEvent,
} from './installations.js';
import { buildFollowUpPrompt, buildIssuePrompt } from './prompt.js';
import { commentRunId, issueRunStem, issueWorkBranch, labelRunFor } from './run-ids.js';

export interface GithubAppConfig extends GithubConfig {
  webhookSecret: string;
  githubToken?: string;
  /** The Google Cloud project, for trace links in the logs. */
  projectId?: string;
}

const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/**
 * Whether `header` is GitHub's X-Hub-Signature-256 of `body`: the HMAC-SHA256 of the exact bytes it sent,
 * keyed with the secret. Over bytes, never decoded text: decoding replaces bytes that are not UTF-8, and
 * the signature of the text would no longer be the one GitHub made.
 */
function signatureMatches(secret: string, body: Uint8Array, header: string): boolean {
  const hex = SIGNATURE.exec(header)?.[1];
  if (hex === undefined) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/** Lenient, as Response.text() is: bytes that are not UTF-8 become U+FFFD in a body already verified. */
const utf8 = new TextDecoder('utf-8');

interface QueuedRun {
  runId: string;
  workerId: string;
  created: boolean;
}

/** One run a delivery asks for, queued once the delivery is claimed. */
interface Job {
  workerId: string;
  queue: () => Promise<QueuedRun>;
}

interface Handling {
  deliveryId: string;
  event: string;
  action: string;
  repo: string;
  /** The issue or pull request the delivery is about. */
  number: number;
  installationId: number | undefined;
  ignored: Ignored[];
  jobs: Job[];
}

/** Where a run's comments go: its pull request when it follows one up, else its issue. */
function summaryTargetOf(run: Run, fallback: number): number {
  return run.trigger.type === 'github' ? (run.trigger.pullRequest ?? run.trigger.issue) : fallback;
}

/** Lists the enabled workers bound to a repository (case-insensitive); a corrupt worker is logged and left out. */
async function workersBoundTo(deps: Deps, repo: string): Promise<Worker[]> {
  const snapshot = await deps.cols.workers.get();
  const workers: Worker[] = [];
  for (const doc of snapshot.docs) {
    try {
      const worker = doc.data();
      if (worker.enabled && worker.github && sameRepo(worker.github.repo, repo)) workers.push(worker);
    } catch (error) {
      deps.log.error('skipping a worker document that does not match its schema', {
        path: doc.ref.path,
        error: (error as Error).message,
      });
    }
  }
  return workers;
}

function parsePayload<S extends z.ZodType>(schema: S, json: unknown, event: string): z.infer<S> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new HttpError(
      400,
      'Validation Failed',
      `the ${event} payload does not have the fields nightshift reads`,
      {
        errors: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    );
  }
  return parsed.data;
}

export function createGithubApp(deps: Deps, config: GithubAppConfig): Hono<AppEnv> {
  const app = functionApp(new Hono<AppEnv>(), {
    log: deps.log,
    ...(config.projectId ? { projectId: config.projectId } : {}),
  });
  const github = createGithub(config, deps.log);

  // Before the body is read: a declared length over the limit is refused at once, a chunked body as soon
  // as it passes it; never read whole.
  const limit = bodyLimit({
    maxSize: MAX_WEBHOOK_BODY_BYTES,
    onError: (c) =>
      problem(
        c,
        413,
        `the delivery is larger than ${MAX_WEBHOOK_BODY_BYTES} bytes (25 MiB); GitHub sends no larger payload`,
      ),
  });

  app.post('/', limit, async (c) => {
    const signature = c.req.header('x-hub-signature-256');
    const deliveryId = c.req.header('x-github-delivery') ?? '';
    const event = c.req.header('x-github-event') ?? '';
    const body = new Uint8Array(await c.req.arrayBuffer());

    const valid =
      signature !== undefined && body.length > 0 && signatureMatches(config.webhookSecret, body, signature);
    if (!valid) {
      deps.log.warn('rejected a GitHub webhook delivery with a missing or wrong signature', {
        deliveryId,
        event,
        hasSignature: Boolean(signature),
      });
      throw unauthorized(
        signature
          ? 'the X-Hub-Signature-256 signature does not match the body and the webhook secret'
          : 'the X-Hub-Signature-256 header is missing',
      );
    }

    if (!DELIVERY_ID.test(deliveryId)) {
      throw badRequest('expected an X-GitHub-Delivery header (a GUID)');
    }
    if (!event) throw badRequest('expected an X-GitHub-Event header');

    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(body));
    } catch {
      throw badRequest('the body is not JSON (configure the webhook as application/json)');
    }

    if (event === 'ping') return c.json({ ok: true, event, deliveryId });
    if (event === 'installation' || event === 'installation_repositories') {
      const change: InstallationEvent =
        event === 'installation'
          ? { event, payload: parsePayload(InstallationPayloadSchema, json, event) }
          : { event, payload: parsePayload(InstallationRepositoriesPayloadSchema, json, event) };
      return installationAnswer(c, deliveryId, change);
    }
    if (event === 'pull_request_review_comment') {
      // Every review comment belongs to a review, whose pull_request_review event follows up with all of them.
      return ignore(c, deliveryId, event, [
        { reason: 'a review comment is followed up with its review (the pull_request_review event)' },
      ]);
    }
    if (event === 'check_suite' || event === 'workflow_run') {
      const ci = ciEventOf(event, json);
      const workers = await workersBoundTo(deps, ci.repo);
      if (workers.length === 0) return noWorker(c, deliveryId, event, ci.repo);
      const planned = await planCiFix(deps, github, ci, workers, {
        cooldownMs: CI_FIX_COOLDOWN_MS,
        windowMs: CI_FIX_WINDOW_MS,
      });
      return handle(c, {
        deliveryId,
        event,
        action: ci.action,
        repo: ci.repo,
        number: ci.pullRequests[0] ?? 0,
        installationId: ci.installationId,
        ignored: planned.ignored,
        jobs: planned.requests.map((request) => followUpJob(request, ci.repo, deliveryId)),
      });
    }
    if (event !== 'issues' && event !== 'issue_comment' && event !== 'pull_request_review') {
      return ignore(c, deliveryId, event, [{ reason: `event "${event}" does not start runs` }]);
    }

    if (event === 'pull_request_review') {
      const review = parsePayload(PullRequestReviewPayloadSchema, json, event);
      const repo = review.repository.full_name;
      const workers = await workersBoundTo(deps, repo);
      if (workers.length === 0) return noWorker(c, deliveryId, event, repo);
      const planned = await planReview(deps, github, review, workers);
      return handle(c, {
        deliveryId,
        event,
        action: review.action,
        repo,
        number: review.pull_request.number,
        installationId: review.installation?.id,
        ignored: planned.ignored,
        jobs: planned.requests.map((request) => followUpJob(request, repo, deliveryId)),
      });
    }

    const issuesPayload = event === 'issues' ? parsePayload(IssuesPayloadSchema, json, event) : null;
    const payload = issuesPayload ?? parsePayload(IssueCommentPayloadSchema, json, event);
    const repo = payload.repository.full_name;
    const workers = await workersBoundTo(deps, repo);
    if (workers.length === 0) return noWorker(c, deliveryId, event, repo);
    const onPullRequest =
      issuesPayload === null &&
      payload.issue.pull_request !== undefined &&
      payload.issue.pull_request !== null;
    // A comment that is no command may answer a blocked run (answer.ts).
    const commentPayload = issuesPayload === null ? (payload as IssueCommentPayload) : null;
    if (commentPayload !== null && parseRunComment(commentPayload.comment.body ?? '') === null) {
      const comment = commentPayload;
      const planned = await planAnswer(deps, github, comment, workers);
      return handle(c, {
        deliveryId,
        event,
        action: comment.action,
        repo,
        number: comment.issue.number,
        installationId: comment.installation?.id,
        ignored: planned.ignored,
        jobs: planned.requests.map((request) => ({
          workerId: request.worker.id,
          queue: () => queueAnswer(deps, request, deliveryId),
        })),
      });
    }
    if (onPullRequest) {
      const comment = payload as IssueCommentPayload;
      if (comment.action !== 'created') {
        return ignore(
          c,
          deliveryId,
          event,
          [{ reason: `issue_comment action "${comment.action}" does not start runs` }],
          repo,
        );
      }
      const planned = await planPullRequestComment(deps, github, comment, workers);
      return handle(c, {
        deliveryId,
        event,
        action: comment.action,
        repo,
        number: comment.issue.number,
        installationId: comment.installation?.id,
        ignored: planned.ignored,
        jobs: planned.requests.map((request) => followUpJob(request, repo, deliveryId)),
      });
    }
    const plan: Plan =
      issuesPayload !== null
        ? planIssueEvent(issuesPayload, workers)
        : planCommentEvent(payload as IssueCommentPayload, workers);
    return handle(c, {
      deliveryId,
      event,
      action: payload.action,
      repo,
      number: payload.issue.number,
      installationId: payload.installation?.id,
      ignored: plan.ignored,
      jobs: plan.runs.map((request) => ({
        workerId: request.worker.id,
        queue: () => queueRun(deps, request, payload, deliveryId),
      })),
    });
  });

  function ciEventOf(event: 'check_suite' | 'workflow_run', json: unknown): CiEvent {
    if (event === 'check_suite') {
      const p = parsePayload(CheckSuitePayloadSchema, json, event);
      return {
        action: p.action,
        conclusion: p.check_suite.conclusion ?? null,
        headSha: p.check_suite.head_sha,
        pullRequests: p.check_suite.pull_requests.map((pr) => pr.number),
        repo: p.repository.full_name,
        installationId: p.installation?.id,
      };
    }
    const p = parsePayload(WorkflowRunPayloadSchema, json, event);
    return {
      action: p.action,
      conclusion: p.workflow_run.conclusion ?? null,
      headSha: p.workflow_run.head_sha,
      pullRequests: p.workflow_run.pull_requests.map((pr) => pr.number),
      repo: p.repository.full_name,
      installationId: p.installation?.id,
    };
  }

  function noWorker(c: Context, deliveryId: string, event: string, repo: string): Response {
    return ignore(c, deliveryId, event, [{ reason: `no enabled worker is bound to ${repo}` }], repo);
  }

  function followUpJob(request: FollowUpRequest, repo: string, deliveryId: string): Job {
    return { workerId: request.worker.id, queue: () => queueFollowUp(deps, request, repo, deliveryId) };
  }

  /**
   * The delivery's runs, once: the first delivery of an id claims it; a later one answers duplicate and
   * queues nothing. Then the queued comment and the owed summary of each new run, on its issue or pull request.
   */
  async function handle(c: Context, d: Handling): Promise<Response> {
    const { deliveryId, event, repo } = d;
    if (d.jobs.length === 0) return ignore(c, deliveryId, event, d.ignored, repo);
    for (const entry of d.ignored) {
      deps.log.info('GitHub event ignored for a worker', { deliveryId, event, repo, ...entry });
    }
    const now = deps.now();
    const deliveryRef = deps.cols.githubDeliveries.doc(deliveryId);
    try {
      await deliveryRef.create({
        deliveryId,
        event,
        action: d.action,
        repo,
        issue: d.number,
        receivedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + DELIVERY_TTL_MS),
        runIds: [],
      });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const earlier = (await deliveryRef.get()).data();
      deps.log.info('duplicate GitHub delivery ignored', { deliveryId, event, repo });
      return c.json({ duplicate: true, deliveryId, runIds: earlier?.runIds ?? [] }, 200);
    }

    const queued: QueuedRun[] = [];
    const failed: Array<{ workerId: string; runId?: string; error: string }> = [];
    try {
      for (const job of d.jobs) {
        try {
          queued.push(await job.queue());
        } catch (error) {
          if (!(error instanceof HttpError)) throw error;
          // A run that could not be published exists as failed, with the reason; a disabled worker is told.
          failed.push({ workerId: job.workerId, runId: error.fields.runId as string, error: error.message });
          deps.log.error('could not queue a run for a GitHub event', {
            deliveryId,
            workerId: job.workerId,
            error: error.message,
          });
        }
      }
    } catch (error) {
      // Nothing was answered: let a redelivery try again (derived run ids keep it from doubling runs).
      await deliveryRef.delete().catch(() => undefined);
      throw error;
    }
    await deliveryRef.update({ runIds: queued.map((q) => q.runId), handledAt: deps.now().toISOString() });

    if (github) {
      const installationId = d.installationId;
      for (const q of queued.filter((q) => q.created)) {
        const run = (await deps.cols.runs.doc(q.runId).get()).data();
        if (!run) continue;
        await postQueuedComment(
          github,
          deps.log,
          { repo, issue: summaryTargetOf(run, d.number), installationId },
          run,
        );
        await owePostRunSummary(deps, run.id, installationId).catch((error: Error) =>
          deps.log.error('could not record the owed run summary', { runId: run.id, error: error.message }),
        );
      }
    }
    return c.json({ deliveryId, event, queued, failed, ignored: d.ignored }, 202);
  }

  async function installationAnswer(
    c: Context,
    deliveryId: string,
    change: InstallationEvent,
  ): Promise<Response> {
    const { event } = change;
    const { action, installation } = change.payload;
    const outcome = await recordInstallationEvent(deps, change, deliveryId);
    if (outcome.duplicate) {
      deps.log.info('duplicate GitHub delivery ignored', {
        deliveryId,
        event,
        installationId: installation.id,
      });
      return c.json({ duplicate: true, deliveryId }, 200);
    }
    const { applied } = outcome;
    if (applied.outcome === 'ignored') {
      return ignore(c, deliveryId, event, [{ reason: applied.reason }]);
    }
    const { record } = applied;
    deps.log.info('GitHub App installation recorded', {
      deliveryId,
      event: `${event}.${action}`,
      installationId: record.installationId,
      account: record.account.login,
      repositorySelection: record.repositorySelection,
      repositories: record.repositories.length,
      suspended: record.suspended,
      deleted: record.deleted,
    });
    return c.json({ deliveryId, event, action, installation: record }, 200);
  }

  function ignore(
    c: Context,
    deliveryId: string,
    event: string,
    ignored: Ignored[],
    repo?: string,
  ): Response {
    deps.log.info('GitHub event ignored', { deliveryId, event, repo, ignored });
    return c.json({ ignored: true, deliveryId, event, reasons: ignored }, 200);
  }

  return app;
}

async function queueRun(
  deps: Deps,
  request: RunRequest,
  payload: {
    issue: { number: number; title: string; body?: string | null };
    repository: { full_name: string };
  },
  deliveryId: string,
): Promise<QueuedRun> {
  const repo = payload.repository.full_name;
  const issue = payload.issue.number;
  const workerId = request.worker.id;
  const stem = issueRunStem(repo, issue, workerId);
  let runId: string;
  if (request.kind === 'comment' && request.comment) {
    runId = commentRunId(stem, request.comment.id);
  } else {
    const target = await labelRunFor(deps, repo, issue, workerId);
    if (target.active) return { runId: target.active.id, workerId, created: false };
    runId = target.runId;
  }
  // A `/nightshift run` on an issue that already had a run of this worker continues that run's branch.
  const parent =
    request.kind === 'comment' && request.worker.repo
      ? await lastRunOnIssue(deps, repo, issue, workerId, runId)
      : null;
  if (parent?.workBranch && request.comment) {
    // No `pullRequest`, even when the parent followed one up: it is answered on the issue, where it was
    // asked; its push still updates the pull request, which the summary names.
    return queueFollowUp(
      deps,
      {
        worker: request.worker,
        parent,
        kind: 'issue',
        sender: request.sender,
        suffix: `c${request.comment.id}`,
        number: issue,
        commentId: request.comment.id,
        text: { instructions: request.comment.extra },
      },
      repo,
      deliveryId,
      { issueOf: issue, title: payload.issue.title, body: payload.issue.body },
    );
  }
  const trigger: Trigger = {
    type: 'github',
    repo,
    issue,
    sender: request.sender,
    deliveryId,
    ...(request.comment ? { commentId: request.comment.id } : {}),
  };
  const promptSuffix = buildIssuePrompt({
    repo,
    number: issue,
    title: payload.issue.title,
    body: payload.issue.body,
    ...(request.comment ? { comment: { author: request.sender, text: request.comment.extra } } : {}),
  });
  // An issue's run works on its own branch and comes back as a pull request. A worker without a repo
  // (a workdir used as it is) has no branch of ours to make.
  const workBranch = request.worker.repo ? issueWorkBranch(stem, runId, issue, workerId) : undefined;
  const { run, created }: { run: Run; created: boolean } = await createRun(deps, {
    workerId,
    trigger,
    promptSuffix,
    runId,
    ...(workBranch ? { workBranch } : {}),
  });
  return { runId: run.id, workerId, created };
}

/**
 * Queues a follow-up: a run of the parent's worker on the parent's branch (the pull request's head), with
 * the parent's id, its Claude session to resume, and the texts that asked for it in the prompt. The run id
 * is derived from the comment, review or commit, so a redelivery or a second event of it queues nothing new.
 */
async function queueFollowUp(
  deps: Deps,
  request: FollowUpRequest,
  repo: string,
  deliveryId: string,
  issueText?: { issueOf: number; title: string; body: string | null | undefined },
): Promise<QueuedRun> {
  const workerId = request.worker.id;
  const branch = request.parent.workBranch;
  if (branch === null) throw new Error(`run ${request.parent.id} has no branch to follow up`);
  const runId = `${issueRunStem(repo, request.number, workerId)}-${request.suffix}`;
  const parentTrigger = request.parent.trigger.type === 'github' ? request.parent.trigger : null;
  const trigger: Trigger = {
    type: 'github',
    repo,
    // The issue of the whole line of runs, so a later `/nightshift run` on it finds this one.
    issue: parentTrigger?.issue ?? request.number,
    sender: request.sender,
    deliveryId,
    ...(request.commentId !== undefined ? { commentId: request.commentId } : {}),
    ...(request.pullRequest !== undefined ? { pullRequest: request.pullRequest } : {}),
    followUp: followUpOf(request),
  };
  const { text } = request;
  let promptSuffix = buildFollowUpPrompt({
    repo,
    target:
      request.pullRequest !== undefined
        ? { kind: 'pull request', number: request.pullRequest }
        : { kind: 'issue', number: request.number },
    branch,
    ...(text.instructions !== undefined
      ? { instructions: { author: request.sender, text: text.instructions } }
      : {}),
    ...(text.review ? { review: { author: request.sender, ...text.review } } : {}),
    ...(text.ci ? { ci: text.ci } : {}),
  });
  // Started afresh (no session to resume), the worker still needs the task itself.
  if (issueText)
    promptSuffix =
      buildIssuePrompt({ repo, number: issueText.issueOf, title: issueText.title, body: issueText.body }) +
      promptSuffix;
  const { run, created } = await createRun(deps, {
    workerId,
    trigger,
    promptSuffix,
    runId,
    workBranch: branch,
    parentRunId: request.parent.id,
  });
  return { runId: run.id, workerId, created };
}
