// Finish: unfinished work: a run's uncommitted changes are kept on nightshift/wip/<runId>, never carried into the next run.
import { access, chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Run, TERMINAL_STATUSES } from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentTest, git, setupAgentTest } from './testing/harness.js';
import { wipBranchOf, wipMessageOf } from './workspace.js';

const notesOf = async (t: AgentTest, runId: string): Promise<string[]> =>
  (await t.env.cols.runEvents(runId).get()).docs
    .map((d) => d.data())
    .flatMap((e) => (e.type === 'note' ? [e.message] : []));

/** The files a commit changed, as `git show --name-status` lists them ("M\tpath"). */
const changesOf = async (dir: string, rev: string): Promise<string[]> =>
  (await git(dir, 'show', '--format=', '--name-status', rev)).split('\n').filter((l) => l !== '');

describeEmulators('Finish: unfinished work', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent({ capacity: 3 });
  });

  async function cancel(runId: string): Promise<void> {
    await t.env.cols.runs
      .doc(runId)
      .update({ cancelRequestedAt: new Date().toISOString(), cancelReason: 'stop for tonight' });
    await t.publish('run.cancel', runId);
  }

  it("a cancelled run's staged and untracked changes are one commit on its wip branch, pushed; the next run starts clean", async () => {
    const origin = await t.makeRepo('c1');
    await t.createWorker('c1', { repo: { url: origin, branch: 'main', push: true } });
    const a = await t.createRun('c1', { maxDurationMinutes: 100 });
    await t.scenario(a.id, 'dirty', 'hang');
    await t.publish('run.start', a.id);
    await t.waitStatus(a.id, ['running']);
    await waitFor('run A to leave its changes', () =>
      access(join(t.fakeDir, `${a.id}.dirty`)).then(
        () => true,
        () => undefined,
      ),
    );
    await cancel(a.id);
    const doneA = await t.waitStatus(a.id, TERMINAL_STATUSES);
    expect(doneA.status).toBe('cancelled');
    expect(doneA.error).toBe('stop for tonight');
    const branch = wipBranchOf(a.id);
    expect(doneA.wipBranch).toBe(branch);
    expect(branch).toBe(`nightshift/wip/${a.id}`);
    // The run's own commit only; the wip commit sits on top of it, on its own branch.
    expect(doneA.commits).toHaveLength(1);
    const workspace = join(t.home, 'workspaces', 'c1');
    expect(await git(workspace, 'rev-parse', `${branch}^`)).toBe(doneA.commits[0]);
    expect(await git(workspace, 'rev-list', '--count', `${doneA.commits[0]}..${branch}`)).toBe('1');
    expect(await git(workspace, 'log', '-1', '--format=%s', branch)).toBe(wipMessageOf(a.id, 'cancelled'));
    expect(await git(workspace, 'log', '-1', '--format=%s', branch)).toBe(
      `nightshift: uncommitted work of run ${a.id} (cancelled)`,
    );
    expect(await git(workspace, 'log', '-1', '--format=%an <%ae>|%cn <%ce>', branch)).toBe(
      'nightshift <nightshift@nightshift.invalid>|nightshift <nightshift@nightshift.invalid>',
    );
    expect((await changesOf(workspace, branch)).sort()).toEqual(['A\tnotes.txt', 'M\tdocs/roadmap.md']);
    expect(await git(workspace, 'show', `${branch}:notes.txt`)).toBe(`unfinished notes of run ${a.id}`);
    // Pushed beside the run's own commit, which went to the worker's branch.
    expect(doneA.pushedBranch).toBe('main');
    expect(await git(origin, 'rev-parse', `refs/heads/${branch}`)).toBe(
      await git(workspace, 'rev-parse', branch),
    );
    expect(await git(origin, 'rev-parse', 'main')).toBe(doneA.commits[0]);
    // Back on its branch, clean.
    expect(await git(workspace, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(await git(workspace, 'symbolic-ref', '--short', 'HEAD')).toBe('main');

    // Run B of the same worker: none of A's changes in its commits, no wip branch of its own.
    const b = await t.createRun('c1');
    await t.publish('run.start', b.id);
    const doneB = await t.waitStatus(b.id, TERMINAL_STATUSES);
    expect(doneB.status).toBe('succeeded');
    expect(doneB.startCommit).toBe(doneA.commits[0]);
    expect(doneB.commits).toHaveLength(2);
    for (const sha of doneB.commits) expect(await changesOf(workspace, sha)).toEqual(['M\tPROGRESS.md']);
    expect(await git(workspace, 'show', `${doneB.commits[1]}:docs/roadmap.md`)).toContain('- [ ] do it');
    expect(doneB.wipBranch).toBeNull();
    expect(await git(workspace, 'branch', '--list', wipBranchOf(b.id))).toBe('');
    expect(await git(origin, 'branch', '--list', wipBranchOf(b.id))).toBe('');
    expect(await notesOf(t, b.id)).toEqual([]);
  });

  it('a clean run records no wip branch and makes none', async () => {
    await t.createWorker('c2');
    const run = await t.createRun('c2');
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
    expect(done.status).toBe('succeeded');
    expect(done.wipBranch).toBeNull();
    const workspace = join(t.home, 'workspaces', 'c2');
    expect(await git(workspace, 'branch', '--list', 'nightshift/wip/*')).toBe('');
  });

  it('a rejected push of the wip branch is a note; the run keeps its status and its own push', async () => {
    const origin = await t.makeRepo('c3');
    // The remote takes the worker's branch and refuses wip branches.
    const hook = join(origin, 'hooks', 'pre-receive');
    await writeFile(
      hook,
      '#!/bin/sh\nwhile read old new ref; do case "$ref" in refs/heads/nightshift/wip/*) echo "no wip here" >&2; exit 1;; esac; done\nexit 0\n',
    );
    await chmod(hook, 0o755);
    await t.createWorker('c3', { repo: { url: origin, branch: 'main', push: true } });
    const run = await t.createRun('c3');
    await t.scenario(run.id, 'dirty');
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
    expect(done.status).toBe('succeeded');
    expect(done.error).toBeNull();
    expect(done.pushedBranch).toBe('main');
    expect(done.wipBranch).toBe(wipBranchOf(run.id));
    const workspace = join(t.home, 'workspaces', 'c3');
    expect(await git(workspace, 'log', '-1', '--format=%s', wipBranchOf(run.id))).toBe(
      wipMessageOf(run.id, 'succeeded'),
    );
    expect(await git(origin, 'branch', '--list', 'nightshift/wip/*')).toBe('');
    const notes = await notesOf(t, run.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      new RegExp(
        `^pushing nightshift/wip/${run.id} failed \\(.*pre-receive hook declined.*\\); the run's uncommitted work is kept in /`,
        's',
      ),
    );
  });

  it('a workdir worker gets its wip commit locally, and its workdir back clean on its branch', async () => {
    const dir = join(t.root, 'workdirs', 'c4');
    await mkdir(join(t.root, 'workdirs'), { recursive: true });
    await git(t.root, 'clone', '-q', await t.makeRepo('c4-seed'), dir);
    await t.createWorker('c4', { workdir: dir });
    const run = await t.createRun('c4');
    await t.scenario(run.id, 'dirty');
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
    expect(done.status).toBe('succeeded');
    expect(done.wipBranch).toBe(wipBranchOf(run.id));
    expect(done.pushedBranch).toBeNull();
    expect((await changesOf(dir, wipBranchOf(run.id))).sort()).toEqual([
      'A\tnotes.txt',
      'M\tdocs/roadmap.md',
    ]);
    expect(await git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(await git(dir, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
  });

  describe('Launch: a checkout left dirty by a run the agent did not finish', () => {
    /** A worker whose last run succeeded, then changes made in its workspace as an unfinished run would leave them. */
    async function leftDirty(workerId: string): Promise<{ first: Run; workspace: string; origin: string }> {
      const origin = await t.makeRepo(workerId);
      await t.createWorker(workerId, { repo: { url: origin, branch: 'main', push: true } });
      const first = await t.createRun(workerId);
      await t.publish('run.start', first.id);
      const done = await t.waitStatus(first.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      await t.lockReleased(workerId);
      const workspace = join(t.home, 'workspaces', workerId);
      await writeFile(join(workspace, 'docs', 'roadmap.md'), '# Roadmap\n\n- [x] ticked, never committed\n');
      await writeFile(join(workspace, 'stray.txt'), 'left behind\n');
      return { first: done, workspace, origin };
    }

    it("keeps the changes on the previous run's wip branch, pushed, and says so on the new run", async () => {
      const { first, workspace, origin } = await leftDirty('d1');
      const next = await t.createRun('d1');
      await t.publish('run.start', next.id);
      const done = await t.waitStatus(next.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      const branch = wipBranchOf(first.id);
      expect((await changesOf(workspace, branch)).sort()).toEqual(['A\tstray.txt', 'M\tdocs/roadmap.md']);
      expect(await git(workspace, 'rev-parse', `${branch}^`)).toBe(first.commits.at(-1));
      expect(await git(origin, 'rev-parse', `refs/heads/${branch}`)).toBe(
        await git(workspace, 'rev-parse', branch),
      );
      for (const sha of done.commits) expect(await changesOf(workspace, sha)).toEqual(['M\tPROGRESS.md']);
      expect(done.wipBranch).toBeNull();
      expect(await notesOf(t, next.id)).toContain(
        `the workspace held uncommitted changes left by run ${first.id}; kept as one commit on ${branch}`,
      );
    });

    it('names the branch unknown-<time> when the checkout does not say which run left them', async () => {
      const { workspace } = await leftDirty('d2');
      await rm(join(workspace, '.git', 'nightshift-run'));
      const next = await t.createRun('d2');
      await t.publish('run.start', next.id);
      const done = await t.waitStatus(next.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      const branches = (
        await git(workspace, 'branch', '--list', '--format=%(refname:short)', 'nightshift/wip/*')
      )
        .split('\n')
        .filter((b) => b !== '');
      expect(branches).toHaveLength(1);
      expect(branches[0]).toMatch(/^nightshift\/wip\/unknown-\d{8}T\d{6}Z$/);
      expect((await changesOf(workspace, branches[0] ?? '')).sort()).toEqual([
        'A\tstray.txt',
        'M\tdocs/roadmap.md',
      ]);
      for (const sha of done.commits) expect(await changesOf(workspace, sha)).toEqual(['M\tPROGRESS.md']);
      expect(await notesOf(t, next.id)).toContain(
        `the workspace held uncommitted changes left by an earlier run (which one is not known); kept as one commit on ${branches[0]}`,
      );
    });
  });
});
