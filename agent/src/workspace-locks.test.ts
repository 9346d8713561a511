// Stale git locks: what a worker killed mid-commit leaves, removed before a resumed piece and before a fresh run's prepare (no emulators).
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSeededOrigin } from '@nightshift/shared/dev';
import { tempDir } from '@nightshift/shared/testing';
import { describe, expect, it } from 'vitest';
import { createGitAuth } from './git-auth/credentials.js';
import { createSecretReader } from './git-auth/secrets.js';
import { clearStaleGitLocks, prepareWorkspace } from './workspace.js';

const exec = promisify(execFile);

async function repo(): Promise<string> {
  const dir = await tempDir('nightshift-locks-');
  await exec('git', ['init', '-q', '-b', 'main', dir]);
  await writeFile(join(dir, 'a.txt'), 'a\n');
  await exec('git', ['-C', dir, 'add', 'a.txt']);
  return dir;
}

const commit = (dir: string) =>
  exec('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'a']);

describe('clearStaleGitLocks', () => {
  it('removes the index, HEAD and ref locks a killed git left, so the next commit succeeds', async () => {
    const dir = await repo();
    await writeFile(join(dir, '.git/index.lock'), '');
    await writeFile(join(dir, '.git/HEAD.lock'), '');
    await mkdir(join(dir, '.git/refs/heads/nightshift'), { recursive: true });
    await writeFile(join(dir, '.git/refs/heads/nightshift/r-1.lock'), '');
    await expect(commit(dir)).rejects.toThrow(/index\.lock/);
    const removed = await clearStaleGitLocks(dir);
    expect(removed.sort()).toEqual(['HEAD.lock', 'index.lock', 'refs/heads/nightshift/r-1.lock']);
    await expect(commit(dir)).resolves.toBeDefined();
  });

  it('removes nothing from a workspace without locks', async () => {
    expect(await clearStaleGitLocks(await repo())).toEqual([]);
  });
});

describe('prepareWorkspace after a lost run', () => {
  it("removes the locks the lost run's worker left, with a note, so the fresh run's worker can commit", async () => {
    const root = await tempDir('nightshift-locks-prepare-');
    const clock = { now: () => new Date(0) };
    const auth = createGitAuth(
      { username: 'x-access-token', apiUrl: 'https://api.github.com' },
      { secrets: createSecretReader({ clock }), clock },
    );
    const checkout = {
      repo: { url: await createSeededOrigin(root, 'w'), branch: 'main', push: false },
      workdir: null,
      roadmapPath: 'docs/roadmap.md',
      progressPath: 'PROGRESS.md',
      tasksPath: 'docs/TASKS.md',
    };
    const home = join(root, 'home');
    const { dir } = await prepareWorkspace(home, 'w', checkout, null, 'r-lost', auth);
    // The lost run's worker died mid-commit, between taking git's locks and releasing them.
    await writeFile(join(dir, '.git/index.lock'), '');
    await writeFile(join(dir, '.git/HEAD.lock'), '');
    await writeFile(join(dir, '.git/refs/heads/main.lock'), '');
    const fresh = await prepareWorkspace(home, 'w', checkout, null, 'r-fresh', auth);
    expect(fresh.notes).toEqual([
      "removed git's stale lock files left by an earlier run: index.lock, HEAD.lock, refs/heads/main.lock",
    ]);
    await writeFile(join(dir, 'a.txt'), 'a\n');
    await exec('git', ['-C', dir, 'add', 'a.txt']);
    await expect(commit(dir)).resolves.toBeDefined();
  });
});
