// Workspaces: clone, fetch and check out a worker's repository with git through execFile and argv.
import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Worker } from '@nightshift/shared';

const run = promisify(execFile);

export async function git(cwd: string, args: string[], timeoutMs = 5 * 60_000): Promise<string> {
  try {
    const { stdout } = await run('git', args, {
      cwd,
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
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

/**
 * Clones on first use, else fetches and checks out the worker's branch (fast-forward only: local commits
 * stay). Every run starts from the worker's branch, even when the previous run left the checkout on its
 * own work branch. With a `workBranch`, that branch is then created (or reset) at the worker's branch,
 * so the run's commits land on it and the worker's branch stays as it was. A worker `workdir` is used
 * as it is: its branch is the owner's business, so a work branch is not made there (a note says so).
 */
export async function prepareWorkspace(
  home: string,
  worker: Worker,
  workBranch: string | null = null,
): Promise<Prepared> {
  const notes: string[] = [];
  if (worker.workdir !== undefined) {
    const dir = worker.workdir;
    if (!(await exists(dir))) throw new Error(`workdir ${dir} does not exist`);
    if (workBranch !== null)
      notes.push(`work branch ${workBranch} not made: the worker's workdir is used as it is`);
    return { dir, startCommit: await headOf(dir), notes };
  }
  const repo = worker.repo;
  if (repo === undefined) throw new Error('worker has neither repo nor workdir');
  const root = join(home, 'workspaces');
  const dir = join(root, worker.id);
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
  return { dir, startCommit: await headOf(dir), notes };
}

export async function headOf(dir: string): Promise<string | null> {
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
