// /v1/workers on the emulators, through real HTTP.
import { PROBLEM_CONTENT_TYPE, type Run, WorkerSchema } from '@nightshift/shared';
import { describeEmulators, type TestEnv, testRun, useTestEnv } from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApi, type TestApi, workerBody } from '../api/testing.js';

async function problemOf(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  return (await res.json()) as { detail?: string; errors?: Array<{ path: string; message: string }> };
}

function storedRun(id: string, workerId: string, status: Run['status']): Run {
  return testRun({ id, workerId, status, maxDurationMinutes: 10 });
}

describeEmulators('workers API', () => {
  let env: TestEnv;
  let api: TestApi;
  beforeAll(async () => {
    env = await useTestEnv();
    api = await startApi(env.projectId);
  });
  afterAll(() => api.close());

  it('creates a worker: 201 with defaults filled in and the stored shape', async () => {
    const res = await api.call('POST', '/v1/workers', workerBody('alpha', { model: 'opus' }));
    expect(res.status).toBe(201);
    const worker = WorkerSchema.parse(await res.json());
    expect(worker).toMatchObject({
      id: 'alpha',
      workdir: '/srv/alpha',
      model: 'opus',
      enabled: true,
      roadmapPath: 'docs/roadmap.md',
    });
    expect(worker.createdAt).toBe(worker.updatedAt);
    expect((await env.cols.workers.doc('alpha').get()).data()).toEqual(worker);
  });

  it('refuses a duplicate id with 409', async () => {
    await api.call('POST', '/v1/workers', workerBody('dup'));
    const problem = await problemOf(await api.call('POST', '/v1/workers', workerBody('dup')), 409);
    expect(problem.detail).toContain('"dup" already exists');
  });

  it.each([
    ['a bad id', { id: 'Bad Id', workdir: '/x' }, ['id']],
    ['no source', { id: 'w1' }, ['repo']],
    ['both sources', { id: 'w1', workdir: '/x', repo: { url: 'https://github.com/a/b' } }, ['workdir']],
    ['a relative workdir', { id: 'w1', workdir: 'rel' }, ['workdir']],
    ['a bad cron', { id: 'w1', workdir: '/x', schedule: { cron: 'every day' } }, ['schedule.cron']],
    ['a bad branch', { id: 'w1', repo: { url: 'https://x/y', branch: '-rf' } }, ['repo.branch']],
    ['an unknown field', { id: 'w1', workdir: '/x', colour: 'red' }, ['(root)']],
    ['a wrong type', { id: 'w1', workdir: '/x', maxTurns: 'ten' }, ['maxTurns']],
  ])('refuses %s with 400 naming the path', async (_name, body, paths) => {
    const problem = await problemOf(await api.call('POST', '/v1/workers', body), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual(paths);
    expect(await env.cols.workers.doc('w1').get()).toHaveProperty('exists', false);
  });

  it('gets a worker, 404 for an unknown one and 400 for a malformed id', async () => {
    await api.call('POST', '/v1/workers', workerBody('getme'));
    const res = await api.call('GET', '/v1/workers/getme');
    expect(res.status).toBe(200);
    expect(WorkerSchema.parse(await res.json()).id).toBe('getme');
    expect((await problemOf(await api.call('GET', '/v1/workers/missing'), 404)).detail).toContain('missing');
    expect((await problemOf(await api.call('GET', '/v1/workers/NO_'), 400)).errors?.[0]?.path).toBe('id');
  });

  it('lists workers by id', async () => {
    await api.call('POST', '/v1/workers', workerBody('list-b'));
    await api.call('POST', '/v1/workers', workerBody('list-a'));
    const res = await api.call('GET', '/v1/workers');
    expect(res.status).toBe(200);
    const { workers } = (await res.json()) as { workers: unknown[] };
    const ids = workers.map((w) => WorkerSchema.parse(w).id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['list-a', 'list-b']));
  });

  it('patches a worker: merged, validated as a whole, null removes a field', async () => {
    await api.call('POST', '/v1/workers', workerBody('patchy', { maxTurns: 5 }));
    const res = await api.call('PATCH', '/v1/workers/patchy', {
      model: 'haiku',
      maxTurns: null,
      workdir: null,
      repo: { url: 'https://github.com/o/r.git' },
      enabled: false,
    });
    expect(res.status).toBe(200);
    const worker = WorkerSchema.parse(await res.json());
    expect(worker).toMatchObject({
      model: 'haiku',
      enabled: false,
      repo: { url: 'https://github.com/o/r.git' },
    });
    expect(worker).not.toHaveProperty('workdir');
    expect(worker).not.toHaveProperty('maxTurns');
    expect(worker.updatedAt >= worker.createdAt).toBe(true);
    const stored = (await env.cols.workers.doc('patchy').get()).data();
    expect(stored).toEqual(worker);
  });

  it('refuses a patch whose result is invalid, or that is itself invalid, naming the path', async () => {
    await api.call('POST', '/v1/workers', workerBody('strict'));
    const both = await problemOf(
      await api.call('PATCH', '/v1/workers/strict', { repo: { url: 'https://github.com/o/r' } }),
      400,
    );
    expect(both.errors?.map((e) => e.path)).toEqual(['workdir']);
    const neither = await problemOf(await api.call('PATCH', '/v1/workers/strict', { workdir: null }), 400);
    expect(neither.errors?.map((e) => e.path)).toEqual(['repo']);
    const id = await problemOf(await api.call('PATCH', '/v1/workers/strict', { id: 'other' }), 400);
    expect(id.errors?.map((e) => e.path)).toEqual(['(root)']);
    const model = await problemOf(await api.call('PATCH', '/v1/workers/strict', { model: '--evil' }), 400);
    expect(model.errors?.map((e) => e.path)).toEqual(['model']);
    expect((await env.cols.workers.doc('strict').get()).data()?.workdir).toBe('/srv/strict');
    await problemOf(await api.call('PATCH', '/v1/workers/ghost', { model: 'opus' }), 404);
  });

  it('deletes a worker with 204 and keeps its finished runs', async () => {
    await api.call('POST', '/v1/workers', workerBody('gone'));
    await env.cols.runs.doc('r-gone-1').set(storedRun('r-gone-1', 'gone', 'succeeded'));
    const res = await api.call('DELETE', '/v1/workers/gone');
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await env.cols.workers.doc('gone').get()).exists).toBe(false);
    expect((await env.cols.runs.doc('r-gone-1').get()).exists).toBe(true);
    await problemOf(await api.call('DELETE', '/v1/workers/gone'), 404);
  });

  it.each(['queued', 'starting', 'running'] as const)(
    'refuses to delete a worker with a %s run (409)',
    async (status) => {
      const id = `busy-${status}`;
      await api.call('POST', '/v1/workers', workerBody(id));
      await env.cols.runs.doc(`r-${id}`).set(storedRun(`r-${id}`, id, status));
      const problem = await problemOf(await api.call('DELETE', `/v1/workers/${id}`), 409);
      expect(problem.detail).toContain(`r-${id}`);
      expect((await env.cols.workers.doc(id).get()).exists).toBe(true);
    },
  );
});
