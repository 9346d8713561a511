// Through the night: usage limits (wait, fail, the cap, the account-wide hold), resumed sessions and interrupted runs, on the emulators with the stand-in worker.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ACCOUNT_LIMIT_ID, createRunMover, type Run, type RunEvent } from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import { RESUME_PROMPT } from './launch.js';
import { type AgentTest, git, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';

describeEmulators('Through the night', () => {
  let t: AgentTest;
  let agent: Agent;
  beforeAll(async () => {
    t = await setupAgentTest();
    agent = await t.startAgent();
  });

  /**
   * What the scheduler tick does at resumeAt (functions/src/scheduler): waiting → queued, then run.start.
   * The agent's own resume timer (resume-timer.ts) may have moved it first: then the tick's move finds it
   * no longer waiting, as in the cloud.
   */
  async function resume(runId: string): Promise<void> {
    const move = createRunMover({ cols: t.env.cols, agentId: null, deadlineMs: 5_000 });
    const moved = await move(runId, 'queued', {
      patch: { resumeAt: null },
      reason: 'resumeAt has come',
      expect: ['waiting'],
    });
    if (!moved.ok) expect(moved.current?.status).not.toBe('waiting');
    await t.publish('run.start', runId);
  }

  const argvs = async (runId: string): Promise<string[][]> =>
    (await readFile(join(t.fakeDir, `${runId}.argvs`), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as string[]);
  const flagOf = (argv: string[], name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const notes = async (runId: string): Promise<string[]> =>
    (await t.env.cols.runEvents(runId).orderBy('at').get()).docs
      .map((d) => d.data())
      .flatMap((e: RunEvent) => (e.type === 'note' ? [e.message] : []));
  const lockOf = async (workerId: string) => (await t.env.cols.workerLocks.doc(workerId).get()).data();
  const accountLimit = async () => (await t.env.cols.limits.doc(ACCOUNT_LIMIT_ID).get()).data();
  const clearAccountLimit = () => t.env.cols.limits.doc(ACCOUNT_LIMIT_ID).delete();

  describe('a usage limit with onUsageLimit: wait', () => {
    let run: Run;
    let waiting: Run;
    let startedLimitAt: number;

    it('moves the run to waiting with resumeAt from the event, keeps its worker and its workspace', async () => {
      await t.createWorker('nightly');
      run = await t.createRun('nightly');
      // A reset 3 s out: the agent's own resume timer fires at it, and the checks of the wait below must all
      // run before it, however loaded the machine (at 800 ms the timer's move raced them under load).
      await t.scenario(run.id, 'rate_limit', 3_000);
      startedLimitAt = Date.now();
      await t.publish('run.start', run.id);
      waiting = await t.waitStatus(run.id, ['waiting', 'failed', 'succeeded', 'lost']);
      expect(waiting.error).toBeNull();
      expect(waiting.status).toBe('waiting');
      // resetsAt (whole seconds, about 3 s after the fake started) plus the 300 ms margin of TEST_TIMINGS.
      const resumeAtMs = Date.parse(waiting.resumeAt ?? '');
      expect(resumeAtMs % 1000).toBe(TEST_TIMINGS.limitMarginMs);
      expect(resumeAtMs).toBeGreaterThan(startedLimitAt + 3_000);
      expect(resumeAtMs).toBeLessThan(Date.now() + 5_000);
      expect(waiting.waitReason).toContain('the usage limit (five_hour)');
      expect(waiting.waitReason).toContain("You've hit your limit");
      expect(waiting.waits).toBe(1);
      expect(waiting.session).toBeNull();
      expect(waiting.finishedAt).toBeNull();
      expect(waiting.pieces).toEqual([
        expect.objectContaining({
          mode: 'fresh',
          ending: 'usage_limit',
          usage: { turns: 2, costUsd: 0.025, inputTokens: 230, outputTokens: 40 },
        }),
      ]);
      expect(waiting.usage).toEqual({ turns: 2, costUsd: 0.025, inputTokens: 230, outputTokens: 40 });
      // No tmux session while it waits; the worker lock stays with it; no wip branch was made.
      expect(await t.tmux.hasSession(`nightly-${run.id}`)).toBe(false);
      expect((await lockOf('nightly'))?.runId).toBe(run.id);
      expect(waiting.wipBranch).toBeNull();
      const workspace = join(t.home, 'workspaces', 'nightly');
      expect(await git(workspace, 'branch', '--list', 'nightshift/wip/*')).toBe('');
      // The account-wide record: no run of any worker is launched before the reset.
      expect(await accountLimit()).toMatchObject({
        runId: run.id,
        limitType: 'five_hour',
        until: waiting.resumeAt,
      });
      expect(await t.events(run.id)).toEqual(['queued->starting', 'starting->running', 'running->waiting']);
    });

    it('resumes the same session with --resume in the same workspace and sums the usage', async () => {
      await waitFor('the reset', () => Date.now() > Date.parse(waiting.resumeAt ?? ''));
      await resume(run.id);
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost', 'waiting']);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      const [first, second] = await argvs(run.id);
      expect(flagOf(first ?? [], '--session-id')).toBe(done.sessionId);
      expect(flagOf(second ?? [], '--resume')).toBe(done.sessionId);
      expect(flagOf(second ?? [], '--session-id')).toBeUndefined();
      expect(flagOf(second ?? [], '-p')).toBe(RESUME_PROMPT);
      // 2 turns before the limit, 3 after it. The resumed result carried all 5 (it continued the session's
      // saved total, as the CLI's does): the run's usage is the pieces' own spend summed, not both results'.
      expect(done.usage).toEqual({ turns: 5, costUsd: 0.0625, inputTokens: 575, outputTokens: 100 });
      expect(done.pieces.map((p) => [p.mode, p.ending, p.usage.turns, p.usageFrom, p.session])).toEqual([
        ['fresh', 'usage_limit', 2, 'piece', 'new'],
        ['resume', 'ended', 3, 'cumulative', 'resumed'],
      ]);
      expect(done.pieces[1]?.usage).toEqual({
        turns: 3,
        costUsd: 0.0375,
        inputTokens: 345,
        outputTokens: 60,
      });
      // The commits of both pieces, from the first piece's start.
      const workspace = join(t.home, 'workspaces', 'nightly');
      expect(done.commits).toHaveLength(3);
      expect(done.startCommit).toBe(await git(workspace, 'rev-parse', 'HEAD~3'));
      expect(done.startedAt).toBe(waiting.startedAt);
      expect(await t.events(run.id)).toEqual([
        'queued->starting',
        'starting->running',
        'running->waiting',
        'waiting->queued',
        'queued->starting',
        'note',
        'starting->running',
        'running->succeeded',
      ]);
      expect((await notes(run.id)).join('\n')).toContain(
        `piece 2: resuming Claude session ${done.sessionId}`,
      );
      expect(await t.lockReleased('nightly')).toBe(true);
    });
  });

  it('sums the pieces the same when the resumed transcript had no saved total', async () => {
    await t.createWorker('oldcli');
    const run = await t.createRun('oldcli');
    await t.scenario(run.id, 'rate_limit', 300);
    // As an older CLI's transcript: the resumed result counts only its own process.
    await writeFile(join(t.fakeDir, `${run.id}.no-saved-total`), '');
    await t.publish('run.start', run.id);
    const waiting = await t.waitStatus(run.id, ['waiting', 'failed', 'succeeded', 'lost']);
    expect(waiting.status).toBe('waiting');
    await waitFor('the reset', () => Date.now() > Date.parse(waiting.resumeAt ?? ''));
    await resume(run.id);
    const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost', 'waiting']);
    expect(done.status).toBe('succeeded');
    expect(done.usage).toEqual({ turns: 5, costUsd: 0.0625, inputTokens: 575, outputTokens: 100 });
    expect(done.pieces.map((p) => [p.usage.costUsd, p.usageFrom, p.turnsFrom])).toEqual([
      [0.025, 'piece', 'piece'],
      [0.0375, 'piece', 'piece'],
    ]);
  });

  it('fails the run at a usage limit with onUsageLimit: fail, and still holds the account', async () => {
    await t.createWorker('strict', { onUsageLimit: 'fail' });
    const run = await t.createRun('strict');
    await t.scenario(run.id, 'rate_limit', 500);
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, ['waiting', 'failed', 'succeeded', 'lost']);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('the usage limit (five_hour)');
    expect(done.error).toContain('onUsageLimit is fail');
    expect(done.waits).toBe(0);
    expect((await accountLimit())?.runId).toBe(run.id);
    expect(await t.lockReleased('strict')).toBe(true);
  });

  it('reads the resume time from the limit message when no event says it', async () => {
    await t.createWorker('wordy');
    const run = await t.createRun('wordy');
    await t.scenario(run.id, 'limit_text');
    await t.publish('run.start', run.id);
    const waiting = await t.waitStatus(run.id, ['waiting', 'failed', 'succeeded', 'lost']);
    const said = JSON.parse(await readFile(join(t.fakeDir, `${run.id}.limit-text`), 'utf8')) as {
      text: string;
      at: string;
    };
    expect(waiting.status).toBe('waiting');
    expect(waiting.resumeAt).toBe(new Date(Date.parse(said.at) + TEST_TIMINGS.limitMarginMs).toISOString());
    expect(waiting.waitReason).toContain('read from its message');
    expect((await accountLimit())?.until).toBe(waiting.resumeAt);
    // The reset is an hour or two away: the rest of this file is not held by it.
    await clearAccountLimit();
  });

  it('fails the run once it has waited maxWaits times', async () => {
    await t.createWorker('capped', { maxWaits: 1 });
    const run = await t.createRun('capped');
    await t.scenario(run.id, 'rate_limit_always', 300);
    await t.publish('run.start', run.id);
    const waiting = await t.waitStatus(run.id, ['waiting', 'failed', 'succeeded', 'lost']);
    expect(waiting.status).toBe('waiting');
    await waitFor('the reset', () => Date.now() > Date.parse(waiting.resumeAt ?? ''));
    await resume(run.id);
    const done = await t.waitStatus(run.id, ['failed', 'succeeded', 'lost'], 30_000);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('not waiting again: the run already paused 1 time(s) (maxWaits 1)');
    expect(done.pieces.map((p) => p.ending)).toEqual(['usage_limit', 'ended']);
    // 2 turns a piece; the second result carried 4 (the saved 2 and its own).
    expect(done.usage.turns).toBe(4);
    expect(done.usage.costUsd).toBe(0.05);
    expect(await t.lockReleased('capped')).toBe(true);
  });

  it("holds every worker's new runs while the account's limit holds, with an event, then starts them", async () => {
    await t.createWorker('other');
    const until = new Date(Date.now() + 2_500).toISOString();
    await t.env.cols.limits.doc(ACCOUNT_LIMIT_ID).set({
      until,
      limitType: 'five_hour',
      reason: 'run r-elsewhere hit the usage limit (five_hour)',
      runId: 'r-elsewhere',
      at: new Date().toISOString(),
    });
    const run = await t.createRun('other');
    await t.publish('run.start', run.id);
    await waitFor('the hold to be said', async () =>
      (await notes(run.id)).some((n) => n.includes(`the account's usage limit holds until ${until}`)),
    );
    expect((await t.env.cols.runs.doc(run.id).get()).data()?.status).toBe('queued');
    // After the reset the heartbeat's queue scan takes it.
    const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost'], 30_000);
    expect(done.status).toBe('succeeded');
    expect(Date.parse(done.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(until));
  });

  it('starts a resumed piece afresh, with an event, when its session is not found', async () => {
    await t.createWorker('forgetful');
    const run = await t.createRun('forgetful');
    // A reset far enough off that the session is removed before the agent's own timer resumes the run.
    await t.scenario(run.id, 'rate_limit', 2_000);
    await t.publish('run.start', run.id);
    const waiting = await t.waitStatus(run.id, ['waiting', 'failed', 'succeeded', 'lost']);
    expect(waiting.status).toBe('waiting');
    // The session is gone (another HOME, a cleaned disk): the resume cannot find it.
    await rm(join(t.fakeDir, 'sessions', waiting.sessionId ?? 'none'));
    await t.scenario(run.id, 'success');
    await waitFor('the reset', () => Date.now() > Date.parse(waiting.resumeAt ?? ''));
    await resume(run.id);
    const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost', 'waiting']);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    const all = await argvs(run.id);
    expect(
      all.map((a) => (flagOf(a, '--resume') ? 'resume' : flagOf(a, '--session-id') ? 'fresh' : '?')),
    ).toEqual(['fresh', 'resume', 'fresh']);
    // The fresh start has the run's own prompt and id again.
    expect(flagOf(all[2] ?? [], '-p')).toBe(run.prompt);
    expect(flagOf(all[2] ?? [], '--session-id')).toBe(done.sessionId);
    expect((await notes(run.id)).join('\n')).toContain(`Claude session ${done.sessionId} was not found`);
    // 2 turns before the limit, 0 in the failed resume, 3 in the fresh piece.
    expect(done.usage.turns).toBe(5);
    expect(existsSync(join(t.fakeDir, 'sessions', done.sessionId ?? 'none'))).toBe(true);
  });

  describe('an interrupted run', () => {
    it('resumes its session after the agent comes back to a dead tmux server', async () => {
      await t.createWorker('preempted');
      const run = await t.createRun('preempted');
      await t.scenario(run.id, 'slow');
      await t.publish('run.start', run.id);
      const running = await t.waitStatus(run.id, ['running', 'failed', 'lost']);
      expect(running.status).toBe('running');
      await waitFor('the worker to have stored its session', () =>
        existsSync(join(t.fakeDir, 'sessions', running.sessionId ?? 'none')),
      );
      // And to have said something, so the interrupted piece has messages of its own to count.
      const stream = join(t.home, 'runs', run.id, 'stream.jsonl');
      await waitFor('the worker to have streamed an assistant message', async () =>
        (await readFile(stream, 'utf8').catch(() => '')).includes('"type":"assistant"') ? true : undefined,
      );
      // The VM goes away: the agent stops and the tmux server with every worker on it dies.
      await agent.stop();
      await t.tmux.killServer();
      await t.scenario(run.id, 'success');
      agent = await t.startAgent();
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost'], 30_000);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      const [first, second] = await argvs(run.id);
      expect(flagOf(first ?? [], '--session-id')).toBe(done.sessionId);
      expect(flagOf(second ?? [], '--resume')).toBe(done.sessionId);
      expect(done.waits).toBe(1);
      expect(done.pieces.map((p) => [p.mode, p.ending, p.usageFrom])).toEqual([
        ['fresh', 'interrupted', 'stream'],
        ['resume', 'ended', 'piece'],
      ]);
      // The interrupted piece never wrote a result (nor saved a total): its messages' tokens count, at no
      // known cost; the resumed result is its own 3 turns only, and is not cut by the earlier piece's count.
      const [cut] = done.pieces;
      expect(cut?.usage.costUsd).toBe(0);
      expect(cut?.usage.turns).toBeGreaterThan(0);
      expect(done.pieces[1]?.usage).toEqual({
        turns: 3,
        costUsd: 0.0375,
        inputTokens: 345,
        outputTokens: 60,
      });
      expect(done.usage.costUsd).toBe(0.0375);
      expect(done.usage.turns).toBe((cut?.usage.turns ?? 0) + 3);
      const events = (await t.env.cols.runEvents(run.id).orderBy('at').get()).docs.map((d) => d.data());
      const requeued = events.find((e) => e.type === 'status' && e.from === 'running' && e.to === 'queued');
      expect(requeued?.type === 'status' && requeued.reason).toContain('the worker was interrupted');
      expect(await t.lockReleased('preempted')).toBe(true);
    });

    it('stays lost with the reason when the worker says onInterrupt: lost', async () => {
      await t.createWorker('fragile', { onInterrupt: 'lost' });
      const run = await t.createRun('fragile');
      await t.scenario(run.id, 'slow');
      await t.publish('run.start', run.id);
      expect((await t.waitStatus(run.id, ['running', 'failed', 'lost'])).status).toBe('running');
      await waitFor('the worker to have started', () => existsSync(join(t.fakeDir, `${run.id}.starts`)));
      await agent.stop();
      await t.tmux.killServer();
      agent = await t.startAgent();
      const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost'], 30_000);
      expect(done.status).toBe('lost');
      expect(done.waits).toBe(0);
      // The runner may or may not outlive its server long enough to write exit.json: either way the reason says so.
      expect(done.error).toMatch(/tmux session was closed|tmux session \S+ is gone without an exit status/);
    });
  });
});
