// Keep-alive after early answers, over real HTTP: a connection reused after a 413, 401 or 400 still works.
import { Agent, request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { serve } from '@hono/node-server';
import { signedDelivery } from '@nightshift/shared/dev';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp, MAX_BODY_BYTES } from '../api/app.js';
import { TEST_TOKEN } from '../api/testing.js';
import { createGithubApp } from '../github/app.js';
import { SECRET } from '../github/testing.js';
import { MAX_WEBHOOK_BODY_BYTES } from '../timings.js';
import { createDeps } from './deps.js';
import { answerClientErrors } from './keep-alive.js';
import { memoryLogger } from './log.js';

interface Answer {
  status: number;
  connection: string | undefined;
  /** Whether the request went over a connection an earlier request had used. */
  reused: boolean;
}

interface Send {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Written at once, or chunk by chunk (chunked, no Content-Length) when an array. */
  body?: Buffer | Buffer[];
}

/** One request over `agent`; the server may stop reading the body once it answered: that is the point. */
function send(agent: Agent, url: string, s: Send): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(`${url}${s.path}`, { method: s.method, agent, headers: s.headers ?? {} }, (res) => {
      answered = true;
      res.resume();
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          reused: req.reusedSocket,
        }),
      );
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // Writing the rest of a body the server no longer reads, after its answer, may fail: not our concern.
      if (answered && (error.code === 'EPIPE' || error.code === 'ECONNRESET')) return;
      reject(error);
    });
    if (Array.isArray(s.body)) {
      for (const chunk of s.body) req.write(chunk);
      req.end();
    } else req.end(s.body);
  });
}

async function listen(app: {
  fetch: (request: Request) => Response | Promise<Response>;
}): Promise<{ url: string; close(): Promise<void> }> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive connections would hold close() open.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

const AUTH = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
const spaces = (bytes: number) => Buffer.alloc(bytes, 0x20);

// None of these requests reaches Firestore or Pub/Sub: every answer comes before the body is needed.
describe('Answers: keep-alive after an early answer', () => {
  const deps = createDeps({ projectId: 'unit-test-project', log: memoryLogger() });
  let api: Awaited<ReturnType<typeof listen>>;
  let webhook: Awaited<ReturnType<typeof listen>>;
  let agent: Agent;

  beforeAll(async () => {
    api = await listen(createApiApp(deps, { tokens: [TEST_TOKEN] }));
    webhook = await listen(createGithubApp(deps, { webhookSecret: SECRET }));
  });
  // One connection at most, so the request after an early answer goes where that answer came from.
  afterEach(() => agent?.destroy());
  afterAll(async () => {
    await api.close();
    await webhook.close();
    await deps.close();
  });
  const fresh = () => {
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    return agent;
  };

  it.each<[string, Send, number]>([
    [
      '413 on a declared length',
      { method: 'POST', path: '/v1/workers', headers: AUTH, body: spaces(2 * MAX_BODY_BYTES) },
      413,
    ],
    [
      '413 on a chunked body',
      {
        method: 'POST',
        path: '/v1/workers',
        headers: AUTH,
        body: Array.from({ length: 16 }, () => spaces(256 * 1024)),
      },
      413,
    ],
    [
      '401 before the body is read',
      {
        method: 'POST',
        path: '/v1/runs',
        headers: { 'content-type': 'application/json' },
        body: spaces(MAX_BODY_BYTES - 1),
      },
      401,
    ],
    [
      '400 on a header, before the body is read',
      {
        method: 'POST',
        path: '/v1/runs',
        headers: { ...AUTH, 'idempotency-key': 'k'.repeat(256) },
        body: spaces(MAX_BODY_BYTES - 1),
      },
      400,
    ],
    [
      '404 of a route that does not exist',
      { method: 'POST', path: '/v1/nothing-here', headers: AUTH, body: spaces(MAX_BODY_BYTES - 1) },
      404,
    ],
  ])(
    'api: a %s, then a normal request on the same keep-alive agent: both succeed',
    async (_name, first, status) => {
      const a = fresh();
      const early = await send(a, api.url, first);
      expect(early.status).toBe(status);
      // Told, the client does not reuse a connection the server will not read from again.
      expect(early.connection).toBe('close');
      const next = await send(a, api.url, { method: 'GET', path: '/healthz' });
      expect(next.status).toBe(200);
      // And the fresh connection is kept alive in turn.
      const after = await send(a, api.url, { method: 'GET', path: '/healthz' });
      expect(after).toMatchObject({ status: 200, reused: true });
    },
  );

  it('webhook: a 413 over 25 MiB, then a signed ping on the same keep-alive agent: both succeed', async () => {
    const a = fresh();
    const { headers } = signedDelivery(SECRET, 'ping', {});
    const big = await send(a, webhook.url, {
      method: 'POST',
      path: '/',
      headers,
      body: spaces(MAX_WEBHOOK_BODY_BYTES + 1024 * 1024),
    });
    expect(big.status).toBe(413);
    expect(big.connection).toBe('close');
    const ping = signedDelivery(SECRET, 'ping', { zen: 'Keep it logically awesome.' });
    const ok = await send(a, webhook.url, {
      method: 'POST',
      path: '/',
      headers: ping.headers,
      body: Buffer.from(ping.body),
    });
    expect(ok.status).toBe(200);
  });

  it('keeps the connection after an answer to a body the app read, and after requests without one', async () => {
    const a = fresh();
    const first = await send(a, api.url, { method: 'GET', path: '/healthz' });
    expect(first.connection).toBe('keep-alive');
    // Answered after its body was read (and found not to be JSON).
    const read = await send(a, api.url, {
      method: 'POST',
      path: '/v1/workers',
      headers: AUTH,
      body: Buffer.from(`{"id": "x", "prompt": "${'p'.repeat(100_000)}`),
    });
    expect(read.status).toBe(400);
    expect(read.connection).toBe('keep-alive');
    expect(read.reused).toBe(true);
    const last = await send(a, api.url, { method: 'GET', path: '/healthz' });
    expect(last).toMatchObject({ status: 200, reused: true });
  });
});

/** Sends raw bytes at once and reads everything the server sends back until it closes (or resets). */
function rawExchange(url: string, bytes: Buffer): Promise<{ text: string; error?: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ text: Buffer.concat(chunks).toString(), error: e.code }),
    );
    socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString() }));
  });
}

describe('Answers: a request the HTTP parser refuses (headers too large, malformed)', () => {
  let server: ReturnType<typeof serve>;
  let url: string;
  beforeAll(async () => {
    server = serve({ fetch: () => new Response('ok'), port: 0, hostname: '127.0.0.1' });
    answerClientErrors(server);
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // Found by npm run chaos (bad-input): Node answered 431 and destroyed the socket at once, so the
  // client's kernel, reset while it still sent the header, dropped the answer: ECONNRESET, no 431.
  it('answers 431 as problem+json with Connection: close, read whole by a client that sent a 1 MiB header', async () => {
    const request = Buffer.from(
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(1024 * 1024)}\r\n\r\n`,
    );
    const answer = await rawExchange(url, request);
    expect(answer.error).toBeUndefined();
    expect(answer.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer.text).toMatch(/content-type: application\/problem\+json/i);
    expect(answer.text).toMatch(/connection: close/i);
    expect(answer.text).toContain('"status":431');
  });

  it('answers 400 as problem+json to a request line that is not HTTP', async () => {
    const answer = await rawExchange(url, Buffer.from('NOT HTTP AT ALL\r\n\r\n'));
    expect(answer.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.text).toContain('"status":400');
  });
});
