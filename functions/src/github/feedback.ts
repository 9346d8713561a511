// Feedback on GitHub issues: a comment when a run is queued, and one with the outcome (and pull request) when it ends.
// Without an App or a token nothing is posted (client.ts). A GitHub API error is logged; it never fails a
// run or a webhook.
import {
  type DocumentSnapshot,
  FieldPath,
  FieldValue,
  type QueryDocumentSnapshot,
} from '@google-cloud/firestore';
import { type GithubFeedback, headOf, isAlreadyExists, isTerminal, type Run } from '@nightshift/shared';
import type { Octokit } from '@octokit/rest';
import type { Deps } from '../core/deps.js';
import type { Logger } from '../core/log.js';
import {
  GITHUB_REQUEST_TIMEOUT_MS,
  NOTIFICATION_RECORD_TTL_MS,
  SUMMARY_CLAIM_EXPIRY_MS,
} from '../timings.js';
import type { Github } from './client.js';

/** Attempts at posting a run's summary before it is given up (and logged). */
export const SUMMARY_MAX_ATTEMPTS = 3;
/** Owed summaries read per query of the tick. */
export const SUMMARY_BATCH = 50;
/** Batches one tick looks through at most (each entry costs a read of its run). */
export const SUMMARY_MAX_PAGES = 10;
const MAX_RESULT_CHARS = 3_000;

function splitRepo(repo: string): { owner: string; repo: string } {
  const [owner = '', name = ''] = repo.split('/');
  return { owner, repo: name };
}

async function comment(octokit: Octokit, repo: string, issue: number, body: string): Promise<void> {
  await octokit.rest.issues.createComment({
    ...splitRepo(repo),
    issue_number: issue,
    body,
    request: { signal: AbortSignal.timeout(GITHUB_REQUEST_TIMEOUT_MS) },
  });
}

export function describeError(error: unknown): Record<string, unknown> {
  const e = error as { message?: string; status?: number };
  return { error: e.message ?? String(error), ...(e.status ? { status: e.status } : {}) };
}

/**
 * Comments that the run was queued. Never throws: a GitHub error (or the App's: not installed,
 * misconfigured) is logged and false comes back.
 */
export async function postQueuedComment(
  github: Github,
  log: Logger,
  target: { repo: string; issue: number; installationId?: number | undefined },
  run: Run,
): Promise<boolean> {
  const body = [
    `nightshift queued run \`${run.id}\` for worker \`${run.workerId}\`.`,
    '',
    'I will comment here again when it ends.',
  ].join('\n');
  try {
    const octokit = await github.forRepo(target.repo, { installationId: target.installationId });
    await comment(octokit, target.repo, target.issue, body);
    return true;
  } catch (error) {
    log.error('could not comment on the GitHub issue that a run was queued', {
      runId: run.id,
      repo: target.repo,
      issue: target.issue,
      ...describeError(error),
    });
    return false;
  }
}

/** Where the run's commits went, as the summary tells it. */
export type Delivered =
  /** A pull request from the run's branch: opened now, or one that was already there. */
  | { kind: 'pull_request'; url: string; number: number; existing: boolean }
  /** Pushed to a branch, with no pull request (the worker's own branch, or opening one failed). */
  | { kind: 'branch'; branch: string }
  /** Not pushed: the commits are in the workspace on the VM. */
  | { kind: 'not_pushed'; reason: string };

/** The end-of-run comment: status, summary (the worker's result), cost, turns, commits, pull request or branch, error. */
export function runSummaryBody(run: Run, delivered: Delivered | null = null): string {
  const lines = [`nightshift run \`${run.id}\` (worker \`${run.workerId}\`) ended: **${run.status}**`];
  // The one thing the owner must act on comes first.
  if (run.blocked) lines.push('', `**Blocked:** ${headOf(run.blocked.text, 1000)}`);
  if (run.result) {
    const result =
      run.result.length > MAX_RESULT_CHARS ? `${headOf(run.result, MAX_RESULT_CHARS)}\n[…cut]` : run.result;
    lines.push('', ...result.split('\n').map((l) => `> ${l}`));
  }
  lines.push('', `- Cost: $${run.usage.costUsd.toFixed(2)} over ${run.usage.turns} turns`);
  if (run.commits.length > 0) {
    const shown = run.commits.slice(0, 20).map((sha) => `\`${sha.slice(0, 12)}\``);
    const more = run.commits.length > 20 ? ` and ${run.commits.length - 20} more` : '';
    lines.push(`- Commits (${run.commits.length}): ${shown.join(', ')}${more}`);
  } else {
    lines.push('- Commits: none');
  }
  if (delivered?.kind === 'pull_request') {
    lines.push(
      `- Pull request: ${delivered.url}${delivered.existing ? ' (already open for this branch)' : ''}`,
    );
  } else if (delivered?.kind === 'branch') {
    lines.push(`- Branch: \`${delivered.branch}\``);
  } else if (delivered?.kind === 'not_pushed') {
    lines.push(`- Not pushed: ${delivered.reason}`);
  }
  // Changes the worker left uncommitted are on their own branch, beside the run's commits above.
  if (run.wipBranch) lines.push(`- Unfinished work: branch \`${run.wipBranch}\``);
  if (run.error) lines.push(`- Error: ${headOf(run.error, 1000)}`);
  return lines.join('\n');
}

/** The body of a run's pull request: `Closes #<issue>` only when the run succeeded, then the run's summary. */
export function pullRequestBody(run: Run & { trigger: { type: 'github' } }): string {
  const lines: string[] = [];
  if (run.status === 'succeeded') lines.push(`Closes #${run.trigger.issue}`, '');
  lines.push(
    `Opened by nightshift for issue #${run.trigger.issue}: run \`${run.id}\` of worker \`${run.workerId}\` ended **${run.status}**.`,
  );
  if (run.result) {
    const result =
      run.result.length > MAX_RESULT_CHARS ? `${headOf(run.result, MAX_RESULT_CHARS)}\n[…cut]` : run.result;
    lines.push('', ...result.split('\n').map((l) => `> ${l}`));
  }
  if (run.error) lines.push('', `Error: ${headOf(run.error, 1000)}`);
  return lines.join('\n');
}

const timeout = () => ({ signal: AbortSignal.timeout(GITHUB_REQUEST_TIMEOUT_MS) });

/**
 * Opens a pull request from the run's pushed branch into the worker's branch, or finds the one that is
 * already open for that branch (GitHub answers 422 to a second one, e.g. when a summary is posted again).
 * Throws the GitHub error when neither works.
 */
export async function openPullRequest(
  octokit: Octokit,
  run: Run & { trigger: { type: 'github' } },
  head: string,
  base: string,
): Promise<Extract<Delivered, { kind: 'pull_request' }>> {
  const { owner, repo } = splitRepo(run.trigger.repo);
  try {
    const { data } = await octokit.rest.pulls.create({
      owner,
      repo,
      head,
      base,
      // Our ids and the issue number only: the issue's own title is untrusted text we do not repeat.
      title: `nightshift: issue #${run.trigger.issue} (run ${run.id})`,
      body: pullRequestBody(run),
      request: timeout(),
    });
    return { kind: 'pull_request', url: data.html_url, number: data.number, existing: false };
  } catch (error) {
    if ((error as { status?: number }).status !== 422) throw error;
    const { data } = await octokit.rest.pulls.list({
      owner,
      repo,
      head: `${owner}:${head}`,
      state: 'all',
      per_page: 1,
      request: timeout(),
    });
    const found = data[0];
    if (!found) throw error; // a 422 for another reason (e.g. no commits between the branches)
    return { kind: 'pull_request', url: found.html_url, number: found.number, existing: true };
  }
}

/**
 * Where the run's commits went. A pull request is opened when the run pushed a branch that is not the
 * worker's own; a GitHub error there is logged and the summary names the branch instead.
 */
export async function deliveredBy(
  octokit: Octokit,
  log: Logger,
  run: Run & { trigger: { type: 'github' } },
): Promise<Delivered | null> {
  // The run's own copy of its checkout: what it worked on, whatever the worker says now.
  const repo = run.checkout.repo;
  const base = repo?.branch;
  if (run.pushedBranch !== null) {
    if (base === undefined || run.pushedBranch === base) return { kind: 'branch', branch: run.pushedBranch };
    // A follow-up pushed to its pull request's branch: that pull request is updated, none is opened.
    if (run.trigger.pullRequest !== undefined) {
      try {
        const { data } = await octokit.rest.pulls.get({
          ...splitRepo(run.trigger.repo),
          pull_number: run.trigger.pullRequest,
          request: timeout(),
        });
        return { kind: 'pull_request', url: data.html_url, number: data.number, existing: true };
      } catch (error) {
        log.error('could not read the pull request the run followed up', {
          runId: run.id,
          pullRequest: run.trigger.pullRequest,
          ...describeError(error),
        });
        return { kind: 'branch', branch: run.pushedBranch };
      }
    }
    try {
      return await openPullRequest(octokit, run, run.pushedBranch, base);
    } catch (error) {
      log.error('could not open a pull request for the run', {
        runId: run.id,
        repo: run.trigger.repo,
        head: run.pushedBranch,
        base,
        ...describeError(error),
      });
      return { kind: 'branch', branch: run.pushedBranch };
    }
  }
  if (run.commits.length === 0) return null;
  const where = run.workBranch ? ` on branch \`${run.workBranch}\`` : '';
  if (repo && !repo.push) {
    return {
      kind: 'not_pushed',
      reason: `the worker's repo.push is off; the commits are in the workspace on the VM${where}`,
    };
  }
  return { kind: 'not_pushed', reason: `the commits are in the workspace on the VM${where}` };
}

/**
 * Posts a finished GitHub-triggered run's summary on its issue, opening its pull request first when it
 * pushed a branch of its own. Throws the comment's GitHub error, if any; a pull request error is logged.
 */
export async function postRunSummary(
  deps: Deps,
  github: Github,
  run: Run,
  installationId?: number,
): Promise<void> {
  const trigger = run.trigger;
  if (trigger.type !== 'github') throw new Error(`run ${run.id} was not started from GitHub`);
  const githubRun = { ...run, trigger };
  const octokit = await github.forRepo(trigger.repo, { installationId });
  const delivered = await deliveredBy(octokit, deps.log, githubRun);
  // A follow-up of a pull request answers there, where it was asked for.
  await comment(octokit, trigger.repo, trigger.pullRequest ?? trigger.issue, runSummaryBody(run, delivered));
}

/**
 * When Firestore's TTL policy may delete an entry that is no longer owed (posted, or given up): counted
 * from then, never from when it was written, so a run that waits longer than the TTL still gets its summary.
 */
const expiresFrom = (now: Date) => new Date(now.getTime() + NOTIFICATION_RECORD_TTL_MS);

/**
 * Records that the run's outcome is to be posted when it ends (called when a GitHub run is queued), with
 * the App installation the delivery came through, if any. No `expiresAt` while it is owed.
 */
export async function owePostRunSummary(deps: Deps, runId: string, installationId?: number): Promise<void> {
  const at = deps.now().toISOString();
  const doc: GithubFeedback = {
    runId,
    state: 'pending',
    attempts: 0,
    createdAt: at,
    updatedAt: at,
    summaryPostedAt: null,
    error: null,
    claimedAt: null,
    ...(installationId === undefined ? {} : { installationId }),
  };
  try {
    await deps.cols.githubFeedback.doc(runId).create(doc);
  } catch (error) {
    if (!isAlreadyExists(error)) throw error; // owed already
  }
}

export interface SummaryOutcome {
  posted: string[];
  failed: Array<{ runId: string; error: string }>;
}

/** What one attempt at an owed summary did. `retry`: it failed and is owed again. */
export type SummaryAttempt =
  | { result: 'posted' }
  | { result: 'not_owed' | 'already_posted' | 'given_up' | 'run_not_ended' | 'claimed_elsewhere' }
  | { result: 'failed'; error: string; retry: boolean };

/**
 * Posts the summary of one finished GitHub-triggered run if it is still owed, exactly once: the entry is
 * claimed with an update conditioned on the version read, so two posters (the reactor and a tick, or two
 * deliveries of one event) cannot both post it. A claim older than SUMMARY_CLAIM_EXPIRY_MS (its poster
 * stopped between claim and post) is claimed again the same way, and counts as an attempt. A GitHub
 * error puts the entry back, up to SUMMARY_MAX_ATTEMPTS.
 */
export async function postOwedSummary(
  deps: Deps,
  github: Github,
  entryDoc: DocumentSnapshot<GithubFeedback>,
): Promise<SummaryAttempt> {
  let entry: GithubFeedback | undefined;
  try {
    entry = entryDoc.data();
  } catch (error) {
    deps.log.error('corrupt githubFeedback document', {
      path: entryDoc.ref.path,
      error: (error as Error).message,
    });
    return { result: 'not_owed' };
  }
  if (entry === undefined) return { result: 'not_owed' };
  if (entry.state === 'posted') return { result: 'already_posted' };
  if (entry.state === 'failed') return { result: 'given_up' };
  const expiredBefore = deps.now().getTime() - SUMMARY_CLAIM_EXPIRY_MS;
  // A `posting` entry always carries its claim time; one without is treated as abandoned.
  const abandoned =
    entry.state === 'posting' && (entry.claimedAt === null || Date.parse(entry.claimedAt) < expiredBefore);
  if (entry.state === 'posting' && !abandoned) return { result: 'claimed_elsewhere' };
  const ref = entryDoc.ref;
  const run = (await deps.cols.runs.doc(entry.runId).get()).data();
  const now = deps.now().toISOString();
  if (!run) {
    await ref.update({
      state: 'failed',
      error: 'the run no longer exists',
      updatedAt: now,
      expiresAt: expiresFrom(deps.now()),
    });
    return { result: 'failed', error: 'the run no longer exists', retry: false };
  }
  if (!isTerminal(run.status)) {
    // An entry written while owed entries still expired 30 days on: its expiry goes until it is posted.
    if (entry.expiresAt !== undefined)
      await ref
        .update({ expiresAt: FieldValue.delete() }, { lastUpdateTime: entryDoc.updateTime })
        .catch(() => undefined); // changed meanwhile: the next look decides
    return { result: 'run_not_ended' };
  }
  let attempts = entry.attempts;
  if (abandoned) {
    attempts += 1;
    deps.log.warn('re-claiming a run summary whose poster stopped before posting it', {
      runId: run.id,
      claimedAt: entry.claimedAt,
      attempts,
    });
    if (attempts >= SUMMARY_MAX_ATTEMPTS) {
      const error = `given up after ${attempts} attempts; the last poster that claimed it stopped before posting`;
      try {
        await ref.update(
          { state: 'failed', attempts, error, updatedAt: now, expiresAt: expiresFrom(deps.now()) },
          { lastUpdateTime: entryDoc.updateTime },
        );
      } catch {
        return { result: 'claimed_elsewhere' };
      }
      return { result: 'failed', error, retry: false };
    }
  }
  try {
    await ref.update(
      { state: 'posting', attempts, claimedAt: now, updatedAt: now, expiresAt: FieldValue.delete() },
      { lastUpdateTime: entryDoc.updateTime },
    );
  } catch {
    return { result: 'claimed_elsewhere' };
  }
  try {
    await postRunSummary(deps, github, run, entry.installationId);
    await ref.update({
      state: 'posted',
      summaryPostedAt: deps.now().toISOString(),
      updatedAt: now,
      expiresAt: expiresFrom(deps.now()),
    });
    deps.log.info('posted the run summary on GitHub', { runId: run.id });
    return { result: 'posted' };
  } catch (error) {
    attempts += 1;
    const message = describeError(error).error as string;
    const retry = attempts < SUMMARY_MAX_ATTEMPTS;
    await ref.update({
      state: retry ? 'pending' : 'failed',
      attempts,
      error: message,
      updatedAt: now,
      // Owed again: no expiry. Given up: kept as long as a posted one, then deleted.
      ...(retry ? {} : { expiresAt: expiresFrom(deps.now()) }),
    });
    deps.log.error('could not post the run summary on GitHub', {
      runId: run.id,
      attempts,
      ...describeError(error),
    });
    return { result: 'failed', error: message, retry };
  }
}

/** The summary owed for one run, if any (the reactor's path, as a run ends). */
export async function postRunSummaryIfOwed(
  deps: Deps,
  github: Github,
  runId: string,
): Promise<SummaryAttempt> {
  return postOwedSummary(deps, github, await deps.cols.githubFeedback.doc(runId).get());
}

/**
 * The scheduler tick's safety net: every summary still owed (its run.status event was lost, or the
 * reactor gave it back after a GitHub error) is tried once per tick. Owed entries of runs still queued or
 * waiting stay owed as long as their runs wait, so the tick pages past them (in document order) rather
 * than stopping at the first batch, where a crowd of them would hide a run that has ended.
 */
export async function processRunSummaries(deps: Deps, github: Github): Promise<SummaryOutcome> {
  const outcome: SummaryOutcome = { posted: [], failed: [] };
  // One field and the document order: no composite index; the few `posting` entries are filtered by
  // their claim time.
  const query = deps.cols.githubFeedback
    .where('state', 'in', ['pending', 'posting'])
    .orderBy(FieldPath.documentId())
    .limit(SUMMARY_BATCH);
  let after: QueryDocumentSnapshot<GithubFeedback> | undefined;
  for (let page = 0; page < SUMMARY_MAX_PAGES; page++) {
    const open = await (after === undefined ? query : query.startAfter(after)).get();
    for (const doc of open.docs) {
      const attempt = await postOwedSummary(deps, github, doc);
      if (attempt.result === 'posted') outcome.posted.push(doc.id);
      else if (attempt.result === 'failed') outcome.failed.push({ runId: doc.id, error: attempt.error });
    }
    if (open.docs.length < SUMMARY_BATCH) break;
    after = open.docs.at(-1);
  }
  return outcome;
}
