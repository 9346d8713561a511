// A bare git origin seeded with a roadmap and PROGRESS.md, as a worker's repository: for the bench and tests.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

async function git(cwd: string, ...args: string[]): Promise<void> {
  await exec('git', args, { cwd });
}

/**
 * Creates `<root>/origins/<name>.git` (bare, branch main) holding one commit with docs/roadmap.md and
 * PROGRESS.md, pushed from a seed checkout in `<root>/seeds/<name>`. Returns the origin's path.
 */
export async function createSeededOrigin(root: string, name: string): Promise<string> {
  const origin = join(root, 'origins', `${name}.git`);
  const seed = join(root, 'seeds', name);
  await mkdir(join(seed, 'docs'), { recursive: true });
  await mkdir(dirname(origin), { recursive: true });
  await git(root, 'init', '-q', '--bare', '-b', 'main', origin);
  await git(seed, 'init', '-q', '-b', 'main');
  await writeFile(join(seed, 'docs', 'roadmap.md'), '# Roadmap\n\n## M1 — NOT STARTED\n- [ ] do it\n');
  await writeFile(join(seed, 'PROGRESS.md'), '# Progress\n');
  await git(seed, 'add', '.');
  await git(seed, '-c', 'user.name=Seed', '-c', 'user.email=seed@example.com', 'commit', '-q', '-m', 'seed');
  await git(seed, 'push', '-q', origin, 'main');
  return origin;
}
