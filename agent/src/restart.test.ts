// Restart: real agent processes killed with SIGKILL and started again, and sessions killed behind the agent.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TERMINAL_STATUSES } from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AgentTest, FAKE_CLAUDE, git, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';

const ROOT = resolve(import.meta.dirname, '../..');

describeEmulators('Restart', () => {
  let t: AgentTest;
  const children = new Set<ChildProcess>();
  let options: string;

  beforeAll(async () => {
    t = await setupAgentTest();
    options = join(t.root, 'agent-options.json');
    await writeFile(
      options,
      JSON.stringify({
        projectId: t.env.projectId,
        agentId: 'vm-1',
        home: t.home,
        workerCommand: FAKE_CLAUDE,
        capacity: 2,
        socket: t.tmux.socket,
        timings: TEST_TIMINGS,
        workerEnv: { FAKE_CLAUDE_DIR: t.fakeDir },
      }),
    );
  });
  const outputs: string[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });
  afterEach(async (context) => {
    // A failed test shows what the agent processes said; each test starts with no agent running.
    if (context.task.result?.state === 'fail') process.stderr.write(outputs.join('\n'));
    for (const child of [...children]) await kill9(child);
  });

  /** A real agent process, as systemd runs it. */
  async function startProcess(): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'agent/src/testing/agent-process.ts', options],
      {
        cwd: ROOT,
        env: process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.add(child);
    child.on('exit', () => children.delete(child));
    let out = '';
    const index = outputs.push('') - 1;
    const keep = (c: Buffer) => {
      out += c.toString();
      outputs[index] = `--- agent process ${child.pid}\n${out}`;
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitFor(
      'the agent process to be ready',
      () => out.includes('agent ready') || child.exitCode !== null,
      {
        timeoutMs: 30_000,
      },
    );
    if (child.exitCode !== null) throw new Error(`agent process exited: ${out}`);
    return child;
  }

  async function kill9(child: ChildProcess): Promise<void> {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  describe('Restart: kill -9 of the agent mid-run', () => {
    it('adopts the live session after a restart: true status, usage counted once', async () => {
      await t.createWorker('adopt');
      const run = await t.createRun('adopt');
      await t.scenario(run.id, 'slow', 3_000);
      const first = await startProcess();
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running']);
      // Some of the stream has been read and counted before the kill.
      await waitFor('progress to be written', async () => {
        const r = (await t.env.cols.runs.doc(run.id).get()).data();
        return (r?.usage.turns ?? 0) >= 2;
      });
      await kill9(first);
      expect(await t.tmux.hasSession(`adopt-${run.id}`)).toBe(true);
      await startProcess();
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      expect(done.usage).toEqual({ turns: 5, costUsd: 0.0625, inputTokens: 575, outputTokens: 100 });
      expect(done.commits).toHaveLength(5);
      expect(await t.events(run.id)).toEqual(['queued->starting', 'starting->running', 'running->succeeded']);
      const starts = (await readFile(join(t.fakeDir, `${run.id}.starts`), 'utf8')).trim().split('\n');
      expect(starts).toHaveLength(1);
    });

    it("an adopted run pushes its own work branch, not the worker's", async () => {
      const origin = await t.makeRepo('adopt-branch');
      const seed = await git(origin, 'rev-parse', 'main');
      await t.createWorker('adopt-branch', { repo: { url: origin, branch: 'main', push: true } });
      const run = await t.createRun('adopt-branch', { workBranch: 'nightshift/issue-9-adopt-branch-c1' });
      await t.scenario(run.id, 'slow', 1_500);
      const first = await startProcess();
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running']);
      await kill9(first);
      await startProcess();
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      expect(done.pushedBranch).toBe('nightshift/issue-9-adopt-branch-c1');
      expect(await git(origin, 'rev-parse', 'refs/heads/nightshift/issue-9-adopt-branch-c1')).toBe(
        done.commits.at(-1),
      );
      expect(await git(origin, 'rev-parse', 'main')).toBe(seed);
    });

    it('an adopted run keeps its checkout snapshot when the worker was changed while the agent was down', async () => {
      const origin = await t.makeRepo('adopt-checkout');
      const elsewhere = await t.makeRepo('adopt-checkout-elsewhere');
      const elsewhereSeed = await git(elsewhere, 'rev-parse', 'main');
      await t.createWorker('adopt-checkout', { repo: { url: origin, branch: 'main', push: true } });
      const run = await t.createRun('adopt-checkout');
      await t.scenario(run.id, 'slow', 2_000);
      const first = await startProcess();
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running']);
      await kill9(first);
      // As PATCH /v1/workers/adopt-checkout would, while no agent holds the run.
      await t.env.cols.workers.doc('adopt-checkout').update({
        repo: { url: elsewhere, branch: 'other', push: true },
        progressPath: 'ELSEWHERE.md',
        updatedAt: new Date().toISOString(),
      });
      await startProcess();
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(done.pushedBranch).toBe('main');
      expect(await git(origin, 'rev-parse', 'main')).toBe(done.commits.at(-1));
      expect(await git(origin, 'branch', '--list', 'other')).toBe('');
      expect(await git(elsewhere, 'rev-parse', 'main')).toBe(elsewhereSeed);
      expect(done.progress?.text).toContain('- step 5 done by fake claude');
    });

    it('finishes a run that ended while the agent was down from its exit-status file', async () => {
      await t.createWorker('ended');
      const run = await t.createRun('ended');
      // No result message: its usage is the sum of the assistant messages, so a double count would show.
      await t.scenario(run.id, 'slow_no_result', 1_500);
      const agent = await startProcess();
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running']);
      await waitFor('progress to be written', async () => {
        const r = (await t.env.cols.runs.doc(run.id).get()).data();
        return (r?.usage.turns ?? 0) >= 2;
      });
      await kill9(agent);
      await waitFor('the worker to end', () => existsSync(join(t.home, 'runs', run.id, 'exit.json')));
      await startProcess();
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('failed');
      expect(done.error).toBe('worker exited without a result message (code 0)');
      expect(done.exitCode).toBe(0);
      expect(done.usage).toEqual({ turns: 5, costUsd: 0, inputTokens: 575, outputTokens: 100 });
    });

    it('a preempted VM: agent and tmux server killed, the run resumes its Claude session in its workspace', async () => {
      await t.createWorker('preempted');
      const run = await t.createRun('preempted');
      await t.scenario(run.id, 'slow');
      const agent = await startProcess();
      await t.publish('run.start', run.id);
      const running = await t.waitStatus(run.id, ['running']);
      // The worker has stored its session (else the resume would find none and start afresh, also tested).
      await waitFor('the worker to have stored its session', () =>
        existsSync(join(t.fakeDir, 'sessions', running.sessionId ?? 'none')),
      );
      // Preemption: the agent dies, and so does the tmux server with the worker on it.
      await kill9(agent);
      await t.tmux.killServer();
      await waitFor('the session to vanish', async () => !(await t.tmux.hasSession(`preempted-${run.id}`)));
      // What the resumed session does now: finish its work.
      await t.scenario(run.id, 'success');
      await startProcess();
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES, 30_000);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(done.waits).toBe(1);
      expect(done.pieces.map((p) => [p.mode, p.ending])).toEqual([
        ['fresh', 'interrupted'],
        ['resume', 'ended'],
      ]);
      const argvs = (await readFile(join(t.fakeDir, `${run.id}.argvs`), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as string[]);
      expect(
        argvs.map((a) => a.slice(a.findIndex((x) => x === '--session-id' || x === '--resume')).slice(0, 2)),
      ).toEqual([
        ['--session-id', done.sessionId],
        ['--resume', done.sessionId],
      ]);
      expect(await t.events(run.id)).toEqual([
        'queued->starting',
        'starting->running',
        'running->queued',
        'queued->starting',
        'note',
        'starting->running',
        'running->succeeded',
      ]);
      expect(await t.lockReleased('preempted')).toBe(true);
    });

    it('marks a run lost when its session vanished while the agent was down (VM rebooted), with onInterrupt: lost', async () => {
      await t.createWorker('rebooted', { onInterrupt: 'lost' });
      const run = await t.createRun('rebooted');
      await t.scenario(run.id, 'slow');
      const agent = await startProcess();
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running']);
      await kill9(agent);
      // A reboot: every process of the run dies at once, nothing is written.
      const pidsFile = join(t.home, 'runs', run.id, 'pids.json');
      await waitFor('the runner to have started the worker', () => existsSync(pidsFile));
      const pids = JSON.parse(await readFile(pidsFile, 'utf8')) as {
        runner: number;
        worker: number;
      };
      process.kill(pids.runner, 'SIGKILL');
      process.kill(-pids.worker, 'SIGKILL');
      await waitFor('the session to vanish', async () => !(await t.tmux.hasSession(`rebooted-${run.id}`)));
      await startProcess();
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('lost');
      expect(done.error).toMatch(/tmux session rebooted-.* is gone without an exit status/);
      expect(await t.lockReleased('rebooted')).toBe(true);
    });

    it('a run lost while the agent was down keeps its uncommitted work on its wip branch, the workspace clean', async () => {
      await t.createWorker('lost-dirty', { onInterrupt: 'lost' });
      const run = await t.createRun('lost-dirty');
      await t.scenario(run.id, 'dirty', 'hang');
      const agent = await startProcess();
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running']);
      await waitFor('the worker to leave its changes', () => existsSync(join(t.fakeDir, `${run.id}.dirty`)));
      await kill9(agent);
      const pids = JSON.parse(await readFile(join(t.home, 'runs', run.id, 'pids.json'), 'utf8')) as {
        runner: number;
        worker: number;
      };
      process.kill(pids.runner, 'SIGKILL');
      process.kill(-pids.worker, 'SIGKILL');
      await waitFor('the session to vanish', async () => !(await t.tmux.hasSession(`lost-dirty-${run.id}`)));
      await startProcess();
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('lost');
      expect(done.wipBranch).toBe(`nightshift/wip/${run.id}`);
      const workspace = join(t.home, 'workspaces', 'lost-dirty');
      expect(await git(workspace, 'log', '-1', '--format=%s', `nightshift/wip/${run.id}`)).toBe(
        `nightshift: uncommitted work of run ${run.id} (lost)`,
      );
      expect(await git(workspace, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    });
  });
});

describeEmulators('Restart: a session killed behind the agent', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent();
  });

  it('ends the run failed or lost with a reason', async () => {
    await t.createWorker('victim');
    const run = await t.createRun('victim');
    await t.scenario(run.id, 'slow');
    await t.publish('run.start', run.id);
    await t.waitStatus(run.id, ['running']);
    await t.tmux.killSession(`victim-${run.id}`);
    const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
    expect(['failed', 'lost']).toContain(done.status);
    expect(done.error).toMatch(/session/);
  });
});
