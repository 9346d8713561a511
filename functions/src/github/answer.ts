// Answers to blocked runs: a trusted comment (no command needed) on the issue or pull request whose latest run of a worker ended blocked queues a follow-up that resumes that run's session with the comment as the answer.
import { createHash } from 'node:crypto';
import { isActive, type Run, type Trigger, type Worker } from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { createRun } from '../runs/service.js';
import type { Github } from './client.js';
import { type Ignored, type IssueCommentPayload, isTrustedAssociation, parseRunComment } from './events.js';
import {
  fetchPullRequest,
  followUpOf,
  lastRunOnIssue,
  noteOn,
  openerOf,
  type PullRequestRef,
} from './followups.js';
import { buildAnswerPrompt, buildIssuePrompt } from './prompt.js';
import { issueRunStem } from './run-ids.js';

/** One blocked run a comment answers. */
export interface AnswerRequest {
  worker: Worker;
  /** The blocked run: the answer resumes its session on its branch. */
  parent: Run & { blocked: NonNullable<Run['blocked']> };
  repo: string;
  /** Where the comment was posted: the issue, or a pull request. */
  target: { kind: 'issue' | 'pull request'; number: number };
  comment: { id: number; author: string; association: string; body: string };
  /** The issue's (or pull request's) own text, for a start afresh when the session is gone. */
  issue: { title: string; body: string | null | undefined };
}

/**
 * The openings of the comments nightshift posts itself (feedback.ts: queued, and the summary with its
 * **Blocked:** line). Posted with a person's `GITHUB_TOKEN` they carry that person's login and association,
 * so they are told apart by what they say; an App's comments are also a bot's.
 */
const OWN_COMMENT = /^nightshift (?:queued run|run) `[A-Za-z0-9][A-Za-z0-9_-]*`/;
export const isOwnComment = (body: string) => OWN_COMMENT.test(body.trimStart());

/**
 * `<stem of the blocked run's issue>-answer-<hash of the blocked run's id>`: one answer run per blocked run,
 * wherever the answer was posted, so two comments racing to answer it queue one run.
 */
export function answerRunId(repo: string, parent: Run, issue: number): string {
  const hash = createHash('sha256').update(parent.id).digest('hex').slice(0, 12);
  return `${issueRunStem(repo, issue, parent.workerId)}-answer-${hash}`;
}

const isAnswer = (run: Run) => run.trigger.type === 'github' && run.trigger.followUp?.kind === 'answer';

/**
 * Which blocked runs a comment answers: per worker bound to the repository, its latest run on the issue (on
 * a pull request: the latest run on the pull request's branch), when that run ended blocked. Never a
 * `/nightshift run` command (that path continues the branch with instructions), an edit, a bot's comment,
 * nightshift's own comment or an untrusted author's. A comment that comes while the answer of a block is
 * queued or running is noted on that run and starts nothing.
 */
export async function planAnswer(
  deps: Deps,
  github: Github | null,
  payload: IssueCommentPayload,
  workers: Worker[],
): Promise<{ requests: AnswerRequest[]; ignored: Ignored[] }> {
  const { comment, issue } = payload;
  const repo = payload.repository.full_name;
  const body = comment.body ?? '';
  const none = (reason: string) => ({ requests: [], ignored: [{ reason }] });
  if (payload.action !== 'created')
    return none(`issue_comment action "${payload.action}" does not start runs`);
  if (parseRunComment(body) !== null) return none('a /nightshift run command is not an answer');
  if (comment.user.type === 'Bot')
    return none(`"${comment.user.login}" is a bot: a bot never answers a blocker`);
  if (isOwnComment(body)) return none("nightshift's own comment is not an answer");
  if (!isTrustedAssociation(comment.author_association))
    return none(
      `"${comment.user.login}" is ${comment.author_association} on the repository (an answer to a blocker needs OWNER, MEMBER or COLLABORATOR)`,
    );
  const onPullRequest = issue.pull_request !== undefined && issue.pull_request !== null;
  const target = { kind: onPullRequest ? 'pull request' : 'issue', number: issue.number } as const;

  let candidates: Array<{ worker: Worker; latest: Run | null }>;
  if (onPullRequest) {
    if (github === null)
      return none('an answer on a pull request needs a GitHub App or GITHUB_TOKEN to read the pull request');
    let pr: PullRequestRef;
    try {
      pr = await fetchPullRequest(github, repo, issue.number, payload.installation?.id ?? undefined);
    } catch (error) {
      return none(`pull request #${issue.number} could not be read: ${(error as Error).message}`);
    }
    const opener = await openerOf(deps, repo, pr, workers);
    if ('reason' in opener) return { requests: [], ignored: [opener] };
    candidates = [{ worker: opener.worker, latest: opener.parent }];
  } else {
    candidates = [];
    for (const worker of workers)
      candidates.push({ worker, latest: await lastRunOnIssue(deps, repo, issue.number, worker.id, '') });
  }

  const requests: AnswerRequest[] = [];
  const ignored: Ignored[] = [];
  const where = `${target.kind} #${target.number}`;
  for (const { worker, latest } of candidates) {
    const skip = (reason: string) => ignored.push({ workerId: worker.id, reason });
    if (latest === null) {
      skip(`worker "${worker.id}" had no run on ${where}`);
      continue;
    }
    if (isAnswer(latest) && latest.trigger.type === 'github' && latest.trigger.commentId === comment.id) {
      skip(`comment ${comment.id} already answered run ${latest.parentRunId ?? '?'}: run ${latest.id}`);
      continue;
    }
    if (isActive(latest.status)) {
      skip(`the latest run ${latest.id} on ${where} is ${latest.status}, not blocked`);
      // The answer is on its way: this comment would be a second answer, which it never passes on.
      if (isAnswer(latest))
        await noteOn(
          deps,
          latest.id,
          `comment ${comment.id} by @${comment.user.login} on ${where} came while this run, the answer to run ${latest.parentRunId ?? '?'}'s blocker, is ${latest.status}; it is not passed on (only the first answer answers a blocker)`,
        );
      continue;
    }
    if (latest.blocked === null) {
      skip(`the latest run ${latest.id} on ${where} is not blocked`);
      continue;
    }
    requests.push({
      worker,
      parent: latest as AnswerRequest['parent'],
      repo,
      target,
      comment: {
        id: comment.id,
        author: comment.user.login,
        association: comment.author_association,
        body,
      },
      issue: { title: issue.title, body: issue.body },
    });
  }
  return { requests, ignored };
}

/**
 * Queues the answer: a follow-up of the blocked run's worker on its branch, resuming its Claude session
 * (forked, as every follow-up), with the blocker and the answer in the prompt. A second comment that derives
 * the same run id (they raced) finds it there: that comment is noted on the run and starts nothing. Notes on
 * both runs say who answered and which run carries the answer.
 */
export async function queueAnswer(
  deps: Deps,
  request: AnswerRequest,
  deliveryId: string,
): Promise<{ runId: string; workerId: string; created: boolean }> {
  const { parent, repo, target, comment, worker } = request;
  const parentTrigger = parent.trigger.type === 'github' ? parent.trigger : null;
  const issue = parentTrigger?.issue ?? target.number;
  const runId = answerRunId(repo, parent, issue);
  const pullRequest = target.kind === 'pull request' ? target.number : parentTrigger?.pullRequest;
  const trigger: Trigger = {
    type: 'github',
    repo,
    issue,
    sender: comment.author,
    deliveryId,
    commentId: comment.id,
    ...(pullRequest !== undefined ? { pullRequest } : {}),
    followUp: followUpOf({ parent, kind: 'answer' }),
  };
  // Started afresh (the session is gone), the worker needs the task itself before the answer.
  const promptSuffix =
    buildIssuePrompt({ repo, number: target.number, ...request.issue }) +
    buildAnswerPrompt({
      repo,
      target,
      parentRunId: parent.id,
      branch: parent.workBranch,
      blocker: parent.blocked.text,
      answer: { author: comment.author, association: comment.association, text: comment.body },
    });
  const { run, created } = await createRun(deps, {
    workerId: worker.id,
    trigger,
    promptSuffix,
    runId,
    ...(parent.workBranch !== null ? { workBranch: parent.workBranch } : {}),
    parentRunId: parent.id,
  });
  const by = `@${comment.author} in comment ${comment.id} on ${target.kind} #${target.number}`;
  if (created) {
    await noteOn(
      deps,
      parent.id,
      `answered by ${by}: run ${run.id} resumes this run's session with the answer`,
    );
    await noteOn(
      deps,
      run.id,
      `answers the blocker of run ${parent.id} ("${parent.blocked.text}"), answered by ${by}`,
    );
  } else if (!(run.trigger.type === 'github' && run.trigger.commentId === comment.id)) {
    await noteOn(
      deps,
      run.id,
      `comment ${comment.id} by @${comment.author} came after run ${parent.id}'s blocker had its answer (this run); it is not passed on`,
    );
  }
  return { runId: run.id, workerId: worker.id, created };
}
