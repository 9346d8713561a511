// POST/GET /v1/runs and /v1/runs/:id(/events) on the emulators, through real HTTP.
import { PROBLEM_CONTENT_TYPE, type Run, RunEventSchema, RunSchema } from '@nightshift/shared';
import { describeEmulators, emulators, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { drainCommands, startApi, type TestApi, workerBody } from '../api/testing.js';
import { encodeCursor } from './list.js';

async function problemOf(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  return (await res.json()) as {
    detail?: string;
    runId?: string;
    errors?: Array<{ path: string; message: string }>;
  };
}

/** A clock that moves one second per reading, so every run has its own createdAt. */
function steppingClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let t = start;
  return () => {
    t += 1000;
    return new Date(t);
  };
}

describeEmulators('runs API', () => {
  let env: TestEnv;
  let api: TestApi;
  const pubsubHost = emulators?.pubsubHost ?? '';
  beforeAll(async () => {
    env = await useTestEnv();
    api = await startApi(env.projectId, { now: steppingClock() });
    for (const id of ['main', 'pager', 'other']) await api.call('POST', '/v1/workers', workerBody(id));
    await api.call('POST', '/v1/workers', workerBody('off', { enabled: false }));
  });
  afterAll(() => api.close());

  async function startRun(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Run> {
    const res = await api.call('POST', '/v1/runs', body, headers);
    expect(res.status).toBe(202);
    return RunSchema.parse(await res.json());
  }

  it('queues a run with the worker defaults, publishes run.start and records the event', async () => {
    await drainCommands(pubsubHost, env.projectId);
    const res = await api.call('POST', '/v1/runs', { workerId: 'main' });
    expect(res.status).toBe(202);
    const run = RunSchema.parse(await res.json());
    expect(res.headers.get('location')).toBe(`/v1/runs/${run.id}`);
    expect(run).toMatchObject({
      workerId: 'main',
      status: 'queued',
      model: 'sonnet',
      trigger: { type: 'api' },
    });
    expect(run.prompt).toContain('docs/roadmap.md');
    // The default prompt: the owner's TASKS.md first, and the blocker marker, all variables filled.
    expect(run.prompt).toContain('If docs/TASKS.md exists and has unchecked `- [ ]` items');
    expect(run.prompt).toContain('one line starting with `BLOCKED:`');
    expect(run.prompt).not.toContain('{{');
    expect((await env.cols.runs.doc(run.id).get()).data()).toEqual(run);
    const commands = await drainCommands(pubsubHost, env.projectId);
    expect(commands.map((c) => [c.type, c.runId])).toEqual([['run.start', run.id]]);

    const events = await api.call('GET', `/v1/runs/${run.id}/events`);
    expect(events.status).toBe(200);
    const list = ((await events.json()) as { events: unknown[] }).events.map((e) => RunEventSchema.parse(e));
    expect(list).toEqual([
      expect.objectContaining({ type: 'status', from: null, to: 'queued', runId: run.id }),
    ]);
    // The run and its queued event are one commit (one round trip before the publish): one write time.
    const [stored, queued] = await Promise.all([
      env.cols.runs.doc(run.id).get(),
      env.cols.runEvents(run.id).get(),
    ]);
    expect(queued.docs).toHaveLength(1);
    expect(queued.docs[0]?.createTime?.toMillis()).toBe(stored.createTime?.toMillis());
    expect(queued.docs[0]?.createTime?.nanoseconds).toBe(stored.createTime?.nanoseconds);
  });

  it('lists events by time even when their ids do not sort by time', async () => {
    const run = await startRun({ workerId: 'main' });
    const later = (ms: number) => new Date(Date.parse(run.createdAt) + ms).toISOString();
    const moves = [
      { id: 'status-starting', at: later(100), from: 'queued', to: 'starting' },
      { id: 'status-running', at: later(200), from: 'starting', to: 'running' },
      { id: 'status-failed', at: later(300), from: 'running', to: 'failed' },
    ] as const;
    for (const m of moves) {
      await env.cols
        .runEvents(run.id)
        .doc(m.id)
        .set({ type: 'status', runId: run.id, reason: null, agentId: 'a', ...m });
    }
    const res = await api.call('GET', `/v1/runs/${run.id}/events`);
    const { events } = (await res.json()) as { events: Array<{ to: string }> };
    expect(events.map((e) => e.to)).toEqual(['queued', 'starting', 'running', 'failed']);
  });

  it('applies the overrides of the request', async () => {
    const run = await startRun({
      workerId: 'main',
      prompt: 'Fix {{progressPath}}',
      model: 'opus',
      maxTurns: 7,
    });
    expect(run).toMatchObject({ prompt: 'Fix PROGRESS.md', model: 'opus', maxTurns: 7 });
  });

  it('answers 404 for an unknown worker and 409 for a disabled one, each with a reason', async () => {
    const missing = await problemOf(await api.call('POST', '/v1/runs', { workerId: 'nobody' }), 404);
    expect(missing.detail).toContain('"nobody" does not exist');
    const off = await problemOf(await api.call('POST', '/v1/runs', { workerId: 'off' }), 409);
    expect(off.detail).toContain('disabled');
    expect((await env.cols.runs.where('workerId', 'in', ['nobody', 'off']).get()).size).toBe(0);
  });

  it.each([
    ['no workerId', {}, ['workerId']],
    ['a bad workerId', { workerId: 'A B' }, ['workerId']],
    ['maxTurns 0', { workerId: 'main', maxTurns: 0 }, ['maxTurns']],
    ['a model that looks like a flag', { workerId: 'main', model: '--help' }, ['model']],
    ['an empty prompt', { workerId: 'main', prompt: '' }, ['prompt']],
    [
      'a prompt with a NUL, which no process argument can carry',
      { workerId: 'main', prompt: 'do it\u0000now' },
      ['prompt'],
    ],
    ['an unknown field', { workerId: 'main', agent: 'x' }, ['(root)']],
    ['not an object', [1, 2], ['(root)']],
  ])('refuses %s with 400 naming the path', async (_name, body, paths) => {
    const problem = await problemOf(await api.call('POST', '/v1/runs', body), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual(paths);
  });

  it('refuses text with a lone UTF-16 surrogate (not valid UTF-8) with 400 naming the path, never a 500', async () => {
    // JSON may escape half of a surrogate pair ("\ud800"); Firestore cannot store such a string.
    const run = await api.call('POST', '/v1/runs', '{"workerId":"main","prompt":"fix \\ud800 it"}');
    expect((await problemOf(run, 400)).errors?.map((e) => e.path)).toEqual(['prompt']);
    const worker = await api.call('POST', '/v1/workers', workerBody('odd', { prompt: 'x\udfff' }));
    expect((await problemOf(worker, 400)).errors?.map((e) => e.path)).toEqual(['prompt']);
    const patch = await api.call('PATCH', '/v1/workers/main', {
      schedule: { cron: '0 2 * * *', timezone: 'UTC' },
      github: { repo: 'me/blog', allowedBots: ['ok', 'b\ud83d'] },
    });
    expect((await problemOf(patch, 400)).errors?.map((e) => e.path)).toEqual(['github.allowedBots.1']);
    const claimed = await startRun({ workerId: 'main' });
    await env.cols.runs.doc(claimed.id).update({ status: 'starting' });
    const cancel = await api.call('POST', `/v1/runs/${claimed.id}/cancel`, { reason: '\udc00' });
    expect((await problemOf(cancel, 400)).errors?.map((e) => e.path)).toEqual(['reason']);
    // Whole characters outside the BMP are fine.
    expect((await startRun({ workerId: 'main', prompt: 'ship it \u{1F680}' })).prompt).toBe(
      'ship it \u{1F680}',
    );
  });

  it('makes a retry with the same Idempotency-Key return the same run and publish once', async () => {
    await drainCommands(pubsubHost, env.projectId);
    const key = { 'idempotency-key': 'retry-key-1' };
    const first = await startRun({ workerId: 'main', model: 'opus', maxTurns: 3 }, key);
    expect(first.trigger).toEqual({ type: 'api', idempotencyKey: 'retry-key-1' });
    const again = await api.call('POST', '/v1/runs', { maxTurns: 3, model: 'opus', workerId: 'main' }, key);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(RunSchema.parse(await again.json())).toEqual(first);
    const third = await startRun({ workerId: 'main', model: 'opus', maxTurns: 3 }, key);
    expect(third.id).toBe(first.id);

    const commands = await drainCommands(pubsubHost, env.projectId);
    expect(commands.filter((c) => c.runId === first.id).map((c) => c.type)).toEqual(['run.start']);
    expect(commands).toHaveLength(1);
    expect((await env.cols.runs.where('trigger.idempotencyKey', '==', 'retry-key-1').get()).size).toBe(1);
  });

  it('makes concurrent requests with one Idempotency-Key create one run and one command', async () => {
    await drainCommands(pubsubHost, env.projectId);
    const key = { 'idempotency-key': 'burst-key' };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => api.call('POST', '/v1/runs', { workerId: 'main' }, key)),
    );
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    const ids = new Set(await Promise.all(answers.map(async (r) => RunSchema.parse(await r.json()).id)));
    expect(ids.size).toBe(1);
    const commands = await drainCommands(pubsubHost, env.projectId);
    expect(commands.map((c) => [c.type, c.runId])).toEqual([['run.start', [...ids][0]]]);
    // The requests that lost the race wrote nothing: one queued event in the run's history.
    const history = (await env.cols.runEvents([...ids][0] as string).get()).docs.map((d) => d.data());
    expect(history).toEqual([expect.objectContaining({ type: 'status', from: null, to: 'queued' })]);
  });

  it('a retry with the same Idempotency-Key returns the run even when the worker was disabled since', async () => {
    await api.call('POST', '/v1/workers', workerBody('flip'));
    const key = { 'idempotency-key': 'retry-after-disable' };
    const first = await startRun({ workerId: 'flip' }, key);
    expect((await api.call('PATCH', '/v1/workers/flip', { enabled: false })).status).toBe(200);
    // The client never saw the first answer (a timeout): its retry must learn that the run exists.
    const again = await api.call('POST', '/v1/runs', { workerId: 'flip' }, key);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(RunSchema.parse(await again.json()).id).toBe(first.id);
    // A new request for the disabled worker is still refused.
    expect((await api.call('POST', '/v1/runs', { workerId: 'flip' })).status).toBe(409);
  });

  it('answers 409 when an Idempotency-Key comes back with another body', async () => {
    const key = { 'idempotency-key': 'retry-key-2' };
    const first = await startRun({ workerId: 'main' }, key);
    const problem = await problemOf(
      await api.call('POST', '/v1/runs', { workerId: 'main', maxTurns: 2 }, key),
      409,
    );
    expect(problem.detail).toContain('Idempotency-Key');
    expect(problem.runId).toBe(first.id);
  });

  it('gets a run as stored, and 404 for an unknown run', async () => {
    const run = await startRun({ workerId: 'main' });
    const res = await api.call('GET', `/v1/runs/${run.id}`);
    expect(res.status).toBe(200);
    expect(RunSchema.parse(await res.json())).toEqual((await env.cols.runs.doc(run.id).get()).data());
    expect((await problemOf(await api.call('GET', '/v1/runs/r-nope'), 404)).detail).toContain('r-nope');
    await problemOf(await api.call('GET', '/v1/runs/r-nope/events'), 404);
    expect((await problemOf(await api.call('GET', '/v1/runs/-x'), 400)).errors?.[0]?.path).toBe('id');
  });

  it('pages through runs newest first with workerId and status filters', async () => {
    const made: Run[] = [];
    for (let i = 0; i < 7; i++) made.push(await startRun({ workerId: 'pager' }));
    for (let i = 0; i < 3; i++) await startRun({ workerId: 'other' });
    // Two runs with the same createdAt: the id breaks the tie.
    const tieAt = '2031-01-01T00:00:00.000Z';
    for (const id of ['r-tie-a', 'r-tie-b']) {
      const run = RunSchema.parse({ ...made[0], id, createdAt: tieAt, updatedAt: tieAt });
      await env.cols.runs.doc(id).set(run);
      made.push(run);
    }
    const expected = [...made]
      .sort((a, b) =>
        a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt),
      )
      .map((r) => r.id);
    expect(expected.slice(0, 2)).toEqual(['r-tie-b', 'r-tie-a']);

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/v1/runs?workerId=pager&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await api.call('GET', query);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { runs: unknown[]; nextCursor: string | null };
      const runs = page.runs.map((r) => RunSchema.parse(r));
      expect(runs.every((r) => r.workerId === 'pager')).toBe(true);
      seen.push(...runs.map((r) => r.id));
      sizes.push(runs.length);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expected);
    expect(sizes).toEqual([2, 2, 2, 2, 1]);

    const running = [made[1], made[3], made[4]].map((r) => r!.id);
    for (const id of running) await env.cols.runs.doc(id).update({ status: 'running' });
    const first = await api.call('GET', '/v1/runs?workerId=pager&status=running&limit=2');
    const page1 = (await first.json()) as { runs: Run[]; nextCursor: string };
    expect(page1.runs.map((r) => r.id)).toEqual([made[4]!.id, made[3]!.id]);
    const second = await api.call(
      'GET',
      `/v1/runs?workerId=pager&status=running&limit=2&cursor=${page1.nextCursor}`,
    );
    const page2 = (await second.json()) as { runs: Run[]; nextCursor: string | null };
    expect(page2).toEqual({
      runs: [expect.objectContaining({ id: made[1]!.id, status: 'running' })],
      nextCursor: null,
    });

    const byStatus = await api.call('GET', '/v1/runs?status=running&limit=100');
    const all = ((await byStatus.json()) as { runs: Run[] }).runs;
    expect(all.map((r) => r.id).sort()).toEqual([...running].sort());
  });

  it('defaults to 20 runs a page, newest first, across workers', async () => {
    for (let i = 0; i < 6; i++) await startRun({ workerId: 'other' });
    expect((await env.cols.runs.count().get()).data().count).toBeGreaterThan(20);
    const res = await api.call('GET', '/v1/runs');
    const page = (await res.json()) as { runs: Run[]; nextCursor: string | null };
    expect(page.runs).toHaveLength(20);
    expect(page.nextCursor).not.toBeNull();
    const times = page.runs.map((r) => r.createdAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(new Set(page.runs.map((r) => r.workerId)).size).toBeGreaterThan(1);
  });

  it('refuses a cursor it did not hand out, and a bad limit or status, naming the parameter', async () => {
    for (const cursor of ['garbage!', Buffer.from('{"a":1}').toString('base64url')]) {
      const problem = await problemOf(await api.call('GET', `/v1/runs?cursor=${cursor}`), 400);
      expect(problem.errors?.map((e) => e.path)).toEqual(['cursor']);
    }
    // Forged cursors of our shape: a lone UTF-16 surrogate (not valid UTF-8 for Firestore), or values that
    // are no createdAt and run id, are refused as the client's mistake, not a 500.
    for (const values of [
      ['2030-01-01T00:00:00.000Z\ud800', 'r-1'],
      ['2030-01-01T00:00:00.000Z', 'r-\udfff'],
      ['not a time', 'r-1'],
    ]) {
      const cursor = Buffer.from(JSON.stringify(values)).toString('base64url');
      const problem = await problemOf(await api.call('GET', `/v1/runs?workerId=main&cursor=${cursor}`), 400);
      expect(problem.errors?.map((e) => e.path)).toEqual(['cursor']);
    }
    expect(encodeCursor({ createdAt: '2030-01-01T00:00:00.000Z', id: 'r-1' })).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const [query, path] of [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=two', 'limit'],
      ['status=done', 'status'],
      ['workerId=Nope!', 'workerId'],
    ]) {
      const problem = await problemOf(await api.call('GET', `/v1/runs?${query}`), 400);
      expect(problem.errors?.map((e) => e.path)).toEqual([path]);
    }
  });
});
