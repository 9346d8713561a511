// Follow-ups on the VM: a follow-up run continues its pull request's branch from the remote and resumes its parent's Claude session (forked), or starts afresh when the session is gone.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createRunMover, type Run, type RunEvent, TERMINAL_STATUSES, type Trigger } from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { beforeAll, expect, it } from 'vitest';
import { type AgentTest, git, setupAgentTest } from './testing/harness.js';

describeEmulators('Follow-ups: the checkout and the session', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent();
  });

  const argvs = async (runId: string): Promise<string[][]> =>
    (await readFile(join(t.fakeDir, `${runId}.argvs`), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as string[]);
  const argvsOrNone = (runId: string) => argvs(runId).catch(() => null);
  const notes = async (runId: string): Promise<string[]> =>
    (await t.env.cols.runEvents(runId).orderBy('at').get()).docs
      .map((d) => d.data())
      .flatMap((e: RunEvent) => (e.type === 'note' ? [e.message] : []));
  const followUpTrigger = (_parent: Run, parentSessionId: string | null): Trigger => ({
    type: 'github',
    repo: 'acme/site',
    issue: 9,
    sender: 'octocat',
    deliveryId: 'd-1',
    pullRequest: 12,
    followUp: { kind: 'review', parentSessionId, reviewId: 5 },
  });

  it("continues the pull request's branch as the remote has it, on top of the parent's commits, and resumes the parent's session", async () => {
    const branch = 'nightshift/issue-9-fu-label-1';
    const origin = await t.makeRepo('fu');
    const seed = await git(origin, 'rev-parse', 'main');
    await t.createWorker('fu', { repo: { url: origin, branch: 'main', push: true } });
    const parent = await t.createRun('fu', { workBranch: branch });
    await t.publish('run.start', parent.id);
    const parentDone = await t.waitStatus(parent.id, TERMINAL_STATUSES);
    expect(parentDone.status).toBe('succeeded');
    expect(parentDone.pushedBranch).toBe(branch);
    expect(parentDone.sessionId).not.toBeNull();

    // A person pushes a commit of their own onto the pull request's branch meanwhile.
    const person = join(t.root, 'person-fu');
    await git(t.root, 'clone', '--quiet', '--branch', branch, origin, person);
    await git(
      person,
      '-c',
      'user.name=p',
      '-c',
      'user.email=p@x',
      'commit',
      '--allow-empty',
      '-m',
      'reviewer fix',
    );
    await git(person, 'push', '--quiet', 'origin', branch);
    const personal = await git(person, 'rev-parse', 'HEAD');
    // The workspace was left elsewhere: the follow-up must not start from the worker's branch.
    const other = await t.createRun('fu');
    await t.publish('run.start', other.id);
    expect((await t.waitStatus(other.id, TERMINAL_STATUSES)).status).toBe('succeeded');

    const follow = await t.createRun('fu', {
      workBranch: branch,
      parentRunId: parent.id,
      trigger: followUpTrigger(parentDone, parentDone.sessionId),
    });
    await t.publish('run.start', follow.id);
    const done = await t.waitStatus(follow.id, TERMINAL_STATUSES);
    expect(done.status).toBe('succeeded');
    expect(done.startCommit).toBe(personal);
    expect(done.commits.length).toBeGreaterThan(0);
    expect(done.pushedBranch).toBe(branch);
    expect(await git(origin, 'rev-parse', `refs/heads/${branch}`)).toBe(done.commits.at(-1));
    // The parent's commits and the person's are below the follow-up's.
    for (const sha of [...parentDone.commits, personal])
      await git(origin, 'merge-base', '--is-ancestor', sha, `refs/heads/${branch}`);
    expect(await git(origin, 'rev-parse', 'main')).not.toBe(done.commits.at(-1));
    expect(seed).not.toBe(done.startCommit);

    const [argv, ...more] = await argvs(follow.id);
    expect(more).toHaveLength(0);
    const at = argv?.indexOf('--resume') ?? -1;
    expect(argv?.[at + 1]).toBe(parentDone.sessionId);
    expect(argv).toContain('--fork-session');
    expect(argv?.[(argv?.indexOf('--session-id') ?? -2) + 1]).toBe(done.sessionId);
    expect(done.sessionId).not.toBe(parentDone.sessionId);
    const said = await notes(follow.id);
    expect(said.some((n) => n.includes(`resuming its Claude session ${parentDone.sessionId}`))).toBe(true);
    // The fork's result carried its parent's saved total too (3 turns of 0.0125): the follow-up's usage is
    // its own 3 turns only, and the parent's stays the parent's.
    const own = { turns: 3, costUsd: 0.0375, inputTokens: 345, outputTokens: 60 };
    expect(parentDone.usage).toEqual(own);
    expect(done.usage).toEqual(own);
    expect((await t.env.cols.runs.doc(parent.id).get()).data()?.usage).toEqual(own);
    expect(said.some((n) => n.includes(`follow-up: continuing ${branch}`))).toBe(true);
  });

  it('counts a follow-up of a follow-up by its own spend: its fork carries both earlier sessions', async () => {
    const branch = 'nightshift/issue-9-fu6-label-1';
    await t.createWorker('fu6', { repo: { url: await t.makeRepo('fu6'), branch: 'main', push: true } });
    const first = await t.createRun('fu6', { workBranch: branch });
    await t.publish('run.start', first.id);
    const firstDone = await t.waitStatus(first.id, TERMINAL_STATUSES);
    expect(firstDone.status).toBe('succeeded');
    const second = await t.createRun('fu6', {
      workBranch: branch,
      parentRunId: first.id,
      trigger: followUpTrigger(firstDone, firstDone.sessionId),
    });
    await t.publish('run.start', second.id);
    const secondDone = await t.waitStatus(second.id, TERMINAL_STATUSES);
    expect(secondDone.status).toBe('succeeded');
    const third = await t.createRun('fu6', {
      workBranch: branch,
      parentRunId: second.id,
      trigger: followUpTrigger(secondDone, secondDone.sessionId),
    });
    await t.publish('run.start', third.id);
    const done = await t.waitStatus(third.id, TERMINAL_STATUSES);
    expect(done.status).toBe('succeeded');
    const [argv] = await argvs(third.id);
    expect(argv?.[(argv?.indexOf('--resume') ?? -2) + 1]).toBe(secondDone.sessionId);
    // The third fork's result said 9 turns and $0.1125 (the first run's 3, the second's 3, its own 3): each
    // run keeps its own 3 turns.
    const own = { turns: 3, costUsd: 0.0375, inputTokens: 345, outputTokens: 60 };
    expect(firstDone.usage).toEqual(own);
    expect(secondDone.usage).toEqual(own);
    expect(done.usage).toEqual(own);
  });

  it("keeps the parent's spend out of a forked follow-up that pauses and resumes", async () => {
    const branch = 'nightshift/issue-9-fu4-label-1';
    const origin = await t.makeRepo('fu4');
    await t.createWorker('fu4', { repo: { url: origin, branch: 'main', push: true } });
    const parent = await t.createRun('fu4', { workBranch: branch });
    await t.publish('run.start', parent.id);
    const parentDone = await t.waitStatus(parent.id, TERMINAL_STATUSES);
    expect(parentDone.status).toBe('succeeded');
    const follow = await t.createRun('fu4', {
      workBranch: branch,
      parentRunId: parent.id,
      trigger: followUpTrigger(parentDone, parentDone.sessionId),
    });
    await t.scenario(follow.id, 'rate_limit', 300);
    await t.publish('run.start', follow.id);
    const waiting = await t.waitStatus(follow.id, ['waiting', ...TERMINAL_STATUSES]);
    expect(waiting.status).toBe('waiting');
    // The fork's first result said 5 turns and $0.0625 (the parent's 3 and its own 2).
    expect(waiting.usage).toEqual({ turns: 2, costUsd: 0.025, inputTokens: 230, outputTokens: 40 });
    expect(waiting.pieces.map((p) => [p.session, p.usageFrom, p.turnsFrom])).toEqual([
      ['forked', 'cumulative', 'cumulative'],
    ]);
    await waitFor('the reset', () => Date.now() > Date.parse(waiting.resumeAt ?? ''));
    const move = createRunMover({ cols: t.env.cols, agentId: null, deadlineMs: 5_000 });
    await move(follow.id, 'queued', {
      patch: { resumeAt: null },
      reason: 'resumeAt has come',
      expect: ['waiting'],
    });
    await t.publish('run.start', follow.id);
    const done = await t.waitStatus(follow.id, TERMINAL_STATUSES);
    expect(done.status).toBe('succeeded');
    // Its second result carried 8 turns and $0.1 (the parent's 3, the fork's 2, its own 3).
    expect(done.usage).toEqual({ turns: 5, costUsd: 0.0625, inputTokens: 575, outputTokens: 100 });
    expect(done.pieces.map((p) => [p.session, p.usageFrom, p.usage.costUsd])).toEqual([
      ['forked', 'cumulative', 0.025],
      ['resumed', 'cumulative', 0.0375],
    ]);
    expect((await t.env.cols.runs.doc(parent.id).get()).data()?.usage.costUsd).toBe(0.0375);
  });

  it("starts afresh, and says so, when the workspace no longer holds the parent's session", async () => {
    const branch = 'nightshift/issue-9-fu2-label-1';
    const origin = await t.makeRepo('fu2');
    await t.createWorker('fu2', { repo: { url: origin, branch: 'main', push: true } });
    const parent = await t.createRun('fu2', { workBranch: branch });
    await t.publish('run.start', parent.id);
    const parentDone = await t.waitStatus(parent.id, TERMINAL_STATUSES);
    expect(parentDone.pushedBranch).toBe(branch);
    // As on another VM: no workspace (a fresh clone) and no such session.
    await rm(join(t.home, 'workspaces', 'fu2'), { recursive: true, force: true });
    const gone = '0b7c2f9e-7a51-4f3c-9a55-3f2d1c0b9a88';
    const follow = await t.createRun('fu2', {
      workBranch: branch,
      parentRunId: parent.id,
      trigger: followUpTrigger(parentDone, gone),
    });
    await t.publish('run.start', follow.id);
    const done = await t.waitStatus(follow.id, TERMINAL_STATUSES);
    expect(done.status).toBe('succeeded');
    expect(done.startCommit).toBe(parentDone.commits.at(-1));
    const [first, second] = await argvs(follow.id);
    expect(first?.[(first?.indexOf('--resume') ?? -2) + 1]).toBe(gone);
    expect(second).not.toContain('--resume');
    expect(second?.[(second?.indexOf('--session-id') ?? -2) + 1]).toBe(done.sessionId);
    expect((await notes(follow.id)).some((n) => n.includes(`session ${gone} was not found`))).toBe(true);
    // A new session: nothing of the parent's to take off, and nothing of it counted.
    expect(done.usage).toEqual({ turns: 3, costUsd: 0.0375, inputTokens: 345, outputTokens: 60 });
  });

  it('fails with the reason when the branch to follow up is nowhere and its parent had committed to it', async () => {
    const branch = 'nightshift/issue-9-fu3-label-1';
    await t.createWorker('fu3', { repo: { url: await t.makeRepo('fu3'), branch: 'main', push: false } });
    const parent = await t.createRun('fu3', { workBranch: branch });
    await t.publish('run.start', parent.id);
    const parentDone = await t.waitStatus(parent.id, TERMINAL_STATUSES);
    expect(parentDone.status).toBe('succeeded');
    expect(parentDone.commits).toHaveLength(2);
    expect(parentDone.pushedBranch).toBeNull();
    // As on another VM: the parent's commits were only in a workspace that is not here.
    await rm(join(t.home, 'workspaces', 'fu3'), { recursive: true, force: true });
    const follow = await t.createRun('fu3', {
      workBranch: branch,
      parentRunId: parent.id,
      trigger: followUpTrigger(parentDone, parentDone.sessionId),
    });
    await t.publish('run.start', follow.id);
    const done = await t.waitStatus(follow.id, TERMINAL_STATUSES);
    expect(done.status).toBe('failed');
    expect(done.error).toContain(
      `the branch ${branch} to follow up is neither on the remote nor in the workspace, and run ${parent.id} made 2 commit(s) on it, which are not here to continue`,
    );
    expect(await argvsOrNone(follow.id)).toBeNull();
  });
});
