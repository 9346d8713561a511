// /v1/notifications over real HTTP on the emulators: sinks created with their secret once, listed without it, patched, deleted; bad URLs refused by name; the digest setting.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { describeEmulators, onFileEnd, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { createApiApp } from '../api/app.js';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';

const TOKEN = 'test-token-0123456789abcdef';

describeEmulators('/v1/notifications', () => {
  let env: TestEnv;
  let deps: ReturnType<typeof createDeps>;

  beforeAll(async () => {
    env = await useTestEnv();
  });

  beforeEach(async () => {
    await env.reset();
    deps = createDeps({ projectId: env.projectId, log: memoryLogger() });
    return () => deps.close();
  });

  async function api(allowLoopback = false) {
    const app = createApiApp(deps, { tokens: [TOKEN], notifications: { allowLoopback } });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    onFileEnd(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
  }

  it('creates a sink with its secret shown once, then lists, reads, patches and deletes it', async () => {
    const call = await api();
    const created = await call('POST', '/v1/notifications', {
      url: 'https://hooks.example.com/nightshift',
      events: ['run.failed', 'digest'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: 'https://hooks.example.com/nightshift',
      events: ['run.failed', 'digest'],
      format: 'json',
      workerId: null,
      enabled: true,
      lastDelivery: null,
    });
    expect(created.body.secret).toMatch(/^nss_[0-9a-f]{64}$/);
    const id = created.body.id as string;
    // Stored, so the reactor can sign with it.
    expect((await env.cols.notificationSinks.doc(id).get()).data()?.secret).toBe(created.body.secret);

    const one = await call('GET', `/v1/notifications/${id}`);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(id);
    expect(one.body).not.toHaveProperty('secret');
    const list = await call('GET', '/v1/notifications');
    expect(list.body.sinks.map((s: { id: string }) => s.id)).toEqual([id]);
    expect(list.body.sinks[0]).not.toHaveProperty('secret');

    const patched = await call('PATCH', `/v1/notifications/${id}`, { format: 'slack', workerId: 'blog' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      format: 'slack',
      workerId: 'blog',
      events: ['run.failed', 'digest'],
    });
    expect(patched.body).not.toHaveProperty('secret');

    expect((await call('DELETE', `/v1/notifications/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/notifications/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/notifications/${id}`)).status).toBe(404);
  });

  it.each([
    ['http://hooks.example.com/x', /https/],
    ['ftp://hooks.example.com/x', /https/],
    ['https://10.0.0.5/x', /private/],
    ['https://192.168.1.1/x', /private/],
    ['https://169.254.169.254/computeMetadata/v1/', /link-local/],
    ['https://100.64.0.1/x', /private/],
    ['https://[fd12:3456::1]/x', /private/],
    ['https://[fe80::1]/x', /private/],
    ['https://[::ffff:10.0.0.1]/x', /private/],
    ['https://127.0.0.1/x', /loopback/],
    ['https://localhost/x', /loopback/],
    ['https://metadata.google.internal/x', /internal/],
    ['https://user:pw@hooks.example.com/x', /credentials/],
  ])('refuses %s, naming url and why', async (url, why) => {
    const call = await api();
    const res = await call('POST', '/v1/notifications', { url, events: ['run.failed'] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'url', message: expect.stringMatching(why) }]);
    expect((await env.cols.notificationSinks.get()).size).toBe(0);
  });

  it('refuses a bad URL in a patch too, and changes nothing', async () => {
    const call = await api();
    const created = await call('POST', '/v1/notifications', {
      url: 'https://a.example.com/',
      events: ['digest'],
    });
    const res = await call('PATCH', `/v1/notifications/${created.body.id}`, { url: 'https://10.1.2.3/' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('url');
    expect((await call('GET', `/v1/notifications/${created.body.id}`)).body.url).toBe(
      'https://a.example.com/',
    );
  });

  it('allows http on loopback only when the local stack says so', async () => {
    const local = await api(true);
    expect(
      (await local('POST', '/v1/notifications', { url: 'http://127.0.0.1:9/x', events: ['digest'] })).status,
    ).toBe(201);
    // Still not a private address, nor http elsewhere.
    expect(
      (await local('POST', '/v1/notifications', { url: 'http://10.0.0.1/x', events: ['digest'] })).status,
    ).toBe(400);
    expect(
      (await local('POST', '/v1/notifications', { url: 'http://example.com/x', events: ['digest'] })).status,
    ).toBe(400);
  });

  it('names bad fields: unknown events, repeated events, no events, unknown format', async () => {
    const call = await api();
    const res = await call('POST', '/v1/notifications', {
      url: 'https://a.example.com/',
      events: ['run.exploded'],
      format: 'teams',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['events.0', 'format']);
    const twice = await call('POST', '/v1/notifications', {
      url: 'https://a.example.com/',
      events: ['digest', 'digest'],
    });
    expect(twice.body.errors[0]).toMatchObject({ path: 'events', message: 'expected each event once' });
    const none = await call('POST', '/v1/notifications', { url: 'https://a.example.com/', events: [] });
    expect(none.body.errors[0].path).toBe('events');
  });

  it('stores the digest time and time zone, and names a bad one', async () => {
    const call = await api();
    expect((await call('GET', '/v1/notifications/digest')).status).toBe(404);
    const put = await call('PUT', '/v1/notifications/digest', { time: '07:30', timeZone: 'Europe/Berlin' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ time: '07:30', timeZone: 'Europe/Berlin', enabled: true });
    expect((await call('GET', '/v1/notifications/digest')).body).toMatchObject({ time: '07:30' });
    const bad = await call('PUT', '/v1/notifications/digest', { time: '25:00', timeZone: 'Mars/Olympus' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['time', 'timeZone']);
  });
});
