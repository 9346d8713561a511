// Launch: a run from clone to succeeded, and request text that never reaches a shell or tmux.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeEmulators } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentTest, git, setupAgentTest } from './testing/harness.js';

describeEmulators('Launch', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent();
  });

  describe('Launch and Finish: a run that succeeds', () => {
    it('clones, runs the worker in tmux, and ends succeeded with usage, progress, commits and events', async () => {
      await t.createWorker('blog');
      const run = await t.createRun('blog');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost', 'timed_out']);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(done.agentId).toBe('agent-test');
      expect(done.session).toBe(`blog-${run.id}`);
      expect(done.exitCode).toBe(0);
      expect(done.startedAt).not.toBeNull();
      expect(done.finishedAt).not.toBeNull();
      expect(done.result).toBe('Milestone done.');
      // Totals from the result message: 3 turns, cost and tokens (input = input + cache creation + cache read).
      expect(done.usage).toEqual({ turns: 3, costUsd: 0.0375, inputTokens: 345, outputTokens: 60 });
      const workspace = join(t.home, 'workspaces', 'blog');
      expect(done.startCommit).toBe(await git(workspace, 'rev-parse', 'HEAD~2'));
      expect(done.commits).toEqual(
        (await git(workspace, 'rev-list', '--reverse', 'HEAD~2..HEAD')).split('\n'),
      );
      expect(done.progress?.text).toContain('step 2 done by fake claude');
      expect(await t.events(run.id)).toEqual(['queued->starting', 'starting->running', 'running->succeeded']);
      expect(await t.tmux.hasSession(`blog-${run.id}`)).toBe(false);
      // The lock is released.
      expect(await t.lockReleased('blog')).toBe(true);
    });
  });

  describe('Launch: request text never reaches a shell or tmux', () => {
    it('passes a hostile prompt to the worker byte for byte and creates nothing', async () => {
      await t.createWorker('hostile');
      const prompt = '$(touch pwned); b; `id` && rm -rf ~';
      const run = await t.createRun('hostile', { prompt });
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost']);
      expect(done.status).toBe('succeeded');
      expect(done.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const received = await readFile(join(t.fakeDir, `${run.id}.prompt`));
      expect(received.equals(Buffer.from(prompt, 'utf8'))).toBe(true);
      const argv = JSON.parse(await readFile(join(t.fakeDir, `${run.id}.argv.json`), 'utf8')) as string[];
      expect(argv).toEqual([
        '-p',
        prompt,
        '--model',
        'sonnet',
        '--dangerously-skip-permissions',
        '--output-format',
        'stream-json',
        '--verbose',
        // The run's own session: a later piece resumes it with --resume.
        '--session-id',
        done.sessionId,
        // attribution none (the default): Claude Code's own setting, beside the commit-msg hook.
        '--settings',
        '{"attribution":{"commit":"","pr":""}}',
      ]);
      for (const dir of [
        t.root,
        t.home,
        join(t.home, 'workspaces', 'hostile'),
        join(t.home, 'runs', run.id),
        process.cwd(),
      ]) {
        expect(existsSync(join(dir, 'pwned'))).toBe(false);
      }
    });

    it('adds --max-turns and --max-budget-usd when the run sets them', async () => {
      await t.createWorker('limits');
      const run = await t.createRun('limits', { maxTurns: 7, maxBudgetUsd: 1.5, model: 'opus' });
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost']);
      const argv = JSON.parse(await readFile(join(t.fakeDir, `${run.id}.argv.json`), 'utf8')) as string[];
      expect(argv.slice(2)).toEqual([
        '--model',
        'opus',
        '--dangerously-skip-permissions',
        '--output-format',
        'stream-json',
        '--verbose',
        '--session-id',
        done.sessionId,
        '--max-turns',
        '7',
        '--max-budget-usd',
        '1.5',
        '--settings',
        '{"attribution":{"commit":"","pr":""}}',
      ]);
    });
  });
});
