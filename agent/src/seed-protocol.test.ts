// The seed's file protocol on the emulators with the stand-in worker: commit attribution stripped, blockers and stalls recorded.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { autopilotOf, checkoutOf, type RunEvent } from '@nightshift/shared';
import { describeEmulators } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentTest, git, setupAgentTest } from './testing/harness.js';

describeEmulators('The seed file protocol', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent();
  });

  const argvOf = async (runId: string): Promise<string[]> =>
    JSON.parse(await readFile(join(t.fakeDir, `${runId}.argv.json`), 'utf8')) as string[];
  const notes = async (runId: string): Promise<string[]> =>
    (await t.env.cols.runEvents(runId).orderBy('at').get()).docs
      .map((d) => d.data())
      .flatMap((e: RunEvent) => (e.type === 'note' ? [e.message] : []));

  describe('attribution', () => {
    it('none (the default): no pushed commit carries Claude trailers, and the setting is passed', async () => {
      const seeded = await t.createWorker('plain');
      const worker = await t.createWorker('plain', {
        repo: { url: seeded.repo?.url ?? '', branch: 'main', push: true },
      });
      const run = await t.createRun('plain');
      expect(run.checkout.repo?.push).toBe(true);
      await t.scenario(run.id, 'trailers');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost']);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(done.pushedBranch).toBe('main');
      // The stand-in says apiKeySource none, as the CLI does on a subscription: the cost is an estimate.
      expect(done.paidBy).toEqual({
        kind: 'subscription',
        apiKeySource: 'none',
        cost: 'api_equivalent_estimate',
      });
      const argv = await argvOf(run.id);
      expect(argv.slice(argv.indexOf('--settings'), argv.indexOf('--settings') + 2)).toEqual([
        '--settings',
        '{"attribution":{"commit":"","pr":""}}',
      ]);
      const origin = worker.repo?.url ?? '';
      const messages = await git(origin, 'log', '--format=%B%x00', 'main');
      expect(messages).toContain(`step 2 (run ${run.id})`);
      expect(messages).not.toMatch(/Co-Authored-By|Generated with \[Claude Code\]|Claude-Session/i);
      // The message ends where the trailers began: no blank lines left behind.
      const last = await git(origin, 'log', '-1', '--format=%B', 'main');
      expect(last).toBe(`step 2 (run ${run.id})`);
      const hook = await readFile(join(t.home, 'workspaces', 'plain', '.git', 'hooks', 'commit-msg'), 'utf8');
      expect(hook).toContain('nightshift: attribution none');
    });

    it('claude: the trailers stay, no setting is passed, and an earlier hook is removed', async () => {
      const worker = await t.createWorker('credited', { attribution: 'claude' });
      // A first run with none installs the hook in the workspace; the worker then turns attribution on.
      const first = await t.createRun('credited', {
        autopilot: { ...autopilotOf(worker), attribution: 'none' },
        checkout: checkoutOf(worker),
      });
      await t.publish('run.start', first.id);
      expect((await t.waitStatus(first.id, ['succeeded', 'failed', 'lost'])).status).toBe('succeeded');
      const run = await t.createRun('credited');
      await t.scenario(run.id, 'trailers');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost']);
      expect(done.status).toBe('succeeded');
      expect(await argvOf(run.id)).not.toContain('--settings');
      const workspace = join(t.home, 'workspaces', 'credited');
      const last = await git(workspace, 'log', '-1', '--format=%B');
      expect(last).toContain('Co-Authored-By: Claude <noreply@anthropic.com>');
      expect(last).toContain('Generated with [Claude Code]');
      expect(await notes(run.id)).toContain(
        "attribution claude: nightshift's commit-msg hook was removed from the workspace",
      );
    });
  });

  describe('blocked', () => {
    it('records a blocker written to PROGRESS.md, with an event', async () => {
      await t.createWorker('stuck');
      const run = await t.createRun('stuck');
      await t.scenario(run.id, 'blocked');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost']);
      expect(done.status).toBe('succeeded');
      expect(done.blocked).toEqual({
        text: `needs the staging database password (run ${run.id})`,
        source: 'progress',
      });
      expect(await notes(run.id)).toContain(
        `blocked: needs the staging database password (run ${run.id}) (reported in PROGRESS.md)`,
      );
      // The next run of the worker finds the old line in PROGRESS.md: it is not blocked by it.
      const next = await t.createRun('stuck');
      await t.publish('run.start', next.id);
      const second = await t.waitStatus(next.id, ['succeeded', 'failed', 'lost']);
      expect(second.status).toBe('succeeded');
      expect(second.blocked).toBeNull();
    });

    it('records a blocker in the final result', async () => {
      await t.createWorker('asking');
      const run = await t.createRun('asking');
      await t.scenario(run.id, 'blocked', 'result');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost']);
      expect(done.blocked).toEqual({
        text: `needs the staging database password (run ${run.id})`,
        source: 'result',
      });
    });
  });

  it('records the open items of the roadmap and TASKS.md as committed when the run ends', async () => {
    await t.createWorker('ticker');
    const untouched = await t.createRun('ticker');
    await t.publish('run.start', untouched.id);
    expect((await t.waitStatus(untouched.id, ['succeeded', 'failed', 'lost'])).roadmapOpen).toBe(1);
    const ticked = await t.createRun('ticker');
    await t.scenario(ticked.id, 'tick');
    await t.publish('run.start', ticked.id);
    const done = await t.waitStatus(ticked.id, ['succeeded', 'failed', 'lost']);
    expect(done.commits).toHaveLength(1);
    expect(done.roadmapOpen).toBe(0);
    const workspace = join(t.home, 'workspaces', 'ticker');
    expect(await git(workspace, 'show', 'HEAD:docs/roadmap.md')).toContain(`- [x] do it (run ${ticked.id})`);
  });
});
