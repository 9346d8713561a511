// Workspaces: clone, fetch and check out a worker's repository, and keep a run's unfinished work, with git through execFile and argv.
import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type RunCheckout, RunIdSchema } from '@nightshift/shared';
import { gitEnvironment } from './config.js';
import { type GitAuth, httpRemoteOf, stripUserinfo } from './git-auth/credentials.js';
import {
  credentialInvocation,
  filterOverridesOf,
  HARDENING_ARGS,
  isAuthFailure,
  mayChangeFilterDrivers,
  refusedConfigKeys,
  runsFilterDrivers,
  subcommandOf,
} from './git-auth/git-command.js';
import { GIT_COMMAND_TIMEOUT_MS } from './timings.js';

const run = promisify(execFile);
/** What git may print before it is cut off (a rev-list of a long run, a noisy clone). */
const GIT_OUTPUT_MAX_BYTES = 16 * 1024 * 1024;

/** A git failure: the message names the subcommand; `detail` is git's own last lines (userinfo stripped). */
export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(
    readonly command: string,
    readonly detail: string,
  ) {
    super(`git ${command} failed: ${detail}`);
  }
}

/**
 * The filter-driver overrides of one workspace operation (a prepare, a wip commit): listed once, before the
 * first command that may run a filter, and again only after a command that may have changed what the
 * config says (one that moved HEAD or the work tree). An operation runs while no worker runs in the
 * workspace; the next operation, after the worker ran, makes its own.
 */
export class FilterDrivers {
  #listing: Promise<Record<string, string>> | null = null;
  /** How many times the drivers were listed (for tests). */
  listings = 0;
  constructor(readonly dir: string) {}
  overrides(env: Record<string, string>): Promise<Record<string, string>> {
    if (this.#listing === null) {
      this.listings++;
      this.#listing = filterOverrides(this.dir, env);
    }
    return this.#listing;
  }
  stale(): void {
    this.#listing = null;
  }
}

/**
 * Runs git with argv, hardened against the workspace's own config (HARDENING_ARGS: no worker-written
 * hook, fsmonitor or credential helper runs as the agent; no filter driver of the workspace's config runs
 * in a command that could run one, from `filters`' listing, else one made for this command alone), in an
 * environment without the agent's secrets. Everything kept of git's output has its URLs' user names and
 * passwords stripped.
 */
export async function git(
  cwd: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; filters?: FilterDrivers } = {},
): Promise<string> {
  const env = gitEnvironment();
  const command = subcommandOf(args);
  const filters = !runsFilterDrivers(command)
    ? {}
    : opts.filters !== undefined
      ? await opts.filters.overrides(env)
      : await filterOverrides(cwd, env);
  try {
    const { stdout } = await run('git', [...HARDENING_ARGS, ...args], {
      cwd,
      timeout: opts.timeoutMs ?? GIT_COMMAND_TIMEOUT_MS,
      maxBuffer: GIT_OUTPUT_MAX_BYTES,
      env: { ...env, ...filters, ...opts.env },
    });
    return stdout.trim();
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const detail = stripUserinfo((e.stderr ?? '').trim() || e.message);
    throw new GitError(command, detail.split('\n').slice(-3).join(' '));
  } finally {
    if (mayChangeFilterDrivers(command)) opts.filters?.stale();
  }
}

/** The overrides that empty the filter drivers of the workspace's own config (none outside a repository). */
async function filterOverrides(cwd: string, env: Record<string, string>): Promise<Record<string, string>> {
  try {
    const { stdout } = await run(
      'git',
      ['config', '--includes', '--show-scope', '--name-only', '--get-regexp', '^filter\\.'],
      { cwd, env, timeout: GIT_COMMAND_TIMEOUT_MS },
    );
    return filterOverridesOf(stdout);
  } catch {
    // Exit 1: no filter at all; outside a repository: nothing to override.
    return {};
  }
}

/** A network remote: the URL from the run's checkout (never the workspace's own `origin`) and its credential. */
export interface Remote {
  url: string;
  /** The repository's `credential` name, if it gives one. */
  credential?: string | undefined;
  auth: GitAuth;
}

/**
 * One network operation (clone, fetch, push) on `remote`, with the credential handed to git for it
 * alone. The URL always comes from the run's checkout, so a worker that rewrote `origin` cannot point
 * the agent's push elsewhere; a workspace whose config could redirect or read a credential is refused.
 * A failed authentication names the remote (without userinfo) and the credential source, never a secret.
 */
async function remoteGit(
  cwd: string,
  remote: Remote,
  args: string[],
  inRepository: boolean,
): Promise<string> {
  const display = stripUserinfo(remote.url);
  const command = args[0] ?? 'git';
  const resolved = await remote.auth.forRemote(remote.url, remote.credential).catch((error: unknown) => {
    throw new Error(`git ${command} of ${display}: ${stripUserinfo((error as Error).message)}`);
  });
  const http = httpRemoteOf(remote.url);
  let extra: { args: string[]; env: Record<string, string> } = { args: [], env: {} };
  if (resolved.credential !== null && http !== null) {
    if (inRepository) {
      const names = (await git(cwd, ['config', '--local', '--list', '--name-only']).catch(() => ''))
        .split('\n')
        .filter((n) => n !== '');
      const refused = refusedConfigKeys(names);
      if (refused.length > 0)
        throw new Error(
          `git ${command} of ${display} refused: the workspace's .git/config sets ${refused.join(', ')}, which could send the credential elsewhere; the agent hands no credential to git while it is there (remove it with git config --unset)`,
        );
    }
    extra = credentialInvocation(http, resolved.credential);
  }
  try {
    return await git(cwd, [...extra.args, ...args], { env: extra.env });
  } catch (error) {
    if (!(error instanceof GitError) || !isAuthFailure(error.detail)) throw error;
    throw new Error(
      resolved.credential === null
        ? `git ${command} of ${display} failed: the remote asks for a credential and this agent has none for it (${resolved.source}; see the README, Private repositories): ${error.detail}`
        : `git ${command} of ${display} failed: authentication with ${resolved.source} was refused: ${error.detail}`,
    );
  }
}

/** The checkout's repository as a network remote. */
export function remoteOf(repo: NonNullable<RunCheckout['repo']>, auth: GitAuth): Remote {
  return { url: repo.url, credential: repo.credential, auth };
}

/** What a follow-up's checkout needs of the runs before it, when its branch is neither on the remote nor here. */
export interface FollowUpCheckout {
  /** The run it follows up (named in the note). */
  parentRunId: string | null;
  /**
   * The nearest run of its line that made commits on the branch, and how many; null when none did (the branch
   * never held work of its own). Asked only when the branch is nowhere; throws when it cannot be told.
   */
  committedBefore: () => Promise<{ runId: string; commits: number } | null>;
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
 *
 * Uncommitted changes found before the checkout were left by a run the agent did not finish (it crashed,
 * or an older agent ran it): they are kept on that run's wip branch (`keepLeftovers`), never carried into
 * this run. Lock files a killed git left in the clone (a `lost` run's worker died mid-commit) are removed
 * first. `runId` is recorded in the checkout's git directory, so the next prepare can name this run.
 */
export async function prepareWorkspace(
  home: string,
  workerId: string,
  checkout: RunCheckout,
  workBranch: string | null,
  runId: string | null,
  auth: GitAuth,
  options: { followUp?: FollowUpCheckout } = {},
): Promise<Prepared> {
  const notes: string[] = [];
  const dir = workspaceDirOf(home, workerId, checkout);
  const filters = new FilterDrivers(dir);
  if (checkout.workdir !== null) {
    if (!(await exists(dir))) throw new Error(`workdir ${dir} does not exist`);
    if (workBranch !== null)
      notes.push(`work branch ${workBranch} not made: the worker's workdir is used as it is`);
    // A workdir that is no git repository has no unfinished work to tell apart.
    if ((await gitDirOf(dir)) !== null) {
      notes.push(...(await keepLeftovers(dir, null, filters)));
      await markRun(dir, runId);
    }
    return { dir, startCommit: await headCommitOf(dir), notes };
  }
  const repo = checkout.repo;
  if (repo === null) throw new Error('the run has neither repo nor workdir');
  const root = join(home, 'workspaces');
  await mkdir(root, { recursive: true });
  const remote = remoteOf(repo, auth);
  let at: { gitDir: string; head: string } | null = null;
  if (!(await exists(join(dir, '.git')))) {
    await remoteGit(root, remote, ['clone', '--branch', repo.branch, '--', repo.url, dir], false);
  } else {
    // The agent holds the worker's lock and no session of it runs: a lock file is a dead git's.
    const locks = await clearStaleGitLocks(dir);
    if (locks.length > 0)
      notes.push(`removed git's stale lock files left by an earlier run: ${locks.join(', ')}`);
    // The look for leftovers (work tree and index) and the fetch (objects and origin's refs) touch
    // nothing of each other's: side by side. The leftovers are kept even when the fetch fails.
    const [dirty, fetched] = await Promise.allSettled([
      hasUncommitted(dir, filters),
      // The checkout's URL, not the workspace's `origin`, into origin's usual tracking refs.
      remoteGit(dir, remote, ['fetch', '--', repo.url, '+refs/heads/*:refs/remotes/origin/*'], true),
    ]);
    if (dirty.status === 'rejected') throw dirty.reason;
    if (dirty.value) notes.push(...(await keepLeftovers(dir, repo.push ? remote : null, filters, true)));
    if (fetched.status === 'rejected') throw fetched.reason;
    at = await checkOutBranch(dir, repo.branch, filters, notes);
  }
  if (workBranch !== null && options.followUp !== undefined) {
    notes.push(await checkOutFollowUp(dir, workBranch, repo.branch, options.followUp, filters));
    at = null;
  } else if (workBranch !== null) {
    // -B: a work branch left from an earlier attempt of the same run is reset, not an error.
    await git(dir, ['checkout', '-B', workBranch, '--'], { filters });
  }
  if (at === null) {
    await markRun(dir, runId);
    return { dir, startCommit: await headCommitOf(dir), notes };
  }
  if (runId !== null) await writeFile(join(at.gitDir, RUN_MARK_FILE), `${runId}\n`).catch(() => {});
  return { dir, startCommit: at.head, notes };
}

/**
 * Puts a clean clone on `branch`, fast-forwarded to origin's (local commits are never thrown away: a
 * branch that is ahead or has diverged is checked out as it is, with a note when it cannot be
 * fast-forwarded). Returns the git directory and the commit checked out, or null when it took the
 * general path (`git checkout` + `git merge --ff-only`; the caller asks git for HEAD). One `rev-parse`
 * tells what is needed: nothing (already there), a `checkout` of the branch, or one `checkout -B` that
 * switches and fast-forwards at once.
 */
async function checkOutBranch(
  dir: string,
  branch: string,
  filters: FilterDrivers,
  notes: string[],
): Promise<{ gitDir: string; head: string } | null> {
  const local = `refs/heads/${branch}`;
  const remote = `refs/remotes/origin/${branch}`;
  const facts = await git(dir, [
    'rev-parse',
    '--absolute-git-dir',
    local,
    remote,
    '--symbolic-full-name',
    'HEAD',
  ])
    .then((out) => out.split('\n'))
    .catch(() => null);
  const [gitDir, localSha, remoteSha, head] = facts ?? [];
  if (gitDir !== undefined && localSha !== undefined && remoteSha !== undefined && head !== undefined) {
    // The work tree is clean here (leftovers were kept), so a branch at origin's commit needs nothing.
    if (localSha === remoteSha) {
      if (head !== local) await git(dir, ['checkout', branch, '--'], { filters });
      return { gitDir, head: remoteSha };
    }
    const behind = await git(dir, ['merge-base', '--is-ancestor', localSha, remoteSha]).then(
      () => true,
      () => false,
    );
    if (behind) {
      await git(dir, ['checkout', '--no-track', '-B', branch, remoteSha, '--'], { filters });
      return { gitDir, head: remoteSha };
    }
  }
  await git(dir, ['checkout', branch, '--'], { filters });
  try {
    await git(dir, ['merge', '--ff-only', `origin/${branch}`], { filters });
  } catch (error) {
    notes.push(`workspace not fast-forwarded to origin/${branch}: ${(error as Error).message}`);
  }
  return null;
}

/**
 * A follow-up continues its parent's branch as the remote has it (the pull request's head, with commits a
 * person may have pushed there), never the worker's branch: the local branch is fast-forwarded to it, or
 * made from it. A branch the remote lacks (the parent did not push) goes on as the workspace has it. A
 * branch that is nowhere is made from the worker's branch (checked out by now) when no run of the line
 * committed to it, so nothing of it is missing; else its work is not here and the run fails.
 */
async function checkOutFollowUp(
  dir: string,
  branch: string,
  workerBranch: string,
  followUp: FollowUpCheckout,
  filters: FilterDrivers,
): Promise<string> {
  const remote = `refs/remotes/origin/${branch}`;
  const onRemote = await git(dir, ['rev-parse', '--verify', '--quiet', remote]).then(
    () => true,
    () => false,
  );
  const local = await branchExists(dir, branch);
  if (!onRemote && !local) {
    const nowhere = `the branch ${branch} to follow up is neither on the remote nor in the workspace`;
    const before = await followUp.committedBefore().catch((error: unknown) => {
      throw new Error(
        `${nowhere}, and whether a run before committed to it is not known: ${(error as Error).message}`,
      );
    });
    if (before !== null)
      throw new Error(
        `${nowhere}, and run ${before.runId} made ${before.commits} commit(s) on it, which are not here to continue`,
      );
    await git(dir, ['checkout', '-b', branch, '--'], { filters });
    return `follow-up: ${branch} is neither on the remote nor in the workspace, and run ${followUp.parentRunId ?? 'unknown'} made no commit on it: made from the worker's branch ${workerBranch}`;
  }
  if (!onRemote) {
    await git(dir, ['checkout', branch, '--'], { filters });
    return `follow-up: ${branch} is not on the remote; continuing it as the workspace has it`;
  }
  if (!local) {
    await git(dir, ['checkout', '-b', branch, remote, '--'], { filters });
    return `follow-up: continuing ${branch} from the remote`;
  }
  await git(dir, ['checkout', branch, '--'], { filters });
  try {
    await git(dir, ['merge', '--ff-only', remote], { filters });
    return `follow-up: continuing ${branch}, fast-forwarded to the remote`;
  } catch (error) {
    // Local commits the remote does not have and the remote's own: the worker's push would be refused, so
    // the remote's side wins and the local one stays reachable on a kept branch.
    const kept = `nightshift/kept/${branch.replace(/^nightshift\//, '')}-${Date.now().toString(36)}`;
    await git(dir, ['branch', kept, branch]);
    await git(dir, ['reset', '--hard', '--quiet', remote], { filters });
    return `follow-up: ${branch} had diverged from the remote (${(error as Error).message}); the workspace's side is kept on ${kept}, the run continues the remote's`;
  }
}

/** The file in a checkout's git directory naming the last run prepared there (never seen by `git status`). */
const RUN_MARK_FILE = 'nightshift-run';

/** The checkout's git directory (absolute), or null when `dir` is in no git work tree. */
async function gitDirOf(dir: string): Promise<string | null> {
  try {
    return await git(dir, ['rev-parse', '--absolute-git-dir']);
  } catch {
    return null;
  }
}

/** Best effort: the marker only names the branch of leftovers, so a checkout that refuses it fails no run. */
async function markRun(dir: string, runId: string | null): Promise<void> {
  const gitDir = await gitDirOf(dir);
  if (runId !== null && gitDir !== null)
    await writeFile(join(gitDir, RUN_MARK_FILE), `${runId}\n`).catch(() => {});
}

/** The run last prepared in the checkout, if it said so and the id can name a branch. */
async function markedRun(gitDir: string): Promise<string | null> {
  const id = (await readFile(join(gitDir, RUN_MARK_FILE), 'utf8').catch(() => '')).trim();
  return RunIdSchema.safeParse(id).success ? id : null;
}

/**
 * Keeps what an unfinished earlier run left uncommitted on `nightshift/wip/<that run>` (from the marker),
 * else `nightshift/wip/unknown-<time>`, pushed to `push` when given; returns the notes for the new run.
 * Never throws for the push: the changes are safe in the local branch.
 */
async function keepLeftovers(
  dir: string,
  push: Remote | null,
  filters: FilterDrivers,
  knownDirty = false,
): Promise<string[]> {
  if (!knownDirty && !(await hasUncommitted(dir, filters))) return [];
  const gitDir = await gitDirOf(dir);
  const previous = gitDir === null ? null : await markedRun(gitDir);
  const stamp = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
  // A branch of that name already exists (it kept the run's work at its finish): never overwrite it.
  const named = previous !== null && !(await branchExists(dir, wipBranchOf(previous))) ? previous : null;
  const branch = wipBranchOf(named ?? `unknown-${stamp}`);
  const who = named !== null ? `run ${named}` : 'an earlier run (which one is not known)';
  const message =
    named !== null
      ? wipMessageOf(named, 'left unfinished')
      : 'nightshift: uncommitted work of an earlier run (left unfinished)';
  await keepUncommitted(dir, branch, message, filters);
  const notes = [`the workspace held uncommitted changes left by ${who}; kept as one commit on ${branch}`];
  if (push !== null) {
    try {
      await pushRef(dir, push, branch);
    } catch (error) {
      notes.push(`pushing ${branch} failed (${(error as Error).message}); it is kept in ${dir}`);
    }
  }
  return notes;
}

/** The branch a run's uncommitted work is kept on. */
export const wipBranchOf = (runId: string): string => `nightshift/wip/${runId}`;

/** The message of a run's wip commit: whose work, and how the run ended. */
export const wipMessageOf = (runId: string, status: string): string =>
  `nightshift: uncommitted work of run ${runId} (${status})`;

/** Who makes wip commits: nightshift itself, never the worker's (or the machine's) identity. */
const WIP_IDENTITY = ['-c', 'user.name=nightshift', '-c', 'user.email=nightshift@nightshift.invalid'];

/** Whether the work tree holds changes not committed (tracked or untracked, not ignored). */
export async function hasUncommitted(dir: string, filters?: FilterDrivers): Promise<boolean> {
  return (await git(dir, ['status', '--porcelain', '--untracked-files=all'], { filters })) !== '';
}

export async function branchExists(dir: string, branch: string): Promise<boolean> {
  try {
    await git(dir, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Commits the work tree's uncommitted changes (staged, unstaged and untracked; ignored files stay out) as
 * one commit on `branch`, made from HEAD, then leaves the work tree clean on the branch it was on.
 * Returns the commit, or null when there was nothing to keep. The commit is made with plumbing in a
 * copy of the index: HEAD, the checked-out branch and the worker's index are never moved by it, and no
 * hook of the workspace runs; only once the branch holds the commit is the work tree cleaned.
 */
export async function keepUncommitted(
  dir: string,
  branch: string,
  message: string,
  filters = new FilterDrivers(dir),
): Promise<string | null> {
  if (!(await hasUncommitted(dir, filters))) return null;
  const gitDir = await gitDirOf(dir);
  if (gitDir === null) throw new Error(`${dir} is not in a git work tree`);
  const index = join(gitDir, 'nightshift-wip.index');
  // The real index as it is, so staged changes and tracked files that an ignore rule matches are kept.
  await copyFile(join(gitDir, 'index'), index).catch(() => rm(index, { force: true }));
  const env = { GIT_INDEX_FILE: index };
  let commit: string;
  try {
    await git(dir, ['add', '--all', '--', ':/'], { env, filters });
    const tree = await git(dir, ['write-tree'], { env });
    const head = await headCommitOf(dir);
    commit = await git(dir, [
      ...WIP_IDENTITY,
      'commit-tree',
      '--no-gpg-sign',
      ...(head === null ? [] : ['-p', head]),
      '-m',
      message,
      tree,
    ]);
    await git(dir, ['update-ref', '-m', 'nightshift: keep uncommitted work', `refs/heads/${branch}`, commit]);
  } finally {
    await rm(index, { force: true });
  }
  // Kept: the work tree goes back to its branch's last commit (an empty repository to no file at all).
  if ((await headCommitOf(dir)) === null) await git(dir, ['read-tree', '--empty'], { filters });
  else await git(dir, ['reset', '--hard', '--quiet'], { filters });
  await git(dir, ['clean', '-d', '--force', '--quiet', '--', ':/'], { filters });
  return commit;
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
export async function pushBranch(dir: string, remote: Remote, branch: string): Promise<void> {
  await remoteGit(dir, remote, ['push', '--', remote.url, `HEAD:refs/heads/${branch}`], true);
}

/** Pushes a local branch to the branch of the same name on the remote; never forced. */
export async function pushRef(dir: string, remote: Remote, branch: string): Promise<void> {
  await remoteGit(dir, remote, ['push', '--', remote.url, `refs/heads/${branch}:refs/heads/${branch}`], true);
}

/**
 * The lock files git leaves when its process is killed mid-operation (a worker that died with its VM while
 * committing). A resumed piece would fail on them ("Unable to create '…/index.lock'"); they are stale by
 * then, since the worker's session is gone and the agent holds the worker's lock. Returns what it removed.
 */
export async function clearStaleGitLocks(dir: string): Promise<string[]> {
  const gitDir = join(dir, '.git');
  const candidates = [join(gitDir, 'index.lock'), join(gitDir, 'HEAD.lock'), join(gitDir, 'ORIG_HEAD.lock')];
  const refs = join(gitDir, 'refs');
  try {
    for (const entry of await readdir(refs, { recursive: true }))
      if (entry.endsWith('.lock')) candidates.push(join(refs, entry));
  } catch {
    // No refs folder (not a plain clone): only the top-level locks are looked for.
  }
  const removed: string[] = [];
  for (const path of candidates) {
    if (!(await exists(path))) continue;
    await rm(path, { force: true });
    removed.push(path.slice(gitDir.length + 1));
  }
  return removed;
}
