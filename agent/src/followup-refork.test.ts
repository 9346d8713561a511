// Follow-ups whose first piece died before Claude stored the fork: the next piece forks the parent's session again under the run's own id, or starts afresh when the parent's session is gone too.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Run, type RunEvent, TERMINAL_STATUSES, type Trigger } from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { beforeAll, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import { type AgentTest, setupAgentTest } from './testing/harness.js';

describeEmulators('Follow-ups: a first piece lost before its fork was stored', () => {
  let t: AgentTest;
  let agent: Agent;
  beforeAll(async () => {
    t = await setupAgentTest();
    agent = await t.startAgent();
  });

  const argvs = async (runId: string): Promise<string[][]> =>
    (await readFile(join(t.fakeDir, `${runId}.argvs`), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as string[]);
  const flagOf = (argv: string[] | undefined, name: string) => {
    const i = argv?.indexOf(name) ?? -1;
    return i >= 0 ? argv?.[i + 1] : undefined;
  };
  const notes = async (runId: string): Promise<string[]> =>
    (await t.env.cols.runEvents(runId).orderBy('at').get()).docs
      .map((d) => d.data())
      .flatMap((e: RunEvent) => (e.type === 'note' ? [e.message] : []));
  const followUpTrigger = (parentSessionId: string | null): Trigger => ({
    type: 'github',
    repo: 'acme/site',
    issue: 9,
    sender: 'octocat',
    deliveryId: 'd-1',
    pullRequest: 12,
    followUp: { kind: 'review', parentSessionId, reviewId: 5 },
  });
  const own = { turns: 3, costUsd: 0.0375, inputTokens: 345, outputTokens: 60 };

  /** A parent run that pushed its branch, and a follow-up of it whose first piece is lost with the VM at its start. */
  async function interruptedFollowUp(
    workerId: string,
    beforeRestart: (parent: Run) => Promise<void> = async () => {},
  ): Promise<{ parent: Run; follow: Run }> {
    const branch = `nightshift/issue-9-${workerId}-label-1`;
    await t.createWorker(workerId, { repo: { url: await t.makeRepo(workerId), branch: 'main', push: true } });
    const first = await t.createRun(workerId, { workBranch: branch });
    await t.publish('run.start', first.id);
    const parent = await t.waitStatus(first.id, TERMINAL_STATUSES);
    expect(parent.status).toBe('succeeded');
    expect(parent.usage).toEqual(own);
    const follow = await t.createRun(workerId, {
      workBranch: branch,
      parentRunId: parent.id,
      prompt: 'Address the review of the pull request.',
      trigger: followUpTrigger(parent.sessionId),
    });
    await t.scenario(follow.id, 'hang_before_session');
    await t.publish('run.start', follow.id);
    expect((await t.waitStatus(follow.id, ['running', ...TERMINAL_STATUSES])).status).toBe('running');
    await waitFor('the fork to hang before it stored its session', () =>
      existsSync(join(t.fakeDir, `${follow.id}.hanging`)),
    );
    const sessionId = (await t.env.cols.runs.doc(follow.id).get()).data()?.sessionId ?? 'none';
    expect(existsSync(join(t.fakeDir, 'sessions', sessionId))).toBe(false);
    // The VM goes away: the agent stops and the tmux server with the worker on it dies.
    await agent.stop();
    await t.tmux.killServer();
    await beforeRestart(parent);
    await t.scenario(follow.id, 'success');
    agent = await t.startAgent();
    return { parent, follow };
  }

  it("forks the parent's session again under the run's own id, its usage its own", async () => {
    const { parent, follow } = await interruptedFollowUp('rf');
    const done = await t.waitStatus(follow.id, TERMINAL_STATUSES, 30_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(done.waits).toBe(1);
    const all = await argvs(follow.id);
    expect(all).toHaveLength(2);
    for (const argv of all) {
      expect(flagOf(argv, '--resume')).toBe(parent.sessionId);
      expect(argv).toContain('--fork-session');
      expect(flagOf(argv, '--session-id')).toBe(done.sessionId);
      // The follow-up's own prompt both times: the parent's conversation never heard it.
      expect(flagOf(argv, '-p')).toBe(follow.prompt);
    }
    expect(existsSync(join(t.fakeDir, 'sessions', done.sessionId ?? 'none'))).toBe(true);
    const said = await notes(follow.id);
    expect(
      said.some((n) =>
        n.includes(
          `piece 2: the run's own Claude session ${done.sessionId} was never stored (the last piece ended: interrupted); forking run ${parent.id}'s session ${parent.sessionId} again`,
        ),
      ),
    ).toBe(true);
    expect(said.some((n) => n.includes('was not found'))).toBe(false);
    // The lost piece saw nothing; the second fork's result carried the parent's 3 turns too, taken off.
    expect(done.pieces.map((p) => [p.mode, p.session, p.ending, p.usageFrom])).toEqual([
      ['fresh', 'forked', 'interrupted', 'stream'],
      ['resume', 'forked', 'ended', 'cumulative'],
    ]);
    expect(done.pieces[0]?.usage).toEqual({ turns: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 });
    expect(done.usage).toEqual(own);
    expect((await t.env.cols.runs.doc(parent.id).get()).data()?.usage).toEqual(own);
  });

  it("starts afresh, and says so, when the parent's session is gone too", async () => {
    const { parent, follow } = await interruptedFollowUp('rf2', async (p) => {
      await rm(join(t.fakeDir, 'sessions', p.sessionId ?? 'none'));
    });
    const done = await t.waitStatus(follow.id, TERMINAL_STATUSES, 30_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    const [first, second, third, ...more] = await argvs(follow.id);
    expect(more).toHaveLength(0);
    for (const argv of [first, second]) {
      expect(flagOf(argv, '--resume')).toBe(parent.sessionId);
      expect(flagOf(argv, '--session-id')).toBe(done.sessionId);
    }
    expect(third).not.toContain('--resume');
    expect(flagOf(third, '--session-id')).toBe(done.sessionId);
    expect(flagOf(third, '-p')).toBe(follow.prompt);
    expect(
      (await notes(follow.id)).some((n) =>
        n.includes(
          `the parent run's Claude session ${parent.sessionId} was not found in ${join(t.home, 'workspaces', 'rf2')}; this follow-up starts afresh with its prompt`,
        ),
      ),
    ).toBe(true);
    // A new session: nothing of the parent's to take off, nothing of it counted.
    expect(done.pieces.map((p) => [p.session, p.usageFrom])).toEqual([
      ['forked', 'stream'],
      ['new', 'piece'],
    ]);
    expect(done.usage).toEqual(own);
  });
});
