// The deployed shape: the `api` target of functions-framework (index.ts), which has already read the body
// into req.rawBody before the Hono app sees the request.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROBLEM_CONTENT_TYPE, WorkerSchema } from '@nightshift/shared';
import { describeEmulators, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from './app.js';
import { TEST_TOKEN, workerBody } from './testing.js';

describeEmulators('api as a functions-framework HTTP function', () => {
  let env: TestEnv;
  let server: Server;
  let url: string;
  const auth = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    env = await useTestEnv();
    // config.ts reads these on the first request (this file runs in its own process).
    process.env.GOOGLE_CLOUD_PROJECT = env.projectId;
    process.env.NIGHTSHIFT_API_TOKENS = TEST_TOKEN;
    await import('../index.js');
    const { getTestServer } = await import('@google-cloud/functions-framework/testing');
    server = getTestServer('api');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers /healthz and refuses /v1 without a token', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const res = await fetch(`${url}/v1/workers`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="nightshift"');
  });

  it('reads JSON bodies from rawBody and writes to Firestore', async () => {
    const res = await fetch(`${url}/v1/workers`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(workerBody('via-ff')),
    });
    expect(res.status).toBe(201);
    expect(WorkerSchema.parse(await res.json()).id).toBe('via-ff');
    expect((await env.cols.workers.doc('via-ff').get()).exists).toBe(true);
  });

  it('answers bad bodies with 4xx problems', async () => {
    const invalid = await fetch(`${url}/v1/workers`, { method: 'POST', headers: auth, body: '{"id":"NO"}' });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    const text = await fetch(`${url}/v1/runs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: '{"workerId":"via-ff"}',
    });
    expect(text.status).toBe(415);
    expect(text.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    const big = await fetch(`${url}/v1/workers`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(workerBody('big', { prompt: 'x'.repeat(MAX_BODY_BYTES) })),
    });
    expect(big.status).toBe(413);
    expect(big.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('answers a body that is not JSON with 400, though not as problem+json (framework limitation)', async () => {
    // functions-framework's body-parser rejects it before the function runs and answers with Express's
    // default error page (GoogleCloudPlatform/functions-framework-nodejs#686); still a 4xx, never a 5xx.
    const res = await fetch(`${url}/v1/runs`, { method: 'POST', headers: auth, body: '{"workerId": ' });
    expect(res.status).toBe(400);
  });
});
