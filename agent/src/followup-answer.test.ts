// Answering a blocked run on the VM: the answer run continues the blocked run's branch (pushed, only in the workspace, or made from the worker's branch when the blocked run committed nothing) and resumes its Claude session, forked under its own id, with the answer in the prompt.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunEvent, TERMINAL_STATUSES } from '@nightshift/shared';
import { describeEmulators } from '@nightshift/shared/testing';
import { beforeAll, expect, it } from 'vitest';
import { type AgentTest, git, setupAgentTest } from './testing/harness.js';

describeEmulators('Answering a blocked run: the checkout and the session', () => {
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
  const notes = async (runId: string): Promise<string[]> =>
    (await t.env.cols.runEvents(runId).orderBy('at').get()).docs
      .map((d) => d.data())
      .flatMap((e: RunEvent) => (e.type === 'note' ? [e.message] : []));

  it('a blocked run whose branch is gone from the remote: the answer continues it as the workspace has it and resumes its session with the answer', async () => {
    const branch = 'nightshift/issue-4-ans-label-1';
    const origin = await t.makeRepo('ans');
    await t.createWorker('ans', { repo: { url: origin, branch: 'main', push: true } });
    const parent = await t.createRun('ans', {
      workBranch: branch,
      trigger: { type: 'github', repo: 'acme/site', issue: 4, sender: 'octocat', deliveryId: 'd-0' },
    });
    // Blocked in its final result.
    await t.scenario(parent.id, 'blocked', 'result');
    await t.publish('run.start', parent.id);
    const blocked = await t.waitStatus(parent.id, TERMINAL_STATUSES);
    expect(blocked.blocked).toMatchObject({ source: 'result' });
    expect(blocked.blocked?.text).toContain('needs the staging database password');
    expect(blocked.pushedBranch).toBe(branch);
    expect(blocked.sessionId).not.toBeNull();
    // The branch is deleted on the remote meanwhile (say, with its pull request): only the workspace has it.
    await git(origin, 'branch', '-D', branch);

    const answer = await t.createRun('ans', {
      workBranch: branch,
      parentRunId: parent.id,
      prompt: `Work on the roadmap.\n\n## Answer to your blocker\nYou were blocked on: ${blocked.blocked?.text}\n@octocat answered: use the password in the VM's vault`,
      trigger: {
        type: 'github',
        repo: 'acme/site',
        issue: 4,
        sender: 'octocat',
        deliveryId: 'd-1',
        commentId: 77,
        followUp: { kind: 'answer', parentSessionId: blocked.sessionId },
      },
    });
    await t.publish('run.start', answer.id);
    const done = await t.waitStatus(answer.id, TERMINAL_STATUSES);
    expect(done.status).toBe('succeeded');
    expect(done.blocked).toBeNull();
    expect(done.startCommit).toBe(blocked.commits.at(-1));
    expect(done.commits.length).toBeGreaterThan(0);
    expect(done.pushedBranch).toBe(branch);
    expect(await git(origin, 'rev-parse', `refs/heads/${branch}`)).toBe(done.commits.at(-1));

    // One piece: the blocked run's conversation, forked under the answer run's own id, told the answer.
    const [argv, ...more] = await argvs(answer.id);
    expect(more).toHaveLength(0);
    expect(argv?.[(argv?.indexOf('--resume') ?? -2) + 1]).toBe(blocked.sessionId);
    expect(argv).toContain('--fork-session');
    expect(argv?.[(argv?.indexOf('--session-id') ?? -2) + 1]).toBe(done.sessionId);
    expect(done.sessionId).not.toBe(blocked.sessionId);
    expect(argv?.[(argv?.indexOf('-p') ?? -2) + 1]).toContain(
      "@octocat answered: use the password in the VM's vault",
    );
    const said = await notes(answer.id);
    expect(
      said.some((n) => n.includes(`${branch} is not on the remote; continuing it as the workspace has it`)),
    ).toBe(true);
    expect(said.some((n) => n.includes(`resuming its Claude session ${blocked.sessionId}`))).toBe(true);
  });
  it("a blocked run that committed nothing, its branch nowhere: the answer makes the branch from the worker's branch and says so", async () => {
    const branch = 'nightshift/issue-5-ans2-label-1';
    const origin = await t.makeRepo('ans2');
    await t.createWorker('ans2', { repo: { url: origin, branch: 'main', push: true } });
    const parent = await t.createRun('ans2', {
      workBranch: branch,
      trigger: { type: 'github', repo: 'acme/site', issue: 5, sender: 'octocat', deliveryId: 'd-0' },
    });
    await t.scenario(parent.id, 'blocked', 'early');
    await t.publish('run.start', parent.id);
    const blocked = await t.waitStatus(parent.id, TERMINAL_STATUSES);
    expect(blocked.blocked).toMatchObject({ source: 'result' });
    expect(blocked.commits).toEqual([]);
    expect(blocked.pushedBranch).toBeNull();
    // The answer runs where the blocked run's workspace is not (another VM, a new clone).
    await rm(join(t.home, 'workspaces', 'ans2'), { recursive: true, force: true });
    // The worker's branch moved on meanwhile: the answer starts from it as the remote has it now.
    const person = join(t.root, 'person-ans2');
    await git(t.root, 'clone', '--quiet', origin, person);
    await git(
      person,
      '-c',
      'user.name=p',
      '-c',
      'user.email=p@x',
      'commit',
      '--allow-empty',
      '-m',
      'main moves',
    );
    await git(person, 'push', '--quiet', 'origin', 'main');
    const main = await git(origin, 'rev-parse', 'main');

    const answer = await t.createRun('ans2', {
      workBranch: branch,
      parentRunId: parent.id,
      prompt: 'Work on the roadmap.\n\n## Answer to your blocker\n@octocat answered: use the vault',
      trigger: {
        type: 'github',
        repo: 'acme/site',
        issue: 5,
        sender: 'octocat',
        deliveryId: 'd-1',
        commentId: 78,
        followUp: { kind: 'answer', parentSessionId: blocked.sessionId },
      },
    });
    await t.publish('run.start', answer.id);
    const done = await t.waitStatus(answer.id, TERMINAL_STATUSES);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(done.startCommit).toBe(main);
    expect(done.commits.length).toBeGreaterThan(0);
    expect(done.pushedBranch).toBe(branch);
    expect(await git(origin, 'rev-parse', `refs/heads/${branch}`)).toBe(done.commits.at(-1));
    expect(await git(origin, 'rev-parse', 'main')).toBe(main);
    const said = await notes(answer.id);
    expect(
      said.some((n) =>
        n.includes(
          `follow-up: ${branch} is neither on the remote nor in the workspace, and run ${parent.id} made no commit on it: made from the worker's branch main`,
        ),
      ),
    ).toBe(true);
    // Still the blocked run's conversation, forked.
    const [argv] = await argvs(answer.id);
    expect(argv?.[(argv?.indexOf('--resume') ?? -2) + 1]).toBe(blocked.sessionId);
  });
});
