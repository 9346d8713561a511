// Run ids derived from GitHub events, so that repeated or paired deliveries start one run, not two.
import { createHash } from 'node:crypto';
import { BranchSchema, isActive, type Run } from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { sameRepo } from './events.js';

const MAX_RUN_ID = 128;

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * `gh-<owner>_<name>-<issue>-<workerId>`: the stem of every run id of a worker on an issue. The repository
 * is lowercased (GitHub names are case-insensitive); characters a run id cannot hold become "_" plus a
 * short hash of the name, so two repositories never share a stem; very long names are hashed entirely.
 */
export function issueRunStem(repo: string, issue: number, workerId: string): string {
  const lower = repo.toLowerCase();
  const safe = lower.replace('/', '_');
  const key = /^[a-z0-9_-]+$/.test(safe) ? safe : `${safe.replace(/[^a-z0-9_-]/g, '_')}_${hash(lower, 8)}`;
  const stem = `gh-${key}-${issue}-${workerId}`;
  // Room for the longest suffix ("-c" + a comment id, or "-label-" + a count).
  return stem.length <= MAX_RUN_ID - 24 ? stem : `gh-${hash(lower, 16)}-${issue}-${workerId}`;
}

export const commentRunId = (stem: string, commentId: number) => `${stem}-c${commentId}`;
export const labelRunId = (stem: string, n: number) => `${stem}-label-${n}`;

/**
 * The run a label application maps to. GitHub sends both `opened` and `labeled` for an issue opened with
 * the label, in either order, maybe at once: while the worker has an active label run on the issue, every
 * label event maps to it; otherwise the next one is `-label-<n+1>`. Two deliveries racing for the same n
 * derive the same id, and createRun keeps the first. Adding the label again after a run ended starts a
 * new run (label-2, label-3, …).
 */
export async function labelRunFor(
  deps: Deps,
  repo: string,
  issue: number,
  workerId: string,
): Promise<{ runId: string; active: Run | null }> {
  const stem = issueRunStem(repo, issue, workerId);
  const snapshot = await deps.cols.runs
    .where('workerId', '==', workerId)
    .where('trigger.type', '==', 'github')
    .where('trigger.issue', '==', issue)
    .get();
  const prefix = `${stem}-label-`;
  const labelRuns = snapshot.docs
    .map((doc) => doc.data())
    .filter(
      (run) => run.trigger.type === 'github' && sameRepo(run.trigger.repo, repo) && run.id.startsWith(prefix),
    );
  const active = labelRuns.find((run) => isActive(run.status));
  if (active) return { runId: active.id, active };
  const highest = Math.max(0, ...labelRuns.map((run) => Number(run.id.slice(prefix.length)) || 0));
  return { runId: labelRunId(stem, highest + 1), active: null };
}

/**
 * `nightshift/issue-<issue>-<workerId>-<suffix>`: the branch an issue's run works on, where the suffix is
 * what the run id adds to its stem (`label-1`, `c<commentId>`). Built only from the issue number, our own
 * worker id and our own run id, never from issue text; the worker id keeps two workers on one issue apart,
 * the suffix keeps every run on its own branch.
 */
export function issueWorkBranch(stem: string, runId: string, issue: number, workerId: string): string {
  const suffix = runId.startsWith(`${stem}-`) ? runId.slice(stem.length + 1) : hash(runId, 12);
  return BranchSchema.parse(`nightshift/issue-${issue}-${workerId}-${suffix}`);
}
