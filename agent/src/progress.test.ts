// Progress: PROGRESS.md is read only when it is a regular file, and only its tail; writes coalesce in a widening window.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TERMINAL_STATUSES } from '@nightshift/shared';
import { describeEmulators } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { progressGapMs } from './progress.js';
import { type AgentTest, git, setupAgentTest } from './testing/harness.js';
import { PROGRESS_WRITE_MAX_INTERVAL_MS } from './timings.js';

const exec = promisify(execFile);

describe('progressGapMs', () => {
  it('writes the first progress at once, then widens the gap threefold from the base up to a minute', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => progressGapMs(n, 5_000))).toEqual([
      0,
      5_000,
      15_000,
      45_000,
      PROGRESS_WRITE_MAX_INTERVAL_MS,
      PROGRESS_WRITE_MAX_INTERVAL_MS,
    ]);
  });

  it('makes 3 progress writes in a 60-second run with progress every second', () => {
    let last = Number.NEGATIVE_INFINITY;
    let writes = 0;
    for (let t = 1_000; t <= 60_000; t += 1_000) {
      if (t - last >= progressGapMs(writes, 5_000)) {
        writes++;
        last = t;
      }
    }
    expect(writes).toBe(3);
  });

  it('never waits longer than the base when the base is above the cap', () => {
    expect(progressGapMs(5, 120_000)).toBe(120_000);
  });
});

describeEmulators('Progress: PROGRESS.md', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent();
  });

  /** A worker `workdir`: a git repository with PROGRESS.md as given. */
  async function workdir(name: string, progress: string): Promise<string> {
    const dir = join(t.root, 'workdirs', name);
    await mkdir(dir, { recursive: true });
    await git(dir, 'init', '-q', '-b', 'main');
    await writeFile(join(dir, 'PROGRESS.md'), progress);
    await git(dir, 'add', '.');
    await git(dir, '-c', 'user.name=Seed', '-c', 'user.email=seed@example.com', 'commit', '-q', '-m', 'seed');
    return dir;
  }

  describe('Progress: a FIFO at progressPath', () => {
    it('never blocks the agent: the run ends succeeded, progress from the last assistant text', async () => {
      const dir = await workdir('fifo', '# Progress\n');
      await exec('mkfifo', [join(dir, 'progress.fifo')]);
      await t.createWorker('fifo', { workdir: dir, progressPath: 'progress.fifo' });
      const run = await t.createRun('fifo');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(done.progress?.text).toBe('Milestone done.');
    });
  });

  describe('Progress: a PROGRESS.md of several MB', () => {
    it('yields its capped tail, ending with its last line', async () => {
      const lines: string[] = ['# Progress\n'];
      for (let i = 0; i < 120_000; i++) lines.push(`- line ${i}: café ✓ done\n`);
      const dir = await workdir('big', lines.join(''));
      await t.createWorker('big', { workdir: dir });
      const run = await t.createRun('big');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      const file = await readFile(join(dir, 'PROGRESS.md'), 'utf8');
      expect(file.length).toBeGreaterThan(3_000_000);
      const lastLine = file.trimEnd().split('\n').at(-1);
      expect(lastLine).toBe('- step 2 done by fake claude');
      const text = done.progress?.text ?? '';
      expect(text).toHaveLength(4_000);
      expect(text.startsWith('…')).toBe(true);
      expect(text).toBe(`…${file.slice(file.length - 3_999)}`);
      expect(text.endsWith(`${lastLine}\n`)).toBe(true);
    });
  });

  describe('Progress: text cut through an emoji', () => {
    it('never stores half a surrogate pair: the cut keeps whole emoji and the run ends', async () => {
      // 3000 emoji (6000 UTF-16 units) and the fake's two ASCII lines (58 units): keeping the last 3999
      // units starts at an odd index, inside an emoji. Firestore garbles such a string (U+FFFD, as the emulator
      // does on this path) or refuses the write outright (as it does for set()), which can leave a run's
      // terminal write failing for good.
      const dir = await workdir('emoji', '🎉'.repeat(3000));
      await t.createWorker('emoji', { workdir: dir });
      const run = await t.createRun('emoji');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      const text = done.progress?.text ?? '';
      expect(text.length).toBeLessThanOrEqual(4000);
      expect(text).toMatch(/^…🎉+- step 1 done by fake claude\n- step 2 done by fake claude\n$/u);
      expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    });
  });
});
