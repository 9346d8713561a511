// Follow-ups: pull-request comments, reviews and failing checks on a pull request nightshift opened, and a `/nightshift run` on an issue that had a run, as runs that continue the parent's branch.
import { type FollowUp, isActive, newEventId, type Run, type Worker } from '@nightshift/shared';
import * as z from 'zod';
import type { Deps } from '../core/deps.js';
import { appendEvent } from '../runs/service.js';
import { GITHUB_REQUEST_TIMEOUT_MS } from '../timings.js';
import { CI_READ_TOKEN_PERMISSIONS, type Github } from './client.js';
import { type Ignored, isTrustedAssociation, parseRunComment, sameRepo } from './events.js';
import { MAX_CI_LOG_CHARS } from './prompt.js';

const UserSchema = z.object({ login: z.string().min(1), type: z.string() });
const RepositorySchema = z.object({ full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/) });
const InstallationRefSchema = z.object({ id: z.number().int().positive() });

const PullRequestHeadSchema = z.object({
  ref: z.string(),
  sha: z.string(),
  /** Null when the fork it came from was deleted. */
  repo: z.object({ full_name: z.string() }).nullish(),
});

export const PullRequestReviewPayloadSchema = z.object({
  action: z.string(),
  review: z.object({
    id: z.number().int(),
    state: z.string(),
    body: z.string().nullish(),
    user: UserSchema,
    author_association: z.string(),
  }),
  pull_request: z.object({ number: z.number().int().positive(), head: PullRequestHeadSchema }),
  repository: RepositorySchema,
  sender: UserSchema,
  installation: InstallationRefSchema.nullish(),
});
export type PullRequestReviewPayload = z.infer<typeof PullRequestReviewPayloadSchema>;

/** The pull request a follow-up is about: its number and its head, as GitHub reports them. */
export interface PullRequestRef {
  number: number;
  headRef: string;
  headSha: string;
  /** The repository the head branch lives in (a fork's differs); null when unknown. */
  headRepo: string | null;
}

/** One review comment as the prompt shows it. */
export interface ReviewComment {
  path: string;
  line: number | null;
  author: string;
  body: string;
}

/** What a follow-up run is asked to do, before it is queued. */
export interface FollowUpRequest {
  worker: Worker;
  parent: Run;
  kind: FollowUp['kind'];
  sender: string;
  /** What the run id adds to its stem: `c<comment id>`, `r<review id>`, `ci-<sha>`. */
  suffix: string;
  /** The issue or pull request number the run id and summary belong to. */
  number: number;
  pullRequest?: number;
  commentId?: number;
  reviewId?: number;
  headSha?: string;
  /** The text shown to the worker, all untrusted. */
  text: FollowUpText;
}

export interface FollowUpText {
  instructions?: string;
  review?: { state: string; body: string; comments: ReviewComment[] };
  ci?: CiFailure[];
}

/** A failing check of a head commit: its name, failing steps and the end of its log. */
export interface CiFailure {
  name: string;
  conclusion: string;
  summary: string;
  steps: string[];
  log: string;
}

/**
 * The run a branch's next follow-up continues: the latest run of the repository on that branch (its
 * `workBranch`, made by issueWorkBranch). Null when nightshift never worked on the branch.
 */
export async function lastRunOnBranch(deps: Deps, repo: string, branch: string): Promise<Run | null> {
  const snapshot = await deps.cols.runs.where('workBranch', '==', branch).get();
  const runs = snapshot.docs
    .map((doc) => doc.data())
    .filter((run) => run.trigger.type === 'github' && sameRepo(run.trigger.repo, repo));
  return latest(runs);
}

/** The latest run of a worker on an issue (its own or a follow-up), other than `except`; null when none. */
export async function lastRunOnIssue(
  deps: Deps,
  repo: string,
  issue: number,
  workerId: string,
  except: string,
): Promise<Run | null> {
  const snapshot = await deps.cols.runs
    .where('workerId', '==', workerId)
    .where('trigger.type', '==', 'github')
    .where('trigger.issue', '==', issue)
    .get();
  const runs = snapshot.docs
    .map((doc) => doc.data())
    .filter((run) => run.id !== except && run.trigger.type === 'github' && sameRepo(run.trigger.repo, repo));
  return latest(runs);
}

function latest(runs: Run[]): Run | null {
  return runs.reduce<Run | null>((a, b) => (a === null || b.createdAt > a.createdAt ? b : a), null);
}

/**
 * Whether a pull request is one nightshift opened and can follow up: its head branch is in the same
 * repository (never a fork's branch of the same name), a run of ours worked on it, and that run's worker is
 * still enabled and bound to the repository. Returns the parent run and worker, or why not.
 */
export async function openerOf(
  deps: Deps,
  repo: string,
  pr: PullRequestRef,
  workers: Worker[],
): Promise<{ parent: Run; worker: Worker } | Ignored> {
  if (!pr.headRef.startsWith('nightshift/'))
    return {
      reason: `pull request #${pr.number} was not opened by nightshift (its branch is not nightshift/…)`,
    };
  if (pr.headRepo === null || !sameRepo(pr.headRepo, repo))
    return { reason: `pull request #${pr.number} comes from another repository (a fork)` };
  const parent = await lastRunOnBranch(deps, repo, pr.headRef);
  if (parent === null)
    return { reason: `no nightshift run worked on ${pr.headRef}, the branch of pull request #${pr.number}` };
  const worker = workers.find((w) => w.id === parent.workerId);
  if (!worker)
    return {
      workerId: parent.workerId,
      reason: `worker "${parent.workerId}" of pull request #${pr.number} is not enabled or not bound to ${repo}`,
    };
  return { parent, worker };
}

const isIgnored = (x: { parent: Run; worker: Worker } | Ignored): x is Ignored => 'reason' in x;

const timeout = () => ({ signal: AbortSignal.timeout(GITHUB_REQUEST_TIMEOUT_MS) });

function splitRepo(repo: string): { owner: string; repo: string } {
  const [owner = '', name = ''] = repo.split('/');
  return { owner, repo: name };
}

/** The pull request of an issue_comment on a pull request (the payload has no head): asked of GitHub. */
export async function fetchPullRequest(
  github: Github,
  repo: string,
  number: number,
  installationId?: number,
): Promise<PullRequestRef> {
  const octokit = await github.forRepo(repo, { installationId });
  const { data } = await octokit.rest.pulls.get({
    ...splitRepo(repo),
    pull_number: number,
    request: timeout(),
  });
  return {
    number: data.number,
    headRef: data.head.ref,
    headSha: data.head.sha,
    headRepo: data.head.repo?.full_name ?? null,
  };
}

/** The comments of one review (file, line, text), oldest first; at most MAX_REVIEW_COMMENTS. */
export async function fetchReviewComments(
  github: Github,
  repo: string,
  pullRequest: number,
  reviewId: number,
  installationId?: number,
): Promise<ReviewComment[]> {
  const octokit = await github.forRepo(repo, { installationId });
  const { data } = await octokit.rest.pulls.listCommentsForReview({
    ...splitRepo(repo),
    pull_number: pullRequest,
    review_id: reviewId,
    per_page: MAX_REVIEW_COMMENTS,
    request: timeout(),
  });
  return data.map((c) => ({
    path: c.path,
    line: c.line ?? c.original_line ?? null,
    author: c.user?.login ?? 'unknown',
    body: c.body,
  }));
}

export const MAX_REVIEW_COMMENTS = 100;

/** A `/nightshift run` comment on a pull request: a follow-up of the run that opened it, when trusted. */
export async function planPullRequestComment(
  deps: Deps,
  github: Github | null,
  payload: {
    issue: { number: number };
    comment: {
      id: number;
      body?: string | null | undefined;
      user: { login: string };
      author_association: string;
    };
    repository: { full_name: string };
    installation?: { id: number } | null | undefined;
  },
  workers: Worker[],
): Promise<{ requests: FollowUpRequest[]; ignored: Ignored[] }> {
  const { comment, issue } = payload;
  const repo = payload.repository.full_name;
  const command = parseRunComment(comment.body ?? '');
  if (!command)
    return { requests: [], ignored: [{ reason: 'the comment is not a /nightshift run command' }] };
  if (!isTrustedAssociation(comment.author_association))
    return { requests: [], ignored: [{ reason: untrusted(comment.user.login, comment.author_association) }] };
  if (github === null)
    return {
      requests: [],
      ignored: [
        {
          reason: 'a follow-up on a pull request needs a GitHub App or GITHUB_TOKEN to read the pull request',
        },
      ],
    };
  let pr: PullRequestRef;
  try {
    pr = await fetchPullRequest(github, repo, issue.number, payload.installation?.id ?? undefined);
  } catch (error) {
    return {
      requests: [],
      ignored: [{ reason: `pull request #${issue.number} could not be read: ${(error as Error).message}` }],
    };
  }
  const opener = await openerOf(deps, repo, pr, workers);
  if (isIgnored(opener)) return { requests: [], ignored: [opener] };
  return {
    requests: [
      {
        ...opener,
        kind: 'comment',
        sender: comment.user.login,
        suffix: `c${comment.id}`,
        number: pr.number,
        pullRequest: pr.number,
        commentId: comment.id,
        text: { instructions: command.extra },
      },
    ],
    ignored: [],
  };
}

/** Review states that ask the worker to go on: changes requested, or comments. */
const FOLLOWED_REVIEW_STATES = ['changes_requested', 'commented'];

/** A submitted review asking for changes or with comments, from a trusted reviewer, on a nightshift pull request. */
export async function planReview(
  deps: Deps,
  github: Github | null,
  payload: PullRequestReviewPayload,
  workers: Worker[],
): Promise<{ requests: FollowUpRequest[]; ignored: Ignored[] }> {
  const { review, pull_request } = payload;
  const repo = payload.repository.full_name;
  const none = (reason: string) => ({ requests: [], ignored: [{ reason }] });
  if (payload.action !== 'submitted')
    return none(`pull_request_review action "${payload.action}" does not start runs`);
  const state = review.state.toLowerCase();
  if (!FOLLOWED_REVIEW_STATES.includes(state))
    return none(
      `a review with state "${review.state}" does not start runs (changes_requested or commented do)`,
    );
  if (!isTrustedAssociation(review.author_association))
    return none(untrusted(review.user.login, review.author_association));
  const pr: PullRequestRef = {
    number: pull_request.number,
    headRef: pull_request.head.ref,
    headSha: pull_request.head.sha,
    headRepo: pull_request.head.repo?.full_name ?? null,
  };
  const opener = await openerOf(deps, repo, pr, workers);
  if (isIgnored(opener)) return { requests: [], ignored: [opener] };
  const comments =
    github === null
      ? []
      : // A GitHub error leaves the review's own text; the worker can still read the pull request.
        await fetchReviewComments(
          github,
          repo,
          pr.number,
          review.id,
          payload.installation?.id ?? undefined,
        ).catch((error: Error) => {
          deps.log.warn('could not read the review comments', {
            repo,
            review: review.id,
            error: error.message,
          });
          return [];
        });
  const body = review.body?.trim() ?? '';
  if (state === 'commented' && body === '' && comments.length === 0)
    return none('the review has no comments');
  return {
    requests: [
      {
        ...opener,
        kind: 'review',
        sender: review.user.login,
        suffix: `r${review.id}`,
        number: pr.number,
        pullRequest: pr.number,
        reviewId: review.id,
        text: { review: { state, body, comments } },
      },
    ],
    ignored: [],
  };
}

const untrusted = (login: string, association: string) =>
  `"${login}" is ${association} on the repository (needs OWNER, MEMBER or COLLABORATOR)`;

/** The follow-up fields of a run: its trigger's `followUp` from the parent, and where it works. */
export function followUpOf(
  request: Pick<FollowUpRequest, 'parent' | 'kind' | 'reviewId' | 'headSha'>,
): FollowUp {
  return {
    kind: request.kind,
    parentSessionId: request.parent.sessionId,
    ...(request.reviewId !== undefined ? { reviewId: request.reviewId } : {}),
    ...(request.headSha !== undefined ? { headSha: request.headSha } : {}),
  };
}

/** Whether the worker has a run holding it (queued, starting, running, waiting, finishing). */
export async function activeRunOf(deps: Deps, workerId: string): Promise<Run | null> {
  const snapshot = await deps.cols.runs.where('workerId', '==', workerId).get();
  return snapshot.docs.map((d) => d.data()).find((run) => isActive(run.status)) ?? null;
}

const CiPullRequestSchema = z.object({ number: z.number().int().positive() });

/** `check_suite` and `workflow_run` completed: the commit, its conclusion and the pull requests it heads. */
export const CheckSuitePayloadSchema = z.object({
  action: z.string(),
  check_suite: z.object({
    conclusion: z.string().nullish(),
    head_sha: z.string(),
    pull_requests: z.array(CiPullRequestSchema).default([]),
  }),
  repository: RepositorySchema,
  installation: InstallationRefSchema.nullish(),
});
export const WorkflowRunPayloadSchema = z.object({
  action: z.string(),
  workflow_run: z.object({
    conclusion: z.string().nullish(),
    head_sha: z.string(),
    pull_requests: z.array(CiPullRequestSchema).default([]),
  }),
  repository: RepositorySchema,
  installation: InstallationRefSchema.nullish(),
});

/** What a completed check suite or workflow run says, either way. */
export interface CiEvent {
  action: string;
  conclusion: string | null;
  headSha: string;
  pullRequests: number[];
  repo: string;
  installationId: number | undefined;
}

export const FAILING_CONCLUSIONS = ['failure', 'timed_out', 'startup_failure'];
/** Failing checks shown per commit; the rest are named only. */
export const MAX_CI_CHECKS = 5;

/** The failing check runs of a commit: names, summaries, failing steps and the end of their logs (Actions jobs). */
export async function fetchCiFailures(
  github: Github,
  repo: string,
  headSha: string,
  installationId?: number,
): Promise<CiFailure[]> {
  // A read-only token of its own: checks and Actions are optional grants of the App.
  const octokit = await github.forRepo(repo, { installationId, permissions: CI_READ_TOKEN_PERMISSIONS });
  const where = splitRepo(repo);
  const { data } = await octokit.rest.checks.listForRef({
    ...where,
    ref: headSha,
    filter: 'latest',
    per_page: 100,
    request: timeout(),
  });
  const failing = data.check_runs.filter((run) => FAILING_CONCLUSIONS.includes(run.conclusion ?? ''));
  const failures: CiFailure[] = [];
  for (const check of failing.slice(0, MAX_CI_CHECKS)) {
    let steps: string[] = [];
    let log = '';
    if (check.app?.slug === 'github-actions') {
      // An Actions check run is its job: the job's steps and log are read with the same id.
      try {
        const job = await octokit.rest.actions.getJobForWorkflowRun({
          ...where,
          job_id: check.id,
          request: timeout(),
        });
        steps = (job.data.steps ?? [])
          .filter((s) => FAILING_CONCLUSIONS.includes(s.conclusion ?? ''))
          .map((s) => s.name);
        const logs = await octokit.rest.actions.downloadJobLogsForWorkflowRun({
          ...where,
          job_id: check.id,
          request: timeout(),
        });
        log = tail(String(logs.data ?? ''), MAX_CI_LOG_CHARS);
      } catch (error) {
        log = `(the job's log could not be read: ${(error as Error).message})`;
      }
    }
    failures.push({
      name: check.name,
      conclusion: check.conclusion ?? 'failure',
      summary: [check.output?.title, check.output?.summary].filter(Boolean).join('\n'),
      steps,
      log,
    });
  }
  if (failing.length > MAX_CI_CHECKS) {
    const more = failing.slice(MAX_CI_CHECKS).map((c) => c.name);
    failures.push({
      name: `${more.length} more`,
      conclusion: 'failure',
      summary: more.join(', '),
      steps: [],
      log: '',
    });
  }
  return failures;
}

/** The last `max` characters of a log, from a line start, never half a character. */
function tail(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(text.length - max);
  const start = /^[\uDC00-\uDFFF]/.test(cut) ? cut.slice(1) : cut;
  const newline = start.indexOf('\n');
  return `[…the log is cut: its last ${max} characters]\n${newline >= 0 ? start.slice(newline + 1) : start}`;
}

/**
 * Failing checks on the head commit of a pull request nightshift opened: a CI fix follow-up, unless the
 * worker's `ciFixes` is off, its cap for the pull request in the last 24 hours is reached, the last CI fix
 * of the pull request is under CI_FIX_COOLDOWN_MS old, or another run of the worker is active. A cap or
 * a busy worker is said in the parent run's events too.
 */
export async function planCiFix(
  deps: Deps,
  github: Github | null,
  ci: CiEvent,
  workers: Worker[],
  limits: { cooldownMs: number; windowMs: number },
): Promise<{ requests: FollowUpRequest[]; ignored: Ignored[] }> {
  const none = (reason: string, workerId?: string) => ({
    requests: [],
    ignored: [{ ...(workerId ? { workerId } : {}), reason }],
  });
  if (ci.action !== 'completed') return none(`action "${ci.action}" does not start runs`);
  if (!FAILING_CONCLUSIONS.includes(ci.conclusion ?? ''))
    return none(`conclusion "${ci.conclusion}" needs no fix`);
  if (ci.pullRequests.length === 0)
    return none(`commit ${ci.headSha} heads no pull request of this repository`);
  if (github === null) return none('a CI fix needs a GitHub App or GITHUB_TOKEN to read the checks');
  const requests: FollowUpRequest[] = [];
  const ignored: Ignored[] = [];
  for (const number of ci.pullRequests) {
    const pr = await fetchPullRequest(github, ci.repo, number, ci.installationId).catch((error: Error) => {
      ignored.push({ reason: `pull request #${number} could not be read: ${error.message}` });
      return null;
    });
    if (pr === null) continue;
    if (pr.headSha !== ci.headSha) {
      ignored.push({ reason: `commit ${ci.headSha} is no longer the head of pull request #${number}` });
      continue;
    }
    const opener = await openerOf(deps, ci.repo, pr, workers);
    if (isIgnored(opener)) {
      ignored.push(opener);
      continue;
    }
    const { worker, parent } = opener;
    const stop = async (reason: string) => {
      ignored.push({ workerId: worker.id, reason });
      await noteOn(deps, parent.id, `CI fix of pull request #${number} not started: ${reason}`);
    };
    if (!worker.ciFixes.enabled) {
      ignored.push({ workerId: worker.id, reason: `worker "${worker.id}" has ciFixes off` });
      continue;
    }
    const active = await activeRunOf(deps, worker.id);
    if (active !== null) {
      await stop(`run ${active.id} of worker "${worker.id}" is still ${active.status}`);
      continue;
    }
    const now = deps.now().getTime();
    const fixes = (await deps.cols.runs.where('workerId', '==', worker.id).get()).docs
      .map((d) => d.data())
      .filter(
        (run) =>
          run.trigger.type === 'github' &&
          run.trigger.followUp?.kind === 'ci' &&
          run.trigger.pullRequest === number &&
          sameRepo(run.trigger.repo, ci.repo),
      );
    const recent = fixes.filter((run) => Date.parse(run.createdAt) > now - limits.windowMs);
    if (fixes.some((run) => run.trigger.type === 'github' && run.trigger.followUp?.headSha === ci.headSha)) {
      ignored.push({ workerId: worker.id, reason: `commit ${ci.headSha} already had its CI fix` });
      continue;
    }
    if (recent.length >= worker.ciFixes.maxPerDay) {
      await stop(`the cap of ${worker.ciFixes.maxPerDay} CI fixes a day for this pull request is reached`);
      continue;
    }
    const last = latest(recent);
    if (last !== null && Date.parse(last.createdAt) > now - limits.cooldownMs) {
      await stop(
        `the last CI fix (run ${last.id}) was queued under ${Math.round(limits.cooldownMs / 60_000)} minutes ago`,
      );
      continue;
    }
    // Without the details (an App installation that did not grant checks/actions read) the worker still
    // learns its build is red.
    const failures = await fetchCiFailures(github, ci.repo, ci.headSha, ci.installationId).catch(
      (error: Error): CiFailure[] => [
        {
          name: '(the failing checks could not be read)',
          conclusion: ci.conclusion ?? 'failure',
          summary: `GitHub answered: ${error.message}. Run the project's checks yourself to find what fails.`,
          steps: [],
          log: '',
        },
      ],
    );
    // GitHub lists the latest run of each check (filter=latest): a failing job re-run since (passed, or
    // running again) is not failing now, and a fix with nothing to fix would only spend a run.
    if (failures.length === 0) {
      ignored.push({
        workerId: worker.id,
        reason: `no check run of commit ${ci.headSha} fails now (the latest run of each check passed or is running: re-run since?)`,
      });
      continue;
    }
    requests.push({
      worker,
      parent,
      kind: 'ci',
      sender: 'github-checks',
      suffix: `ci-${ci.headSha.slice(0, 12)}`,
      number,
      pullRequest: number,
      headSha: ci.headSha,
      text: { ci: failures },
    });
  }
  return { requests, ignored };
}

/** A note in a run's history (where the owner looks); best effort. */
export async function noteOn(deps: Deps, runId: string, message: string): Promise<void> {
  const at = deps.now();
  await appendEvent(deps, {
    type: 'note',
    id: newEventId(at),
    runId,
    at: at.toISOString(),
    message,
    agentId: null,
  }).catch((error: Error) => deps.log.warn('could not note on a run', { runId, error: error.message }));
}
