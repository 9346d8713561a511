// Follow-ups whose first piece died before Claude stored the fork: the next piece forks the parent's session again under the run's own id, or starts afresh when the parent's session is gone too; a fork that was stored is resumed.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Piece,
  type Run,
  type RunEvent,
  TERMINAL_STATUSES,
  type Trigger,
  ZERO_USAGE,
} from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import { ownSessionMaybeUnstored, RESUME_PROMPT } from './launch.js';
import { applyLine, emptyStreamState, pieceAccountOf } from './stream.js';
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

  /**
   * A parent run that pushed its branch, and a follow-up of it whose first piece is lost with the VM at its
   * start: before the fork stored its session, or (`hang_after_init`) after it stored it and said `init`.
   */
  async function interruptedFollowUp(
    workerId: string,
    beforeRestart: (parent: Run) => Promise<void> = async () => {},
    hang: 'hang_before_session' | 'hang_after_init' = 'hang_before_session',
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
    await t.scenario(follow.id, hang);
    await t.publish('run.start', follow.id);
    expect((await t.waitStatus(follow.id, ['running', ...TERMINAL_STATUSES])).status).toBe('running');
    await waitFor('the fork to hang before it stored its session', () =>
      existsSync(join(t.fakeDir, `${follow.id}.hanging`)),
    );
    const sessionId = (await t.env.cols.runs.doc(follow.id).get()).data()?.sessionId ?? 'none';
    expect(existsSync(join(t.fakeDir, 'sessions', sessionId))).toBe(hang === 'hang_after_init');
    if (hang === 'hang_after_init')
      await waitFor('the init in the stream log', async () =>
        (await readFile(join(t.home, 'runs', follow.id, 'stream.jsonl'), 'utf8').catch(() => '')).includes(
          '"subtype":"init"',
        )
          ? true
          : undefined,
      );
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
  it('resumes its own session as any run does once the fork was stored, though no message came yet', async () => {
    const { parent, follow } = await interruptedFollowUp('rf3', async () => {}, 'hang_after_init');
    const done = await t.waitStatus(follow.id, TERMINAL_STATUSES, 30_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    const [first, second, ...more] = await argvs(follow.id);
    expect(more).toHaveLength(0);
    expect(flagOf(first, '--resume')).toBe(parent.sessionId);
    // Forking again would be refused (`Session ID … is already in use`): the stored fork is resumed.
    expect(flagOf(second, '--resume')).toBe(done.sessionId);
    expect(second).not.toContain('--fork-session');
    expect(second).not.toContain('--session-id');
    expect(flagOf(second, '-p')).toBe(RESUME_PROMPT);
    expect(
      (await notes(follow.id)).some((n) => n.includes(`piece 2: resuming Claude session ${done.sessionId}`)),
    ).toBe(true);
    expect(done.pieces.map((p) => [p.session, p.ending])).toEqual([
      ['forked', 'interrupted'],
      ['resumed', 'ended'],
    ]);
    expect(done.usage).toEqual(own);
  });
});

describe('Follow-ups: whether the own session may never have been stored (pure)', () => {
  const trigger: Trigger = {
    type: 'github',
    repo: 'acme/site',
    issue: 9,
    sender: 'octocat',
    deliveryId: 'd-1',
    followUp: { kind: 'answer', parentSessionId: '0b7c2f9e-7a51-4f3c-9a55-3f2d1c0b9a88' },
  };
  const piece = (fields: Partial<Piece>): Piece => ({
    startedAt: null,
    endedAt: '2026-12-01T00:00:00.000Z',
    mode: 'fresh',
    usage: { ...ZERO_USAGE },
    ending: 'interrupted',
    agentId: 'a',
    usageFrom: 'stream',
    turnsFrom: 'stream',
    session: 'forked',
    ...fields,
  });
  const run = (pieces: Piece[], fields: Partial<Pick<Run, 'trigger' | 'sessionId'>> = {}) => ({
    trigger,
    sessionId: '5d1c7a0e-3f6b-4d2a-9c8e-1b2a3c4d5e6f',
    pieces,
    ...fields,
  });

  it('is true only for a follow-up whose pieces here saw no message and no result with a cost', () => {
    expect(ownSessionMaybeUnstored(run([piece({})]), 'a')).toBe(true);
    expect(
      ownSessionMaybeUnstored(run([piece({}), piece({ mode: 'resume', session: 'resumed' })]), 'a'),
    ).toBe(true);
    // The first piece is not a later one; a run that is no follow-up, or knows no parent session, resumes.
    expect(ownSessionMaybeUnstored(run([]), 'a')).toBe(false);
    expect(ownSessionMaybeUnstored(run([piece({})], { trigger: { type: 'api' } }), 'a')).toBe(false);
    expect(
      ownSessionMaybeUnstored(
        run([piece({})], { trigger: { ...trigger, followUp: { kind: 'answer', parentSessionId: null } } }),
        'a',
      ),
    ).toBe(false);
    expect(ownSessionMaybeUnstored(run([piece({})], { sessionId: null }), 'a')).toBe(false);
    // A message, or a result with its totals: the session was stored.
    expect(ownSessionMaybeUnstored(run([piece({ usage: { ...ZERO_USAGE, turns: 1 } })]), 'a')).toBe(false);
    expect(ownSessionMaybeUnstored(run([piece({ usageFrom: 'piece' })]), 'a')).toBe(false);
    expect(ownSessionMaybeUnstored(run([piece({ usageFrom: 'cumulative' })]), 'a')).toBe(false);
    // Another agent's pieces stored nothing on this disk.
    expect(
      ownSessionMaybeUnstored(
        run([piece({ agentId: 'b', usage: { ...ZERO_USAGE, turns: 4 } }), piece({})]),
        'a',
      ),
    ).toBe(true);
  });

  it('records a piece that forks again as forked, and as new once the runner started it afresh', () => {
    const state = { ...emptyStreamState(), forked: true };
    expect(pieceAccountOf(state, 'resume', false).session).toBe('forked');
    expect(pieceAccountOf(emptyStreamState(), 'resume', false).session).toBe('resumed');
    applyLine(state, JSON.stringify({ type: 'nightshift', subtype: 'fresh_start', reason: 'gone' }));
    expect(pieceAccountOf(state, 'resume', false).session).toBe('new');
  });
});
