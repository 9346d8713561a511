// Launch: the workspace's prepare on real git repositories (no emulators): the branch brought to origin's, local commits kept, a work branch left behind, a follow-up's branch that is nowhere.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunCheckout } from '@nightshift/shared';
import { createSeededOrigin } from '@nightshift/shared/dev';
import { tempDir } from '@nightshift/shared/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGitAuth } from './git-auth/credentials.js';
import { createSecretReader } from './git-auth/secrets.js';
import { prepareWorkspace } from './workspace.js';

const exec = promisify(execFile);
const sh = async (cwd: string, ...args: string[]) => (await exec('git', args, { cwd })).stdout.trim();
const commitIn = async (cwd: string, file: string, text: string) => {
  await writeFile(join(cwd, file), text);
  await sh(cwd, 'add', file);
  await sh(cwd, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', file);
  return sh(cwd, 'rev-parse', 'HEAD');
};

const clock = { now: () => new Date(0) };
const auth = createGitAuth(
  { username: 'x-access-token', apiUrl: 'https://api.github.com' },
  { secrets: createSecretReader({ clock }), clock },
);

describe('Launch: the workspace', () => {
  let root: string;
  let seed: string;
  let checkout: RunCheckout;
  const prepare = (runId: string, workBranch: string | null = null) =>
    prepareWorkspace(join(root, 'home'), 'w', checkout, workBranch, runId, auth);
  beforeEach(async () => {
    root = await tempDir('nightshift-workspace-');
    const origin = await createSeededOrigin(root, 'w');
    seed = join(root, 'seeds', 'w');
    checkout = {
      repo: { url: origin, branch: 'main', push: false },
      workdir: null,
      roadmapPath: 'docs/roadmap.md',
      progressPath: 'PROGRESS.md',
      tasksPath: 'docs/TASKS.md',
    };
  });
  const pushSeed = () => sh(seed, 'push', '-q', checkout.repo?.url ?? '', 'main');
  const notAsked = async (): Promise<null> => {
    throw new Error('committedBefore asked of a branch that is there');
  };

  it("starts each run at origin's commit of the branch: as it is, fast-forwarded, and back from a work branch", async () => {
    const first = await prepare('r-1');
    expect(first.startCommit).toBe(await sh(seed, 'rev-parse', 'HEAD'));
    expect(first.notes).toEqual([]);
    // Nothing new: the same commit.
    expect((await prepare('r-2')).startCommit).toBe(first.startCommit);
    // Origin moved on: fast-forwarded, the work tree has the new file.
    const moved = await commitIn(seed, 'new.txt', 'new\n');
    await pushSeed();
    const second = await prepare('r-3');
    expect(second.startCommit).toBe(moved);
    expect(await sh(first.dir, 'rev-parse', 'HEAD')).toBe(moved);
    expect(await sh(first.dir, 'status', '--porcelain')).toBe('');
    // A run on a work branch, then origin moves again: the next run is on main at origin's commit.
    const onBranch = await prepare('r-4', 'nightshift/issue-1');
    expect(await sh(first.dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/nightshift/issue-1');
    await commitIn(first.dir, 'work.txt', 'work\n');
    const again = await commitIn(seed, 'again.txt', 'again\n');
    await pushSeed();
    const third = await prepare('r-5');
    expect(onBranch.startCommit).toBe(moved);
    expect(third.startCommit).toBe(again);
    expect(await sh(first.dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(await sh(first.dir, 'rev-parse', 'nightshift/issue-1')).not.toBe(again);
    // The run is named in the git directory for the next prepare.
    expect(await readFile(join(first.dir, '.git', 'nightshift-run'), 'utf8')).toBe('r-5\n');
  });

  it('lists the filter drivers again after a checkout: a driver the new HEAD brings in never runs', async () => {
    // Origin has the follow-up's branch, whose file a filter named by its .gitattributes would smudge.
    await sh(seed, 'checkout', '-q', '-b', 'nightshift/issue-2');
    await writeFile(join(seed, '.gitattributes'), '*.txt filter=evil\n');
    await sh(seed, 'add', '.gitattributes');
    await commitIn(seed, 'f.txt', 'follow\n');
    await sh(seed, 'push', '-q', checkout.repo?.url ?? '', 'nightshift/issue-2');
    const first = await prepare('r-1');
    // As a worker could: a driver its config includes only while HEAD is on main, and HEAD left elsewhere.
    const marks = join(root, 'smudged');
    const included = join(root, 'on-main.cfg');
    await writeFile(
      included,
      `[filter "evil"]\n\tsmudge = touch ${marks}; cat\n\tclean = touch ${marks}; cat\n`,
    );
    await sh(first.dir, 'config', 'includeIf.onbranch:main.path', included);
    await sh(first.dir, 'checkout', '-q', '-b', 'elsewhere');
    const next = await prepareWorkspace(
      join(root, 'home'),
      'w',
      checkout,
      'nightshift/issue-2',
      'r-2',
      auth,
      { followUp: { parentRunId: 'r-1', committedBefore: notAsked } },
    );
    expect(next.notes).toEqual(['follow-up: continuing nightshift/issue-2 from the remote']);
    expect(await readFile(join(first.dir, 'f.txt'), 'utf8')).toBe('follow\n');
    expect(existsSync(marks)).toBe(false);
  });

  it('keeps local commits: a branch ahead of origin stays, a diverged one gets a note', async () => {
    const first = await prepare('r-1');
    const local = await commitIn(first.dir, 'local.txt', 'local\n');
    const ahead = await prepare('r-2');
    expect(ahead.startCommit).toBe(local);
    expect(ahead.notes).toEqual([]);
    await commitIn(seed, 'remote.txt', 'remote\n');
    await pushSeed();
    const diverged = await prepare('r-3');
    expect(diverged.startCommit).toBe(local);
    expect(diverged.notes).toEqual([
      expect.stringMatching(/^workspace not fast-forwarded to origin\/main: /),
    ]);
  });
  it("makes a follow-up's branch that is nowhere from the worker's branch when no run committed to it, and refuses when one did", async () => {
    await prepare('r-1');
    const moved = await commitIn(seed, 'moved.txt', 'moved\n');
    await pushSeed();
    const asked: string[] = [];
    const made = await prepareWorkspace(
      join(root, 'home'),
      'w',
      checkout,
      'nightshift/issue-3',
      'r-2',
      auth,
      {
        followUp: {
          parentRunId: 'r-1',
          committedBefore: async () => {
            asked.push('r-1');
            return null;
          },
        },
      },
    );
    expect(asked).toEqual(['r-1']);
    expect(made.startCommit).toBe(moved);
    expect(await sh(made.dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/nightshift/issue-3');
    expect(made.notes).toEqual([
      "follow-up: nightshift/issue-3 is neither on the remote nor in the workspace, and run r-1 made no commit on it: made from the worker's branch main",
    ]);
    // Now it is in the workspace: continued as it is, nothing asked.
    const again = await prepareWorkspace(
      join(root, 'home'),
      'w',
      checkout,
      'nightshift/issue-3',
      'r-3',
      auth,
      {
        followUp: { parentRunId: 'r-2', committedBefore: notAsked },
      },
    );
    expect(again.notes).toEqual([
      'follow-up: nightshift/issue-3 is not on the remote; continuing it as the workspace has it',
    ]);
    const follow = (committedBefore: () => Promise<{ runId: string; commits: number } | null>) =>
      prepareWorkspace(join(root, 'home'), 'w', checkout, 'nightshift/issue-4', 'r-4', auth, {
        followUp: { parentRunId: 'r-1', committedBefore },
      });
    await expect(follow(async () => ({ runId: 'r-0', commits: 2 }))).rejects.toThrow(
      'the branch nightshift/issue-4 to follow up is neither on the remote nor in the workspace, and run r-0 made 2 commit(s) on it, which are not here to continue',
    );
    await expect(
      follow(async () => {
        throw new Error('run r-1 of its line is not found');
      }),
    ).rejects.toThrow(
      'neither on the remote nor in the workspace, and whether a run before committed to it is not known: run r-1 of its line is not found',
    );
    expect(await sh(made.dir, 'branch', '--list', 'nightshift/issue-4')).toBe('');
  });
});
