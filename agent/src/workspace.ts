// Workspaces: clone, fetch and check out a worker's repository with git through execFile and argv.
import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunCheckout } from '@nightshift/shared';
import { GIT_COMMAND_TIMEOUT_MS } from './timings.js';

const run = promisify(execFile);
/** What git may print before it is cut off (a rev-list of a long run, a noisy clone). */
const GIT_OUTPUT_MAX_BYTES = 16 * 1024 * 1024;

export async function git(cwd: string, args: string[], timeoutMs = GIT_COMMAND_TIMEOUT_MS): Promise<string> {
  try {
    const { stdout } = await run('git', args, {
      cwd,
      timeout: timeoutMs,
      maxBuffer: GIT_OUTPUT_MAX_BYTES,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    return stdout.trim();
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const detail = (e.stderr ?? '').trim() || e.message;
    throw new Error(`git ${args[0]} failed: ${detail.split('\n').slice(-3).join(' ')}`);
  }
}

export interface Prepared {
  dir: string;
  startCommit: string | null;
  notes: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Where a run's checkout lives: the worker's workdir as it is, else its own clone under the agent's home. */
export function workspaceDirOf(home: string, workerId: string, checkout: RunCheckout): string {
  return checkout.workdir ?? join(home, 'workspaces', workerId);
}

/**
 * Clones on first use, else fetches and checks out the run's branch (fast-forward only: local commits
 * stay). Every run starts from the checkout's branch, even when the previous run left the checkout on its
 * own work branch. With a `workBranch`, that branch is then created (or reset) at the checkout's branch,
 * so the run's commits land on it and the worker's branch stays as it was. A `workdir` is used as it
 * is: its branch is the owner's business, so a work branch is not made there (a note says so). Only the
 * run's checkout snapshot is used, never the worker's current settings.
 */
export async function prepareWorkspace(
  home: string,
  workerId: string,
  checkout: RunCheckout,
  workBranch: string | null = null,
): Promise<Prepared> {
  const notes: string[] = [];
  const dir = workspaceDirOf(home, workerId, checkout);
  if (checkout.workdir !== null) {
    if (!(await exists(dir))) throw new Error(`workdir ${dir} does not exist`);
    if (workBranch !== null)
      notes.push(`work branch ${workBranch} not made: the worker's workdir is used as it is`);
    return { dir, startCommit: await headCommitOf(dir), notes };
  }
  const repo = checkout.repo;
  if (repo === null) throw new Error('the run has neither repo nor workdir');
  const root = join(home, 'workspaces');
  await mkdir(root, { recursive: true });
  if (!(await exists(join(dir, '.git')))) {
    await git(root, ['clone', '--branch', repo.branch, '--', repo.url, dir]);
  } else {
    await git(dir, ['fetch', 'origin']);
    await git(dir, ['checkout', repo.branch, '--']);
    try {
      await git(dir, ['merge', '--ff-only', `origin/${repo.branch}`]);
    } catch (error) {
      notes.push(`workspace not fast-forwarded to origin/${repo.branch}: ${(error as Error).message}`);
    }
  }
  // -B: a work branch left from an earlier attempt of the same run is reset, not an error.
  if (workBranch !== null) await git(dir, ['checkout', '-B', workBranch, '--']);
  return { dir, startCommit: await headCommitOf(dir), notes };
}

/** The commit git's HEAD points at, or null (an empty repository). */
export async function headCommitOf(dir: string): Promise<string | null> {
  try {
    return await git(dir, ['rev-parse', 'HEAD']);
  } catch {
    return null;
  }
}

/** Commits made since the start commit, oldest first. */
export async function commitsSince(dir: string, start: string | null): Promise<string[]> {
  try {
    const out = start
      ? await git(dir, ['rev-list', '--reverse', `${start}..HEAD`])
      : await git(dir, ['rev-list', '--reverse', 'HEAD']);
    return out.split('\n').filter((s) => s !== '');
  } catch {
    return [];
  }
}

/** Pushes HEAD to the branch on origin; never forced, so a branch that moved on elsewhere is refused. */
export async function pushBranch(dir: string, branch: string): Promise<void> {
  await git(dir, ['push', 'origin', `HEAD:refs/heads/${branch}`]);
}
