// The one onError on each of the four apps: typed errors are their own problem, a transient gRPC error is
// 503 with Retry-After, anything else a 500 that reveals nothing. No request reaches Firestore or Pub/Sub.
import { encodeRunStatusEvent, PROBLEM_CONTENT_TYPE, ProblemSchema } from '@nightshift/shared';
import { webhookExample as example } from '@nightshift/shared/dev';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createApiApp } from '../api/app.js';
import { TEST_TOKEN } from '../api/testing.js';
import { createGithubApp } from '../github/app.js';
import { deliver, SECRET } from '../github/testing.js';
import { createReactorApp } from '../reactor/app.js';
import { createSchedulerApp } from '../scheduler/app.js';
import { RETRY_AFTER_SECONDS } from '../timings.js';
import { createDeps, type Deps } from './deps.js';
import { conflict, unavailable } from './errors.js';
import { memoryLogger } from './log.js';
import { onError } from './problem.js';

const unavailableError = () =>
  Object.assign(new Error('14 UNAVAILABLE: No connection established to 10.0.0.3'), { code: 14 });

/** Deps whose Firestore (and, for apps that only log, logger) fail the way an unreachable Google client does. */
function failingDeps(fail: () => Error) {
  const log = memoryLogger();
  const base = createDeps({ projectId: 'unit-test-project', log });
  const deps: Deps = Object.create(base, {
    cols: {
      get() {
        throw fail();
      },
    },
  });
  return { deps, log };
}

const runStatusPush = () => ({
  message: {
    data: encodeRunStatusEvent({
      version: 1,
      type: 'run.status',
      eventId: 'status-running',
      runId: 'r-1',
      workerId: 'w',
      from: 'starting',
      to: 'running',
      at: '2026-11-24T05:00:00.000Z',
      reason: null,
      trigger: { type: 'api' },
    }).toString('base64'),
    messageId: 'm-1',
  },
  subscription: 'projects/p/subscriptions/s',
});

/** Each app, asked in a way that reaches Firestore (or, for the reactor, its first step). */
const apps: Record<string, (deps: Deps) => Response | Promise<Response>> = {
  api: (deps) =>
    createApiApp(deps, { tokens: [TEST_TOKEN] }).request('/v1/workers', {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    }),
  githubWebhook: async (deps) => {
    const app = createGithubApp(deps, { webhookSecret: SECRET });
    return deliver(app, { event: 'issues', payload: example('issues', 'labeled') });
  },
  scheduler: (deps) => createSchedulerApp(deps).request('/', { method: 'POST' }),
  reactor: (deps) => {
    // The reactor logs before anything else today; its logger fails too, so the test holds whatever the
    // reactor's first step becomes.
    const failingLog: Deps['log'] = {
      ...deps.log,
      info: () => {
        throw unavailableError();
      },
    };
    const app = createReactorApp(Object.create(deps, { log: { value: failingLog } }), {});
    return app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(runStatusPush()),
    });
  },
};

async function expectProblem(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const body = ProblemSchema.passthrough().parse(await res.json());
  expect(body.status).toBe(status);
  return body;
}

describe('Answers: the one onError', () => {
  it.each(Object.keys(apps))(
    'answers a transient gRPC error on %s with 503 and Retry-After',
    async (name) => {
      const { deps, log } = failingDeps(unavailableError);
      const res = await apps[name]!(deps);
      const body = await expectProblem(res, 503);
      expect(res.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
      expect(JSON.stringify(body)).not.toContain('10.0.0.3');
      expect(log.entries.some((e) => e.severity === 'ERROR' && e.message.includes('UNAVAILABLE'))).toBe(true);
    },
  );

  it.each(Object.keys(apps).filter((name) => name !== 'reactor'))(
    'answers an unexpected error on %s with a 500 that reveals nothing, logged with its stack',
    async (name) => {
      const { deps, log } = failingDeps(() => new Error('exploded at /secret/path'));
      const body = await expectProblem(await apps[name]!(deps), 500);
      expect(JSON.stringify(body)).not.toContain('secret');
      const entry = log.entries.find((e) => e.severity === 'ERROR' && e.message.includes('exploded'));
      expect(entry).toMatchObject({ error: { stack: expect.any(String) } });
    },
  );

  it('answers an HttpError with its own status, extension members and headers', async () => {
    const app = new Hono();
    app.onError(onError(memoryLogger()));
    app.get('/conflict', () => {
      throw conflict('taken', { runId: 'r-1' });
    });
    app.get('/busy', () => {
      throw unavailable('later', { headers: { 'Retry-After': '7' } });
    });
    const body = await expectProblem(await app.request('/conflict'), 409);
    expect(body).toMatchObject({ title: 'Conflict', detail: 'taken', runId: 'r-1' });
    const busy = await app.request('/busy');
    await expectProblem(busy, 503);
    expect(busy.headers.get('retry-after')).toBe('7');
  });
});
