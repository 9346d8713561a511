// Finish: the verdict table through a real worker, the push, the checkout snapshot, and the terminal update.
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_AUTOPILOT, TERMINAL_STATUSES } from '@nightshift/shared';
import { describeEmulators } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decideOutcome,
  type EndingFacts,
  sessionGone,
  settle,
  stderrSummary,
  terminalUpdate,
} from './finish.js';
import { outcomeOf } from './lifecycle.js';
import { applyLine, emptyStreamState } from './stream.js';
import { type AgentTest, git, setupAgentTest } from './testing/harness.js';

describeEmulators('Finish', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent({ capacity: 4 });
    await t.createWorker('w1');
    await t.createWorker('w2');
    await t.createWorker('w3');
    await t.createWorker('w4');
  });

  describe('Finish: the verdict table', () => {
    it('is_error true with subtype success and exit 0 is failed, with the reason', async () => {
      const run = await t.createRun('w1');
      await t.scenario(run.id, 'is_error');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('failed');
      expect(done.exitCode).toBe(0);
      expect(done.error).toBe('worker reported an error (success): Invalid API key · Please run /login');
      expect(done.result).toBe('Invalid API key · Please run /login');
    });

    it('a non-zero exit after a successful result is failed', async () => {
      const run = await t.createRun('w2');
      await t.scenario(run.id, 'exit_nonzero');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('failed');
      expect(done.exitCode).toBe(2);
      expect(done.error).toBe('worker exited with code 2 after a successful result');
    });

    it('an exit without a result message is failed', async () => {
      const run = await t.createRun('w3');
      await t.scenario(run.id, 'no_result');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('failed');
      expect(done.error).toBe('worker exited without a result message (code 0)');
      // Usage from the assistant messages it did send: one turn.
      expect(done.usage).toEqual({ turns: 1, costUsd: 0, inputTokens: 115, outputTokens: 20 });
    });
  });

  describe('Finish: a worker that dies without a result says why', () => {
    it('puts the end of its stderr in the error', async () => {
      await t.createWorker('w5');
      const run = await t.createRun('w5');
      await t.scenario(run.id, 'refuse_root');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('failed');
      expect(done.exitCode).toBe(1);
      expect(done.error).toBe(
        'worker exited without a result message (code 1); stderr: --dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons',
      );
    });
  });

  describe('Finish: a result larger than a run document may hold', () => {
    it('is kept truncated, so the terminal write is not refused forever', async () => {
      await t.createWorker('w7');
      const run = await t.createRun('w7');
      await t.scenario(run.id, 'huge_result');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(done.result?.endsWith('x the end')).toBe(true);
      expect(done.result?.startsWith('…')).toBe(true);
      expect((done.result ?? '').length).toBeLessThan(200_000);
      expect(await t.lockReleased('w7')).toBe(true);
    });
  });

  describe('Finish: a worker that cannot be started', () => {
    it('a prompt too long for one argument (100 000 characters, two bytes each) fails with the reason, not lost', async () => {
      // The API accepts prompts of up to 100 000 characters; the kernel refuses a single argument over
      // 128 KiB (E2BIG), which node's spawn throws instead of reporting as an 'error' event.
      await t.createWorker('w6');
      const run = await t.createRun('w6', { prompt: 'é'.repeat(100_000) });
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('failed');
      expect(done.exitCode).toBe(127);
      expect(done.error).toMatch(
        /^worker exited without a result message \(code 127\); could not start .*E2BIG/,
      );
      expect(await t.tmux.hasSession(`w6-${run.id}`)).toBe(false);
    });
  });

  describe('Stop: a worker that hangs after its result', () => {
    it('is stopped after the grace period and takes its status from the result', async () => {
      const run = await t.createRun('w4');
      await t.scenario(run.id, 'hang_after_result');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      expect(done.error).toBeNull();
      expect(done.result).toBe('All done.');
      expect(await t.tmux.hasSession(`w4-${run.id}`)).toBe(false);
      const notes = (await t.env.cols.runEvents(run.id).get()).docs
        .map((d) => d.data())
        .flatMap((e) => (e.type === 'note' ? [e.message] : []));
      expect(notes).toContain('worker was still alive after its result and was stopped');
    });
  });

  describe('Finish: push', () => {
    it("pushes the run's commits to the worker's branch when repo.push is set", async () => {
      const origin = await t.makeRepo('p1');
      await t.createWorker('p1', { repo: { url: origin, branch: 'main', push: true } });
      const run = await t.createRun('p1');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      expect(done.commits.length).toBeGreaterThan(0);
      expect(await git(origin, 'rev-parse', 'main')).toBe(done.commits.at(-1));
      expect(done.pushedBranch).toBe('main');
    });

    it("pushes a run's work branch, not the worker's; the next run starts from the worker's branch", async () => {
      const origin = await t.makeRepo('p3');
      const seed = await git(origin, 'rev-parse', 'main');
      await t.createWorker('p3', { repo: { url: origin, branch: 'main', push: true } });
      const run = await t.createRun('p3', { workBranch: 'nightshift/issue-7-p3-label-1' });
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      expect(done.startCommit).toBe(seed);
      expect(done.commits).toHaveLength(2);
      expect(done.pushedBranch).toBe('nightshift/issue-7-p3-label-1');
      expect(await git(origin, 'rev-parse', 'refs/heads/nightshift/issue-7-p3-label-1')).toBe(
        done.commits.at(-1),
      );
      expect(await git(origin, 'rev-parse', 'main')).toBe(seed);

      // The checkout was left on the work branch; the next run still starts from the worker's branch.
      const next = await t.createRun('p3');
      await t.publish('run.start', next.id);
      const nextDone = await t.waitStatus(next.id, TERMINAL_STATUSES);
      expect(nextDone.status).toBe('succeeded');
      expect(nextDone.startCommit).toBe(seed);
      expect(nextDone.commits.some((sha) => done.commits.includes(sha))).toBe(false);
      expect(nextDone.pushedBranch).toBe('main');
      expect(await git(origin, 'rev-parse', 'main')).toBe(nextDone.commits.at(-1));
      // Branches are never deleted.
      expect(await git(origin, 'rev-parse', 'refs/heads/nightshift/issue-7-p3-label-1')).toBe(
        done.commits.at(-1),
      );
    });

    it('records no pushed branch when repo.push is off; the commits stay on the work branch locally', async () => {
      await t.createWorker('p4');
      const run = await t.createRun('p4', { workBranch: 'nightshift/issue-8-p4-label-1' });
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('succeeded');
      expect(done.pushedBranch).toBeNull();
      const workspace = join(t.home, 'workspaces', 'p4');
      expect(await git(workspace, 'rev-parse', 'nightshift/issue-8-p4-label-1')).toBe(done.commits.at(-1));
      expect(await git(workspace, 'rev-parse', 'main')).toBe(done.startCommit);
    });

    it("a PATCH of the worker during the run changes nothing the run uses: it pushes its checkout's branch", async () => {
      const origin = await t.makeRepo('p6');
      const seed = await git(origin, 'rev-parse', 'main');
      const elsewhere = await t.makeRepo('p6-elsewhere');
      const elsewhereSeed = await git(elsewhere, 'rev-parse', 'main');
      await t.createWorker('p6', { repo: { url: origin, branch: 'main', push: true } });
      const run = await t.createRun('p6');
      await t.scenario(run.id, 'slow', 1_500);
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running']);
      // As PATCH /v1/workers/p6 would: another repository, branch and progress file.
      await t.env.cols.workers.doc('p6').update({
        repo: { url: elsewhere, branch: 'other', push: true },
        progressPath: 'ELSEWHERE.md',
        updatedAt: new Date().toISOString(),
      });
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(done.pushedBranch).toBe('main');
      expect(done.commits).toHaveLength(5);
      expect(await git(origin, 'rev-parse', 'main')).toBe(done.commits.at(-1));
      expect(done.startCommit).toBe(seed);
      // The other repository was never pushed to, and the progress is still the checkout's PROGRESS.md.
      expect(await git(elsewhere, 'rev-parse', 'main')).toBe(elsewhereSeed);
      expect(await git(elsewhere, 'branch', '--list', 'other')).toBe('');
      expect(done.progress?.text).toContain('- step 5 done by fake claude');
    });

    it('fails a run whose push is rejected, naming why and where the commits are kept', async () => {
      const origin = await t.makeRepo('p2');
      const hook = join(origin, 'hooks', 'pre-receive');
      await writeFile(hook, '#!/bin/sh\necho "protected branch" >&2\nexit 1\n');
      await chmod(hook, 0o755);
      await t.createWorker('p2', { repo: { url: origin, branch: 'main', push: true } });
      const run = await t.createRun('p2');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
      expect(done.status).toBe('failed');
      expect(done.error).toMatch(
        /^the worker finished, but pushing main failed \(.*pre-receive hook declined.*\); the run's 2 commit\(s\) are kept in \//s,
      );
      expect(done.commits).toHaveLength(2);
      expect(done.result).toBe('Milestone done.');
      expect(done.pushedBranch).toBeNull();
    });
  });
});

describe('Finish: the terminal update from an outcome', () => {
  const at = new Date('2025-06-01T02:00:00.000Z');
  const usage = { turns: 3, costUsd: 0.5, inputTokens: 10, outputTokens: 5 };
  const facts = { at, usage, commits: ['c1', 'c2'], resultText: 'done', progress: null, wipBranch: null };

  it('writes the status, error and everything recorded with it; no lease is left', () => {
    expect(terminalUpdate(outcomeOf('succeeded', null, { exitCode: 0 }), { ...facts, push: null })).toEqual({
      status: 'succeeded',
      patch: {
        finishedAt: at.toISOString(),
        exitCode: 0,
        usage,
        commits: ['c1', 'c2'],
        pushedBranch: null,
        result: 'done',
        error: null,
        progress: null,
        wipBranch: null,
        leaseExpiresAt: null,
      },
    });
  });

  it("records the wip branch beside the run's own commits; the status stays the outcome's", () => {
    const { status, patch } = terminalUpdate(outcomeOf('cancelled', 'not tonight'), {
      ...facts,
      push: null,
      wipBranch: 'nightshift/wip/r1',
    });
    expect(status).toBe('cancelled');
    expect(patch.wipBranch).toBe('nightshift/wip/r1');
    expect(patch.commits).toEqual(['c1', 'c2']);
    expect(patch.error).toBe('not tonight');
  });

  it('records the pushed branch; a failed push fails a success and is appended to another ending', () => {
    const pushed = terminalUpdate(outcomeOf('succeeded', null), {
      ...facts,
      push: { branch: 'main', failure: null },
    });
    expect(pushed.patch.pushedBranch).toBe('main');
    const push = { branch: 'main', failure: 'pushing main failed (no)' };
    const failed = terminalUpdate(outcomeOf('succeeded', null), { ...facts, push });
    expect(failed.status).toBe('failed');
    expect(failed.patch.error).toBe('the worker finished, but pushing main failed (no)');
    expect(failed.patch.pushedBranch).toBeNull();
    const timedOut = terminalUpdate(outcomeOf('timed_out', 'exceeded maxDurationMinutes (1)'), {
      ...facts,
      push,
    });
    expect(timedOut.status).toBe('timed_out');
    expect(timedOut.patch.error).toBe('exceeded maxDurationMinutes (1); pushing main failed (no)');
  });

  it('keeps the end of a result too long for a run document', () => {
    const { patch } = terminalUpdate(outcomeOf('succeeded', null), {
      ...facts,
      push: null,
      resultText: `${'x'.repeat(200_000)}the end`,
    });
    expect(patch.result).toHaveLength(100_000);
    expect(patch.result?.startsWith('…')).toBe(true);
    expect(patch.result?.endsWith('the end')).toBe(true);
  });
});

describe('Finish: an ending becomes an outcome', () => {
  const facts = (over: Partial<EndingFacts> = {}): EndingFacts => ({
    stop: null,
    maxDurationMinutes: 5,
    cancelReason: null,
    stream: emptyStreamState(),
    ...over,
  });
  const withResult = () => {
    const stream = emptyStreamState();
    applyLine(stream, JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: 'ok' }));
    return stream;
  };

  it('a stop for time or cancel decides the status whatever the exit', () => {
    expect(decideOutcome(facts({ stop: 'timeout' }), { code: 130, signal: null })).toEqual(
      outcomeOf('timed_out', 'exceeded maxDurationMinutes (5)', { exitCode: 130 }),
    );
    expect(decideOutcome(facts({ stop: 'cancel', cancelReason: 'not tonight' }), null)).toEqual(
      outcomeOf('cancelled', 'not tonight'),
    );
  });

  it('a stop after a result hang keeps the result, with a note; no result says stderr', () => {
    expect(
      decideOutcome(facts({ stop: 'result_hang', stream: withResult() }), { code: 143, signal: null }),
    ).toEqual(
      outcomeOf('succeeded', null, {
        exitCode: 143,
        note: 'worker was still alive after its result and was stopped',
      }),
    );
    expect(decideOutcome(facts(), { code: 1, signal: null, stderrTail: 'not logged in\n' })).toEqual(
      outcomeOf('failed', 'worker exited without a result message (code 1); stderr: not logged in', {
        exitCode: 1,
      }),
    );
  });

  it('keeps the end of a long stderr, never half an emoji', () => {
    const summary = stderrSummary(`${'🎉'.repeat(400)}`);
    expect(summary.startsWith('; stderr: …')).toBe(true);
    expect(summary).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });
});

describe('Finish: a usage limit or an interruption, settled by the run’s settings', () => {
  const limitStream = (lines: object[]) => {
    const stream = emptyStreamState();
    for (const line of lines) applyLine(stream, JSON.stringify(line));
    return stream;
  };
  const rejected = {
    type: 'rate_limit_event',
    rate_limit_info: { status: 'rejected', resetsAt: 1_773_201_600, rateLimitType: 'seven_day' },
  };
  const limitResult = {
    type: 'result',
    subtype: 'success',
    is_error: true,
    result: "You've hit your limit · resets 1:10am",
  };
  const facts = (stream: EndingFacts['stream']): EndingFacts => ({
    stop: null,
    maxDurationMinutes: 5,
    cancelReason: null,
    stream,
  });
  const run = {
    autopilot: { ...DEFAULT_AUTOPILOT, onUsageLimit: 'wait', onInterrupt: 'resume', maxWaits: 2 },
    waits: 0,
    sessionId: '8d6b3b52-5f2f-4c39-a3a1-2a0b6f3c9d11',
  } as const;
  const at = {
    now: new Date('2026-03-10T22:30:00Z'),
    marginMs: 60_000,
    fallbackMs: 18_000_000,
    localZone: 'UTC',
    workspaceKept: true,
  };

  it('reads the rejected event and the limit result into a failed ending that carries the limit', () => {
    const ending = decideOutcome(facts(limitStream([rejected, limitResult])), { code: 1, signal: null });
    expect(ending.status).toBe('failed');
    expect(ending.limit).toEqual({
      resetsAtMs: 1_773_201_600_000,
      type: 'seven_day',
      text: "You've hit your limit · resets 1:10am",
    });
    // An allowed or warning event is no limit; a success with a rejected event stands.
    const allowed = { ...rejected, rate_limit_info: { status: 'allowed_warning', resetsAt: 1 } };
    expect(
      decideOutcome(facts(limitStream([allowed, { ...limitResult, is_error: false, result: 'done' }])), {
        code: 0,
        signal: null,
      }).status,
    ).toBe('succeeded');
    expect(
      decideOutcome(facts(limitStream([rejected, { ...limitResult, is_error: false, result: 'done' }])), {
        code: 0,
        signal: null,
      }).limit,
    ).toBeNull();
  });

  it('reads an assistant message with error rate_limit, and a limit result with no event', () => {
    const assistant = {
      type: 'assistant',
      error: 'rate_limit',
      message: { id: 'm1', content: [{ type: 'text', text: 'Weekly limit reached ∙ resets Mar 14, 1am' }] },
    };
    const a = decideOutcome(facts(limitStream([assistant])), { code: 1, signal: null });
    expect(a.limit).toEqual({
      resetsAtMs: null,
      type: null,
      text: 'Weekly limit reached ∙ resets Mar 14, 1am',
    });
    const b = decideOutcome(facts(limitStream([limitResult])), { code: 1, signal: null });
    expect(b.limit?.text).toBe("You've hit your limit · resets 1:10am");
    // An error result in other words is a plain failure.
    const other = decideOutcome(facts(limitStream([{ ...limitResult, result: 'Invalid API key' }])), {
      code: 1,
      signal: null,
    });
    expect(other.limit).toBeNull();
  });

  it('waits until the reset plus the margin, fails with onUsageLimit fail, and fails at the cap', () => {
    const ending = decideOutcome(facts(limitStream([rejected, limitResult])), { code: 1, signal: null });
    const waiting = settle(ending, run, at);
    expect(waiting).toMatchObject({ status: 'waiting', error: null, limit: null });
    expect(waiting.pause).toMatchObject({
      kind: 'usage_limit',
      status: 'waiting',
      resumeAt: '2026-03-11T04:01:00.000Z',
    });
    const failed = settle(ending, { ...run, autopilot: { ...run.autopilot, onUsageLimit: 'fail' } }, at);
    expect(failed).toMatchObject({ status: 'failed', pause: null, limit: null });
    expect(failed.error).toContain('the usage limit (seven_day)');
    expect(failed.error).toContain('onUsageLimit is fail');
    const capped = settle(ending, { ...run, waits: 2 }, at);
    expect(capped.status).toBe('failed');
    expect(capped.error).toContain('the run already paused 2 time(s) (maxWaits 2)');
  });

  it('queues an interrupted run again while it may resume; else lost with the reason', () => {
    const gone = { ...sessionGone('w-r1'), interrupted: 'the VM went down' };
    const resumed = settle(gone, run, at);
    expect(resumed).toMatchObject({ status: 'queued', error: null, interrupted: null });
    expect(resumed.pause).toMatchObject({ kind: 'interrupted', status: 'queued', resumeAt: null });
    expect(resumed.pause?.reason).toContain('the worker was interrupted');
    for (const [over, why] of [[{ ...at, workspaceKept: false }, 'its workspace is gone']] as const) {
      const lost = settle(gone, run, over);
      expect(lost.status).toBe('lost');
      expect(lost.error).toContain(why);
    }
    expect(settle(gone, { ...run, sessionId: null }, at).error).toContain('no Claude session id');
    expect(settle(gone, { ...run, waits: 2 }, at).error).toContain('maxWaits 2');
    const off = settle(gone, { ...run, autopilot: { ...run.autopilot, onInterrupt: 'lost' } }, at);
    expect(off).toMatchObject({ status: 'lost', pause: null, error: gone.error });
    // Any other ending is left alone.
    const plain = outcomeOf('failed', 'worker reported an error');
    expect(settle(plain, run, at)).toBe(plain);
  });
});
