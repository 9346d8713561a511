// Follow-ups: pull-request comments, reviews and failing checks on a pull request nightshift opened, and a `/nightshift run` on an issue that had a run, as runs that continue the parent's branch.
import { type FollowUp, isActive, type Run, type Worker } from '@nightshift/shared';
import { z } from 'zod';
import type { Deps } from '../core/deps.js';
import { GITHUB_REQUEST_TIMEOUT_MS } from '../timings.js';
import type { Github } from './client.js';
import { type Ignored, isTrustedAssociation, parseRunComment, sameRepo } from './events.js';

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
  const pr = await fetchPullRequest(github, repo, issue.number, payload.installation?.id ?? undefined);
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
      : await fetchReviewComments(github, repo, pr.number, review.id, payload.installation?.id ?? undefined);
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
