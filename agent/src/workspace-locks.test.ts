// Stale git locks: what a worker killed mid-commit leaves, removed before a resumed piece (no emulators).
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '@nightshift/shared/testing';
import { describe, expect, it } from 'vitest';
import { clearStaleGitLocks } from './workspace.js';

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
