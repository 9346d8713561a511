// The api app behind a real HTTP server: auth and malformed bodies end in 4xx problems, never a crash.
import { request as httpRequest } from 'node:http';
import { PROBLEM_CONTENT_TYPE } from '@nightshift/shared';
import { describeEmulators, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from './app.js';
import { startApi, TEST_TOKEN, type TestApi, workerBody } from './testing.js';

/** A raw request, so the body can be streamed without a Content-Length. */
function rawPost(url: string, path: string, chunks: string[], headers: Record<string, string>) {
  return new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    // The server may answer (413) and close before it has read everything: that is the point.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describeEmulators('api over real HTTP', () => {
  let env: TestEnv;
  let api: TestApi;
  beforeAll(async () => {
    env = await useTestEnv();
    api = await startApi(env.projectId);
  });
  afterAll(() => api.close());

  it('serves /healthz without a token and refuses /v1 without a good one', async () => {
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    for (const authorization of [
      undefined,
      'Bearer wrong-token-wrong-token',
      `Bearer ${TEST_TOKEN.slice(1)}`,
    ]) {
      const res = await fetch(`${api.url}/v1/workers`, authorization ? { headers: { authorization } } : {});
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="nightshift"');
      expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    }
    expect((await api.call('GET', '/v1/workers')).status).toBe(200);
  });

  it('answers a body that is not JSON with 400 and a wrong content type with 415', async () => {
    const bad = await api.call('POST', '/v1/workers', '{"id": "x",');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    const text = await api.call('POST', '/v1/runs', JSON.stringify({ workerId: 'x' }), {
      'content-type': 'text/plain',
    });
    expect(text.status).toBe(415);
    expect(text.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('answers a body over 1 MiB with 413, declared or streamed, and keeps serving', async () => {
    const big = JSON.stringify(workerBody('big', { prompt: 'x'.repeat(MAX_BODY_BYTES) }));
    const declared = await api.call('POST', '/v1/workers', big);
    expect(declared.status).toBe(413);
    expect(declared.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);

    const streamed = await rawPost(api.url, '/v1/workers', Array(6).fill('y'.repeat(256 * 1024)), {
      authorization: `Bearer ${TEST_TOKEN}`,
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    });
    expect(streamed.status).toBe(413);
    expect(streamed.type).toBe(PROBLEM_CONTENT_TYPE);

    // Whitespace pads a valid body to just under the limit.
    const padded = JSON.stringify(workerBody('fits')) + ' '.repeat(MAX_BODY_BYTES - 200);
    const justUnder = await api.call('POST', '/v1/workers', padded);
    expect(justUnder.status).toBe(201);
    expect((await env.cols.workers.doc('big').get()).exists).toBe(false);
  });
});
