// Pinning and resuming on time: a resume stays with the agent whose disk holds its workspace and session, is taken over afresh once that agent is gone, and is resumed by its own agent at resumeAt; on the emulators with two agents, real tmux, real git and the stand-in worker.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AgentHeartbeat,
  createRunMover,
  type Piece,
  type Run,
  type RunEvent,
  resumeMoveOf,
  ZERO_USAGE,
} from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import { type PinFacts, pinVerdict, resumesHere } from './pin.js';
import { type AgentTest, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';

const flagOf = (argv: string[], name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

describe('Claim: the pin of a resume (pure)', () => {
  const at = '2026-12-01T00:00:00.000Z';
  const piece = (agentId: string | null): Piece => ({
    startedAt: at,
    endedAt: at,
    mode: 'fresh',
    usage: ZERO_USAGE,
    ending: 'usage_limit',
    agentId,
  });
  const beat = (heartbeatAt: string): AgentHeartbeat => ({
    id: 'vm-a',
    version: 't',
    host: 'vm-a',
    state: 'stopped',
    capacity: 1,
    running: [],
    startedAt: at,
    heartbeatAt,
  });
  const facts = (over: Partial<PinFacts>): PinFacts => ({
    agentId: 'vm-b',
    holderBeat: undefined,
    nowMs: Date.parse(at),
    holderGoneMs: 30 * 60_000,
    ...over,
  });

  it('leaves a first piece and a resume of its own free', () => {
    expect(pinVerdict({ pieces: [], agentId: null, updatedAt: at }, facts({}))).toEqual({ kind: 'free' });
    expect(pinVerdict({ pieces: [piece('vm-b')], agentId: 'vm-b', updatedAt: at }, facts({}))).toEqual({
      kind: 'free',
    });
  });

  it("pins another agent's resume while that agent or the queued run moved within holderGoneMs", () => {
    const run = { pieces: [piece('vm-a')], agentId: 'vm-a', updatedAt: at };
    const later = (min: number) => Date.parse(at) + min * 60_000;
    // A VM stopped for hours (its heartbeat old) whose run was just queued is not gone: it is started.
    const old = beat('2026-11-30T18:00:00.000Z');
    expect(pinVerdict(run, facts({ holderBeat: old, nowMs: later(10) }))).toEqual({
      kind: 'elsewhere',
      holder: 'vm-a',
    });
    expect(pinVerdict(run, facts({ holderBeat: old, nowMs: later(31) }))).toMatchObject({
      kind: 'orphaned',
      holder: 'vm-a',
      why: expect.stringContaining('its last heartbeat was at 2026-11-30T18:00:00.000Z'),
    });
    // Its agent said hello after the run was queued: not gone yet.
    expect(
      pinVerdict(run, facts({ holderBeat: beat(new Date(later(20)).toISOString()), nowMs: later(31) })).kind,
    ).toBe('elsewhere');
    expect(pinVerdict(run, facts({ nowMs: later(31) }))).toMatchObject({
      kind: 'orphaned',
      why: expect.stringContaining('no heartbeat document'),
    });
    // A piece from before pieces named their agent: the run's agentId is the holder.
    expect(pinVerdict({ ...run, pieces: [piece(null)] }, facts({}))).toEqual({
      kind: 'elsewhere',
      holder: 'vm-a',
    });
  });

  it('resumes a session only where the earlier pieces ran', () => {
    expect(resumesHere({ pieces: [] }, 'vm-b')).toBe(false);
    expect(resumesHere({ pieces: [piece('vm-b')] }, 'vm-b')).toBe(true);
    expect(resumesHere({ pieces: [piece('vm-a')] }, 'vm-b')).toBe(false);
    expect(resumesHere({ pieces: [piece(null)] }, 'vm-b')).toBe(true);
  });
});

describeEmulators('Claim: pinned resumes, and resumes on time', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
  });

  /** A second agent on its own disk: its own id and its own NIGHTSHIFT_HOME. */
  const startOn = async (agentId: string, over: Partial<typeof TEST_TIMINGS> = {}): Promise<Agent> => {
    const home = join(t.root, `home-${agentId}`);
    await mkdir(home, { recursive: true });
    return t.startAgent({ agentId, home, timings: { ...TEST_TIMINGS, ...over } });
  };
  const argvs = async (runId: string): Promise<string[][]> =>
    (await readFile(join(t.fakeDir, `${runId}.argvs`), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as string[]);
  const eventsOf = async (runId: string): Promise<RunEvent[]> =>
    (await t.env.cols.runEvents(runId).orderBy('at').get()).docs.map((d) => d.data());
  const notes = async (runId: string) =>
    (await eventsOf(runId)).flatMap((e) => (e.type === 'note' ? [e.message] : []));
  /** The scheduler tick's move at resumeAt (resumeWaitingRuns), then its run.start. */
  const tickResume = async (run: Run) => {
    const move = createRunMover({ cols: t.env.cols, agentId: null, deadlineMs: 5_000 });
    const moved = await move(run.id, 'queued', resumeMoveOf(run));
    expect(moved.ok).toBe(true);
    await t.publish('run.start', run.id);
  };

  it('another agent leaves a resume pinned to its holder queued, with one note; the holder resumes it', async () => {
    await t.createWorker('pinned');
    const run = await t.createRun('pinned');
    // A reset far off: no resume timer fires while the holder is away.
    await t.scenario(run.id, 'rate_limit', 60_000);
    let a = await startOn('vm-a');
    await t.publish('run.start', run.id);
    const waiting = await t.waitStatus(run.id, ['waiting', 'failed', 'succeeded', 'lost']);
    expect(waiting.status).toBe('waiting');
    expect(waiting.agentId).toBe('vm-a');
    expect(waiting.pieces.map((p) => p.agentId)).toEqual(['vm-a']);
    // Its VM stops meanwhile; the limit is past for the account (the test does not wait an hour).
    await a.stop();
    await t.env.cols.limits.doc('account').delete();
    await tickResume(waiting);

    const b = await startOn('vm-b');
    await t.publish('run.start', run.id);
    await waitFor('the pin to be said', async () =>
      (await notes(run.id)).some((n) => n.includes('not claimed by agent vm-b')),
    );
    // Several heartbeats' scans and a second run.start later it is still queued, said once.
    await t.publish('run.start', run.id);
    await new Promise((r) => setTimeout(r, 3 * TEST_TIMINGS.heartbeatMs));
    const still = (await t.env.cols.runs.doc(run.id).get()).data();
    expect(still?.status).toBe('queued');
    expect(still?.agentId).toBe('vm-a');
    const pinNotes = (await notes(run.id)).filter((n) => n.includes('not claimed by agent vm-b'));
    expect(pinNotes).toEqual([
      "not claimed by agent vm-b: piece 2 resumes the workspace and Claude session on agent vm-a's disk; the run stays queued for it",
    ]);
    await b.stop();

    // The holder's VM comes back: its agent takes the run and resumes the session in its workspace.
    a = await startOn('vm-a');
    const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost'], 30_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    const [, second] = await argvs(run.id);
    expect(flagOf(second ?? [], '--resume')).toBe(done.sessionId);
    expect(done.pieces.map((p) => [p.mode, p.agentId])).toEqual([
      ['fresh', 'vm-a'],
      ['resume', 'vm-a'],
    ]);
    await a.stop();
  });

  it('takes over a resume whose holder is gone, afresh, with an event, and the usage adds up', async () => {
    await t.createWorker('orphan');
    const at = new Date(Date.now() - 60_000).toISOString();
    const earlier: Piece = {
      startedAt: at,
      endedAt: at,
      mode: 'fresh',
      usage: { turns: 2, costUsd: 0.025, inputTokens: 230, outputTokens: 40 },
      ending: 'interrupted',
      agentId: 'vm-gone',
    };
    const run = await t.createRun('orphan', {
      status: 'queued',
      agentId: 'vm-gone',
      sessionId: '7d3c1a52-2f7e-4b8a-9a55-1c0d2b7e9f10',
      waits: 1,
      pieces: [earlier],
      usage: earlier.usage,
      startedAt: at,
    });
    await t.env.cols.agents.doc('vm-gone').set({
      id: 'vm-gone',
      version: 't',
      host: 'vm-gone',
      state: 'running',
      capacity: 1,
      running: [run.id],
      startedAt: at,
      heartbeatAt: at,
    });
    await t.scenario(run.id, 'success');
    const c = await startOn('vm-c', { holderGoneMs: 1_500 });
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost'], 30_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    // Not before the holder counted as gone: holderGoneMs after the run's last write (its queueing).
    const claimedAt = (await eventsOf(run.id)).find((e) => e.type === 'status' && e.to === 'starting')?.at;
    expect(Date.parse(claimedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(run.updatedAt) + 1_500);
    expect((await notes(run.id)).some((n) => n.includes('not claimed by agent vm-c'))).toBe(true);
    const [argv] = await argvs(run.id);
    expect(flagOf(argv ?? [], '--resume')).toBeUndefined();
    expect(flagOf(argv ?? [], '--session-id')).toBe(run.sessionId);
    expect(flagOf(argv ?? [], '-p')).toBe(run.prompt);
    const said = (await notes(run.id)).join('\n');
    expect(said).toContain('the Claude session was lost with its VM: agent vm-gone has not come back');
    expect(said).toContain("agent vm-c starts piece 2 afresh with the run's prompt");
    expect(done.agentId).toBe('vm-c');
    expect(done.pieces.map((p) => [p.mode, p.ending, p.agentId])).toEqual([
      ['fresh', 'interrupted', 'vm-gone'],
      ['fresh', 'ended', 'vm-c'],
    ]);
    // 2 turns of the lost piece and 3 of the new one.
    expect(done.usage.turns).toBe(5);
    expect(done.commits.length).toBeGreaterThan(0);
    await c.stop();
  });

  it('the holding agent resumes a waiting run at its resumeAt by itself, also after a restart', async () => {
    await t.createWorker('ontime');
    const run = await t.createRun('ontime');
    await t.scenario(run.id, 'rate_limit', 2_500);
    let a = await startOn('vm-t');
    await t.publish('run.start', run.id);
    const waiting = await t.waitStatus(run.id, ['waiting', 'failed', 'succeeded', 'lost']);
    expect(waiting.status).toBe('waiting');
    // The agent restarts while the run waits: the new one finds its waiting run and arms its timer.
    await a.stop();
    a = await startOn('vm-t');
    // No tick and no run.start: only the agent's own timer resumes it.
    const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost'], 30_000);
    expect(done.status).toBe('succeeded');
    const moves = (await eventsOf(run.id)).flatMap((e) => (e.type === 'status' ? [e] : []));
    const resumed = moves.find((e) => e.from === 'waiting');
    expect(resumed).toMatchObject({ to: 'queued', agentId: 'vm-t', reason: resumeMoveOf(waiting).reason });
    // On time: at resumeAt, not a tick later.
    expect(Date.parse(resumed?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(waiting.resumeAt ?? ''));
    expect(Date.parse(resumed?.at ?? '')).toBeLessThan(Date.parse(waiting.resumeAt ?? '') + 3_000);
    expect(moves.filter((e) => e.from === 'waiting')).toHaveLength(1);
    await a.stop();
  });
});
