// createRunMover on the Firestore emulator: conditional on the status, atomic with its event, announced once per move.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRunMover, type MoveRun } from './move.js';
import type { RunStatusEvent } from './run-status.js';
import { describeEmulators, type TestEnv, testRun, useTestEnv } from './testing/index.js';

describeEmulators('moveRun', () => {
  let env: TestEnv;
  let announced: RunStatusEvent[];
  let move: MoveRun;
  let counter = 0;
  beforeAll(async () => {
    env = await useTestEnv();
  });

  function mover(
    announce?: (e: RunStatusEvent) => Promise<unknown>,
    onAnnounceError: (e: RunStatusEvent, error: unknown) => void = () => {},
  ) {
    return createRunMover({
      cols: env.cols,
      agentId: 'agent-1',
      deadlineMs: 5_000,
      announce: announce ?? (async (e) => void announced.push(e)),
      onAnnounceError,
    });
  }

  async function stored(status: 'queued' | 'starting' | 'running' = 'queued') {
    const run = testRun({ id: `r-move-${++counter}`, workerId: 'w', status });
    await env.cols.runs.doc(run.id).set(run);
    return run;
  }

  async function history(runId: string) {
    return (await env.cols.runEvents(runId).orderBy('id').get()).docs.map((d) => d.data());
  }

  describe('a move', () => {
    beforeAll(() => {
      announced = [];
      move = mover();
    });

    it('writes the status, the patch and one status event together, and announces it', async () => {
      const run = await stored();
      const moved = await move(run.id, 'starting', { patch: { agentId: 'agent-1' }, reason: 'claimed' });
      expect(moved.ok).toBe(true);
      const after = (await env.cols.runs.doc(run.id).get()).data();
      expect(after).toMatchObject({ status: 'starting', agentId: 'agent-1' });
      const events = await history(run.id);
      expect(events).toEqual([
        expect.objectContaining({ type: 'status', from: 'queued', to: 'starting', reason: 'claimed' }),
      ]);
      expect(announced.filter((e) => e.runId === run.id)).toEqual([
        expect.objectContaining({ eventId: events[0]?.id, from: 'queued', to: 'starting', workerId: 'w' }),
      ]);
    });

    it('refuses a move from a status it does not expect, writing and announcing nothing', async () => {
      const run = await stored('running');
      const before = announced.length;
      const refused = await move(run.id, 'cancelled', { expect: ['queued'] });
      expect(refused).toEqual({
        ok: false,
        current: expect.objectContaining({ status: 'running' }),
        why: 'run is running',
      });
      expect(await history(run.id)).toEqual([]);
      expect(announced.length).toBe(before);
    });

    it('refuses an illegal transition with the reason, and a run that does not exist', async () => {
      const run = await stored('queued');
      const illegal = await move(run.id, 'succeeded');
      expect(illegal.ok).toBe(false);
      if (!illegal.ok) expect(illegal.why).toContain('cannot move from queued to succeeded');
      expect(await move('r-missing', 'starting')).toMatchObject({ ok: false, why: 'run not found' });
    });

    it('reads again when the run changed after the snapshot it was given, and decides on what it is now', async () => {
      const run = await stored('queued');
      const snapshot = await env.cols.runs.doc(run.id).get();
      // Someone else claims it between our read and our write.
      expect((await move(run.id, 'starting')).ok).toBe(true);
      const late = await move(run.id, 'cancelled', { expect: ['queued'], snapshot });
      expect(late).toMatchObject({ ok: false, why: 'run is starting' });
      expect((await history(run.id)).map((e) => (e.type === 'status' ? e.to : e.type))).toEqual(['starting']);
    });

    it('lets exactly one of many concurrent moves of a queued run win', async () => {
      const run = await stored('queued');
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          move(run.id, i % 2 === 0 ? 'starting' : 'cancelled', { expect: ['queued'] }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(await history(run.id)).toHaveLength(1);
    });
  });

  it('keeps the move when its announcement fails, and reports the failure', async () => {
    const failures: string[] = [];
    const failing = mover(
      async () => {
        throw new Error('topic gone');
      },
      (event, error) => failures.push(`${event.to}: ${(error as Error).message}`),
    );
    const run = await stored('queued');
    const moved = await failing(run.id, 'starting');
    expect(moved.ok).toBe(true);
    expect((await env.cols.runs.doc(run.id).get()).data()?.status).toBe('starting');
    expect(failures).toEqual(['starting: topic gone']);
  });
});
