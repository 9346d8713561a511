// Unit-level checks of the api app through app.request(): auth, errors, logs, the OpenAPI document.
// None of these requests reaches Firestore or Pub/Sub.
import { PROBLEM_CONTENT_TYPE, ProblemSchema } from '@nightshift/shared';
import { describe, expect, it } from 'vitest';
import { createDeps, type Deps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { isDashboardPath } from '../dashboard/routes.js';
import { createApiApp, MAX_BODY_BYTES } from './app.js';
import { OTHER_TOKEN, TEST_TOKEN } from './testing.js';

function setup(overrides: Partial<Deps> = {}) {
  const log = memoryLogger();
  const base = createDeps({ projectId: 'unit-test-project', log });
  const deps = Object.create(base, Object.getOwnPropertyDescriptors(overrides)) as Deps;
  const app = createApiApp(deps, { tokens: [TEST_TOKEN, OTHER_TOKEN], projectId: 'unit-test-project' });
  return { app, log };
}

const auth = { authorization: `Bearer ${TEST_TOKEN}` };

async function expectProblem(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const body = ProblemSchema.passthrough().parse(await res.json());
  expect(body.status).toBe(status);
  return body;
}

describe('auth', () => {
  it('lets /healthz through without a token', async () => {
    const { app } = setup();
    const res = await app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer not-a-token-of-this-api' }],
    ['a prefix of a real token', { authorization: `Bearer ${TEST_TOKEN.slice(0, 10)}` }],
    ['a real token with a suffix', { authorization: `Bearer ${TEST_TOKEN}x` }],
    ['another scheme', { authorization: `Basic ${TEST_TOKEN}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('answers 401 with WWW-Authenticate for %s, naming no token', async (_name, headers) => {
    const { app } = setup();
    for (const path of [
      '/v1/workers',
      '/v1/runs',
      '/v1/agents',
      '/v1/runs/r-1/events',
      '/v1/no-such-route',
    ]) {
      const res = await app.request(path, { headers });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="nightshift"');
      const text = JSON.stringify(await expectProblem(res, 401));
      expect(text).not.toContain(TEST_TOKEN.slice(0, 8));
      expect(text).not.toContain(OTHER_TOKEN.slice(0, 8));
    }
  });

  it('guards every documented /v1 route, whatever the method', async () => {
    const { app } = setup();
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, object> };
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const method of Object.keys(ops)) {
        const url = path.replace(/\{\w+\}/g, 'x1');
        for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token' }] as Record<
          string,
          string
        >[]) {
          const res = await app.request(url, { method: method.toUpperCase(), headers });
          expect(res.status, `${method} ${url}`).toBe(401);
          expect(res.headers.get('www-authenticate')).toBe('Bearer realm="nightshift"');
        }
        checked++;
      }
    }
    expect(checked).toBe(19);
  });

  it('checks POST routes before reading their body', async () => {
    const { app } = setup();
    const res = await app.request('/v1/runs', { method: 'POST', body: '{not json' });
    await expectProblem(res, 401);
  });

  it('accepts every configured token (and reaches validation with it)', async () => {
    const { app } = setup();
    for (const token of [TEST_TOKEN, OTHER_TOKEN]) {
      const res = await app.request('/v1/runs?limit=0', { headers: { authorization: `Bearer ${token}` } });
      const body = await expectProblem(res, 400);
      expect(body.errors).toEqual([{ path: 'limit', message: expect.any(String) }]);
    }
  });
});

describe('errors', () => {
  it('answers an unknown route with 404 problem+json', async () => {
    const { app } = setup();
    const body = await expectProblem(await app.request('/nope', { headers: auth }), 404);
    expect(body.detail).toContain('/nope');
    await expectProblem(await app.request('/v1/nope', { headers: auth }), 404);
  });

  it('answers a known path with another method with 405 and Allow', async () => {
    const { app } = setup();
    const res = await app.request('/v1/runs/r-1', { method: 'DELETE', headers: auth });
    await expectProblem(res, 405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    const workers = await app.request('/v1/workers', { method: 'PUT', headers: auth });
    await expectProblem(workers, 405);
    expect(workers.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
  });

  it('answers a trailing slash on a known path with 404, never a 405 whose Allow names the method asked', async () => {
    const { app } = setup();
    for (const [method, path] of [
      ['GET', '/v1/runs/'],
      ['POST', '/v1/workers/'],
      ['GET', '/v1/runs/r-1/'],
    ] as const) {
      const res = await app.request(path, { method, headers: auth });
      const body = await expectProblem(res, 404);
      expect(body.detail).toContain(path);
    }
  });

  it('answers a body that is not JSON with 400', async () => {
    const { app } = setup();
    for (const path of ['/v1/workers', '/v1/runs', '/v1/runs/r-1/cancel']) {
      const res = await app.request(path, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"workerId": ',
      });
      const body = await expectProblem(res, 400);
      expect(body.detail).toBe('the request body is not valid JSON');
    }
  });

  it('answers a body with another content type with 415', async () => {
    const { app } = setup();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await app.request('/v1/runs', {
        method: 'POST',
        headers: { ...auth, 'content-type': type },
        body: '{"workerId":"w"}',
      });
      await expectProblem(res, 415);
    }
    const noType = await app.request('/v1/workers', { method: 'POST', headers: auth, body: '{"id":"w"}' });
    await expectProblem(noType, 415);
  });

  it('answers a body over 1 MiB with 413, with or without Content-Length', async () => {
    const { app } = setup();
    const big = JSON.stringify({ workerId: 'w', prompt: 'x'.repeat(MAX_BODY_BYTES) });
    const res = await app.request('/v1/runs', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'content-length': String(big.length) },
      body: big,
    });
    await expectProblem(res, 413);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(300_000)));
        controller.close();
      },
    });
    const chunked = await app.request('/v1/workers', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await expectProblem(chunked, 413);
  });

  it('names each failing field of a body, query and path', async () => {
    const { app } = setup();
    const res = await app.request('/v1/runs', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ workerId: 'Not A Slug', maxTurns: 0, extra: true }),
    });
    const body = await expectProblem(res, 400);
    expect(body.errors?.map((e) => e.path).sort()).toEqual(['(root)', 'maxTurns', 'workerId']);
    expect(body.errors?.find((e) => e.path === '(root)')?.message).toContain('extra');

    const query = await expectProblem(
      await app.request('/v1/runs?status=bogus&limit=101&workerId=UPPER', { headers: auth }),
      400,
    );
    expect(query.errors?.map((e) => e.path).sort()).toEqual(['limit', 'status', 'workerId']);
    expect(query.errors?.find((e) => e.path === 'status')?.message).toContain('queued');

    const path = await expectProblem(await app.request('/v1/workers/Bad_Id', { headers: auth }), 400);
    expect(path.errors?.map((e) => e.path)).toEqual(['id']);

    const header = await expectProblem(
      await app.request('/v1/runs', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'k'.repeat(256) },
        body: JSON.stringify({ workerId: 'w' }),
      }),
      400,
    );
    expect(header.errors?.map((e) => e.path)).toEqual(['idempotency-key']);
  });

  it('answers an unexpected failure with a 500 that reveals nothing, and logs it as ERROR', async () => {
    const { app, log } = setup({
      get cols(): never {
        throw new Error('firestore exploded at /secret/internal/path');
      },
    });
    const res = await app.request('/v1/workers', { headers: { ...auth, 'x-request-id': 'req-500' } });
    const body = await expectProblem(res, 500);
    expect(JSON.stringify(body)).not.toContain('exploded');
    expect(JSON.stringify(body)).not.toContain('secret');
    expect(body.detail).toContain('req-500');
    const error = log.entries.find((e) => e.severity === 'ERROR' && e.message.includes('exploded'));
    expect(error).toMatchObject({ requestId: 'req-500', error: { stack: expect.any(String) } });
  });
  it('answers 503 with Retry-After when Firestore is unavailable', async () => {
    const { app, log } = setup({
      get cols(): never {
        throw Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
      },
    });
    const res = await app.request('/v1/agents', { headers: auth });
    const body = await expectProblem(res, 503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(JSON.stringify(body)).not.toContain('No connection');
    expect(log.entries.some((e) => e.severity === 'ERROR' && e.message.includes('UNAVAILABLE'))).toBe(true);
  });
});

describe('request logs', () => {
  it('writes one Cloud Logging line per request with the request id and trace', async () => {
    const { app, log } = setup();
    const res = await app.request('/healthz', {
      headers: {
        'x-request-id': 'abc-123',
        'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1;o=1',
        'user-agent': 'vitest',
        'x-forwarded-for': '203.0.113.7, 10.0.0.1',
      },
    });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const lines = log.entries.filter((e) => 'httpRequest' in e);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: 'INFO',
      requestId: 'abc-123',
      'logging.googleapis.com/trace': 'projects/unit-test-project/traces/105445aa7843bc8bf206b12000100000',
      httpRequest: {
        requestMethod: 'GET',
        requestUrl: 'http://localhost/healthz',
        status: 200,
        userAgent: 'vitest',
        remoteIp: '203.0.113.7',
      },
    });
    expect((lines[0]?.httpRequest as { latency: string } | undefined)?.latency).toMatch(/^\d+\.\d{3}s$/);
  });

  it('tags the entries written while handling a request with its id and trace', async () => {
    const { app, log } = setup({
      get cols(): never {
        throw new Error('boom');
      },
    });
    await app.request('/v1/workers', {
      headers: { ...auth, 'x-request-id': 'corr-1', 'x-cloud-trace-context': 'abcdef0123456789/2' },
    });
    const failure = log.entries.find((e) => e.severity === 'ERROR');
    expect(failure).toMatchObject({
      requestId: 'corr-1',
      'logging.googleapis.com/trace': 'projects/unit-test-project/traces/abcdef0123456789',
    });
  });

  it('makes a request id when none (or a malformed one) comes in, and logs 4xx as WARNING', async () => {
    const { app, log } = setup();
    const res = await app.request('/v1/workers', { headers: { 'x-request-id': 'bad id with spaces' } });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(log.entries.at(-1)).toMatchObject({
      severity: 'WARNING',
      requestId: id,
      httpRequest: { status: 401 },
    });
    expect(log.entries.at(-1)).not.toHaveProperty('logging.googleapis.com/trace');
  });
});

describe('OpenAPI document and pages', () => {
  it('lists every route of the app, with the bearer scheme on every /v1 route', async () => {
    const { app } = setup();
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    };
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Worker',
        'WorkerSpec',
        'WorkerPatch',
        'Run',
        'CreateRun',
        'RunEvent',
        'Problem',
      ]),
    );
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ scheme: 'bearer' }));
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const served = app.routes
      .filter((r) => r.method !== 'ALL' && !isDashboardPath(r.path))
      .map((r) => `${r.method} ${r.path}`);
    expect(new Set(documented)).toEqual(new Set(served));
    expect(documented.sort()).toEqual(
      [
        'GET /healthz',
        'GET /openapi.json',
        'POST /v1/workers',
        'GET /v1/workers',
        'GET /v1/workers/:id',
        'PATCH /v1/workers/:id',
        'DELETE /v1/workers/:id',
        'POST /v1/runs',
        'GET /v1/runs',
        'GET /v1/runs/:id',
        'GET /v1/runs/:id/events',
        'POST /v1/runs/:id/cancel',
        'GET /v1/agents',
        'GET /v1/vms',
        'POST /v1/notifications',
        'GET /v1/notifications',
        'GET /v1/notifications/:id',
        'PATCH /v1/notifications/:id',
        'DELETE /v1/notifications/:id',
        'GET /v1/notifications/digest',
        'PUT /v1/notifications/digest',
      ].sort(),
    );
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops)) {
        if (path.startsWith('/v1/')) expect(op.security, path).toEqual([{ bearer: [] }]);
      }
    }
  });

  it('serves the docs page reading /openapi.json, and a page at / linking to it', async () => {
    const { app } = setup();
    const docs = await app.request('/docs');
    expect(docs.status).toBe(200);
    const init = /<script src="(\/docs\/assets\/init-[^"]+)"/.exec(await docs.text())?.[1] ?? '';
    expect(await (await app.request(init)).text()).toContain("url: '/openapi.json'");
    // Signed out, / is the sign-in page (dashboard.test.ts signs in); it links to the docs too.
    const home = await app.request('/');
    expect(home.headers.get('content-type')).toContain('text/html');
    expect(await home.text()).toContain('href="/docs"');
  });
});
