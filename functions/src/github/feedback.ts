// Feedback on GitHub issues: a comment when a run is queued, and one with the outcome when it ends.
// Without a token nothing is posted. A GitHub API error is logged; it never fails a run or a webhook.
import { COLLECTIONS, IsoDateTimeSchema, isTerminal, type Run, RunIdSchema } from '@nightshift/shared';
import { Octokit } from '@octokit/rest';
import { z } from 'zod';
import type { Deps } from '../core/deps.js';
import type { Logger } from '../core/log.js';

/** How long one GitHub API call may take. */
export const GITHUB_REQUEST_TIMEOUT_MS = 10_000;
/** Attempts at posting a run's summary before it is given up (and logged). */
export const SUMMARY_MAX_ATTEMPTS = 3;
/** Summaries looked at per tick. */
export const SUMMARY_BATCH = 50;
const MAX_RESULT_CHARS = 3_000;

export interface GithubFeedbackConfig {
  githubToken?: string;
  /** The REST API root; default https://api.github.com (GitHub Enterprise: https://HOST/api/v3). */
  githubApiUrl?: string;
}

/** An Octokit for feedback, or null when no token is configured (then nothing is posted). */
export function createOctokit(config: GithubFeedbackConfig): Octokit | null {
  if (!config.githubToken) return null;
  return new Octokit({
    auth: config.githubToken,
    userAgent: 'nightshift',
    ...(config.githubApiUrl ? { baseUrl: config.githubApiUrl.replace(/\/+$/, '') } : {}),
    // Octokit's own console output would bypass the structured log; errors are logged by the callers.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
}

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

function describeError(error: unknown): Record<string, unknown> {
  const e = error as { message?: string; status?: number };
  return { error: e.message ?? String(error), ...(e.status ? { status: e.status } : {}) };
}

/** Comments that the run was queued. Never throws: a GitHub error is logged and false comes back. */
export async function postQueuedComment(
  octokit: Octokit,
  log: Logger,
  target: { repo: string; issue: number },
  run: Run,
): Promise<boolean> {
  const body = [
    `nightshift queued run \`${run.id}\` for worker \`${run.workerId}\`.`,
    '',
    'I will comment here again when it ends.',
  ].join('\n');
  try {
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

/** The end-of-run comment: status, summary (the worker's result), cost, turns, commits, error. */
export function runSummaryBody(run: Run): string {
  const lines = [`nightshift run \`${run.id}\` (worker \`${run.workerId}\`) ended: **${run.status}**`];
  if (run.result) {
    const result =
      run.result.length > MAX_RESULT_CHARS ? `${run.result.slice(0, MAX_RESULT_CHARS)}\n[…cut]` : run.result;
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
  if (run.error) lines.push(`- Error: ${run.error.slice(0, 1000)}`);
  return lines.join('\n');
}

/** Posts a finished GitHub-triggered run's summary on its issue. Throws the GitHub error, if any. */
export async function postRunSummary(octokit: Octokit, run: Run): Promise<void> {
  if (run.trigger.type !== 'github') throw new Error(`run ${run.id} was not started from GitHub`);
  await comment(octokit, run.trigger.repo, run.trigger.issue, runSummaryBody(run));
}

/** `githubFeedback/<runId>`: a GitHub-triggered run whose end-of-run comment is still owed. */
export const FeedbackSchema = z.object({
  runId: RunIdSchema,
  state: z.enum(['pending', 'posting', 'posted', 'failed']),
  attempts: z.number().int().min(0),
  createdAt: IsoDateTimeSchema,
  updatedAt: IsoDateTimeSchema,
  summaryPostedAt: IsoDateTimeSchema.nullable(),
  error: z.string().nullable(),
});
export type Feedback = z.infer<typeof FeedbackSchema>;

/** Records that the run's outcome is to be posted when it ends (called when a GitHub run is queued). */
export async function owePostRunSummary(deps: Deps, runId: string): Promise<void> {
  const at = deps.now().toISOString();
  const doc: Feedback = {
    runId,
    state: 'pending',
    attempts: 0,
    createdAt: at,
    updatedAt: at,
    summaryPostedAt: null,
    error: null,
  };
  try {
    await deps.db.collection(COLLECTIONS.githubFeedback).doc(runId).create(doc);
  } catch (error) {
    if ((error as { code?: number }).code !== 6) throw error; // ALREADY_EXISTS: owed already
  }
}

export interface SummaryOutcome {
  posted: string[];
  failed: Array<{ runId: string; error: string }>;
}

/**
 * Posts the summaries of finished GitHub-triggered runs, each exactly once: a tick claims a pending
 * entry with an update conditioned on the version it read, so two overlapping ticks cannot both post it.
 * A GitHub error puts the entry back for the next tick, up to SUMMARY_MAX_ATTEMPTS.
 */
export async function processRunSummaries(deps: Deps, octokit: Octokit): Promise<SummaryOutcome> {
  const outcome: SummaryOutcome = { posted: [], failed: [] };
  const pending = await deps.db
    .collection(COLLECTIONS.githubFeedback)
    .where('state', '==', 'pending')
    .limit(SUMMARY_BATCH)
    .get();
  for (const doc of pending.docs) {
    const parsed = FeedbackSchema.safeParse(doc.data());
    if (!parsed.success) {
      deps.log.error('corrupt githubFeedback document', { path: doc.ref.path });
      continue;
    }
    const entry = parsed.data;
    const run = (await deps.cols.runs.doc(entry.runId).get()).data();
    const now = deps.now().toISOString();
    if (!run) {
      await doc.ref.update({ state: 'failed', error: 'the run no longer exists', updatedAt: now });
      continue;
    }
    if (!isTerminal(run.status)) continue;
    try {
      await doc.ref.update({ state: 'posting', updatedAt: now }, { lastUpdateTime: doc.updateTime });
    } catch {
      continue; // another tick claimed it
    }
    try {
      await postRunSummary(octokit, run);
      await doc.ref.update({ state: 'posted', summaryPostedAt: deps.now().toISOString(), updatedAt: now });
      outcome.posted.push(run.id);
      deps.log.info('posted the run summary on GitHub', { runId: run.id });
    } catch (error) {
      const attempts = entry.attempts + 1;
      const message = describeError(error).error as string;
      await doc.ref.update({
        state: attempts >= SUMMARY_MAX_ATTEMPTS ? 'failed' : 'pending',
        attempts,
        error: message,
        updatedAt: now,
      });
      outcome.failed.push({ runId: run.id, error: message });
      deps.log.error('could not post the run summary on GitHub', {
        runId: run.id,
        attempts,
        ...describeError(error),
      });
    }
  }
  return outcome;
}
