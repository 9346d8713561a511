// Run notifications from the reactor on the emulators, to a real receiver on loopback: signed JSON (verified as the README says), Slack and Discord shapes, once per (sink, run, status), failures recorded on the sink and never on the run, redirects not followed, addresses checked at send time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import {
  type NotificationSinkSpec,
  PUBSUB,
  type RunStatus,
  type RunStatusEvent,
  runStatusEventOf,
  runStatusTopic,
  statusEvent,
} from '@nightshift/shared';
import {
  describeEmulators,
  onFileEnd,
  type TestEnv,
  testRun,
  useTestEnv,
  waitFor,
} from '@nightshift/shared/testing';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createReactorApp } from '../reactor/app.js';
import { NOTIFICATION_RECORD_TTL_MS } from '../timings.js';
import { type Receiver, startReceiver } from './receiver.test-helper.js';
import type { NotifyOptions } from './send.js';
import { createSink } from './sinks.js';

// The README's verification, as a receiver would write it.
function verify(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string,
): boolean {
  const timestamp = String(headers['x-nightshift-timestamp'] ?? '');
  const signature = String(headers['x-nightshift-signature-256'] ?? '');
  // Refuse old (replayed) deliveries: five minutes either way.
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
  return (
    signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  );
}

const PUBLIC_URL = 'https://nightshift.example.com';

function pushBody(event: RunStatusEvent, messageId = '1'): string {
  return JSON.stringify({
    message: { data: Buffer.from(JSON.stringify(event)).toString('base64'), messageId },
    subscription: `projects/p/subscriptions/${PUBSUB.reactorSubscription}`,
  });
}

describeEmulators('notifications from the reactor', () => {
  let env: TestEnv;
  let deps: ReturnType<typeof createDeps>;
  let receiver: Receiver;
  let log: ReturnType<typeof memoryLogger>;

  beforeAll(async () => {
    env = await useTestEnv();
    receiver = await startReceiver();
    onFileEnd(() => receiver.close());
  });

  beforeEach(async () => {
    await env.reset();
    receiver.requests.length = 0;
    receiver.answer = () => ({ status: 200 });
    log = memoryLogger();
    deps = createDeps({ projectId: env.projectId, log });
    return () => deps.close();
  });

  const options = (over: Partial<NotifyOptions> = {}): NotifyOptions => ({
    policy: { allowLoopback: true },
    publicUrl: PUBLIC_URL,
    backoffMs: [20, 40],
    ...over,
  });

  async function sink(
    spec: Partial<NotificationSinkSpec> & { url?: string },
    policy = { allowLoopback: true },
  ) {
    return createSink(
      deps,
      {
        url: `${receiver.url}/hook`,
        events: ['run.succeeded', 'run.failed'],
        format: 'json',
        workerId: null,
        description: '',
        enabled: true,
        ...spec,
      },
      policy,
    );
  }

  /** A finished run in Firestore and the run.status event that announced it. */
  async function endedRun(to: RunStatus = 'succeeded', workerId = 'blog', id = 'r-notify-1') {
    const started = new Date(Date.now() - 125_000);
    const run = testRun({
      id,
      workerId,
      status: to,
      startedAt: started.toISOString(),
      finishedAt: new Date(started.getTime() + 125_000).toISOString(),
      usage: { turns: 12, costUsd: 1.234, inputTokens: 10, outputTokens: 20 },
      commits: ['aaaa111', 'bbbb222'],
      pushedBranch: 'nightshift/blog',
      result:
        to === 'succeeded' ? 'Fixed the flaky test.\nDetails:\n- one\n- two\n- three\n- four\n- five' : null,
      error: to === 'failed' ? 'npm test failed: 3 tests' : null,
    });
    await env.cols.runs.doc(run.id).set(run);
    return runStatusEventOf(run, statusEvent(run.id, 'running', to, new Date(), run.error) as never);
  }

  const push = (event: RunStatusEvent, o = options(), messageId = '1') =>
    createReactorApp(deps, { notifications: o }).request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: pushBody(event, messageId),
    });

  it('sends a signed JSON message once, with what a person wants at a glance, and shows it on the sink', async () => {
    const created = await sink({});
    const event = await endedRun('succeeded');
    const [a, b] = await Promise.all([push(event, options(), '1'), push(event, options(), '2')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await push(event, options(), '3')).status).toBe(200);
    expect(receiver.requests).toHaveLength(1);
    const got = receiver.requests[0];
    if (!got) throw new Error('nothing received');
    expect(got.path).toBe('/hook');
    expect(got.headers['x-nightshift-event']).toBe('run.succeeded');
    expect(verify(created.secret, got.headers, got.body)).toBe(true);
    // Another body, another secret, an old timestamp: refused by the same check.
    expect(verify(created.secret, got.headers, `${got.body} `)).toBe(false);
    expect(verify('nss_wrong', got.headers, got.body)).toBe(false);
    expect(
      verify(
        created.secret,
        { ...got.headers, 'x-nightshift-timestamp': String(Math.floor(Date.now() / 1000) - 600) },
        got.body,
      ),
    ).toBe(false);
    const body = JSON.parse(got.body);
    expect(body).toMatchObject({
      type: 'run.succeeded',
      run: {
        runId: 'r-notify-1',
        workerId: 'blog',
        status: 'succeeded',
        durationSeconds: 125,
        costUsd: 1.234,
        commits: 2,
        branch: 'nightshift/blog',
        url: `${PUBLIC_URL}/runs/r-notify-1`,
      },
    });
    // The first lines of the result, not all of it.
    expect(body.run.excerpt).toBe('Fixed the flaky test.\nDetails:\n- one\n- two\n- three');
    const stored = (await env.cols.notificationSinks.doc(created.id).get()).data();
    expect(stored?.lastDelivery).toMatchObject({
      ok: true,
      httpStatus: 200,
      attempts: 1,
      runId: 'r-notify-1',
      event: 'run.succeeded',
    });
    // The claim that made it once expires with Firestore's TTL policy, 30 days on.
    const claim = (
      await env.cols.notificationDeliveries.doc(`${created.id}_r-notify-1_succeeded`).get()
    ).data();
    expect(claim?.state).toBe('sent');
    const expires = claim?.expiresAt;
    const expiresMs = expires instanceof Date ? expires.getTime() : (expires?.toMillis() ?? 0);
    expect(Math.abs(expiresMs - (Date.now() + NOTIFICATION_RECORD_TTL_MS))).toBeLessThan(60_000);
  });

  it('sends only the events a sink wants, for its worker or for all', async () => {
    await sink({ events: ['run.failed'] });
    await sink({ url: `${receiver.url}/other-worker`, workerId: 'docs', events: ['run.succeeded'] });
    await sink({ url: `${receiver.url}/blog`, workerId: 'blog', events: ['run.succeeded'] });
    await sink({ url: `${receiver.url}/off`, enabled: false, events: ['run.succeeded'] });
    await push(await endedRun('succeeded'));
    expect(receiver.requests.map((r) => r.path)).toEqual(['/blog']);
  });

  it('speaks Slack incoming-webhook and Discord webhook JSON, unsigned', async () => {
    await sink({ url: `${receiver.url}/slack`, format: 'slack' });
    await sink({ url: `${receiver.url}/discord`, format: 'discord' });
    await push(await endedRun('failed'));
    const slack = receiver.requests.find((r) => r.path === '/slack');
    const discord = receiver.requests.find((r) => r.path === '/discord');
    expect(slack?.headers['x-nightshift-signature-256']).toBeUndefined();
    const s = JSON.parse(slack?.body ?? '{}');
    expect(s.text).toContain('worker blog — run failed');
    expect(s.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(s.blocks[0].text.text).toContain(`<${PUBLIC_URL}/runs/r-notify-1|`);
    expect(s.blocks[1].text.text).toContain('npm test failed: 3 tests');
    const d = JSON.parse(discord?.body ?? '{}');
    expect(d.allowed_mentions).toEqual({ parse: [] });
    expect(d.embeds[0]).toMatchObject({
      title: 'nightshift: worker blog — run failed',
      url: `${PUBLIC_URL}/runs/r-notify-1`,
    });
    expect(d.embeds[0].description).toContain('cost $1.23');
    expect(d.embeds[0].description).toContain('2 commits');
  });

  it('a failing receiver is retried, recorded on the sink, and changes nothing about the run', async () => {
    const created = await sink({});
    receiver.answer = () => ({ status: 503 });
    const event = await endedRun('succeeded');
    const before = (await env.cols.runs.doc(event.runId).get()).data();
    const res = await push(event);
    expect(res.status).toBe(200);
    expect(receiver.requests).toHaveLength(3);
    const stored = (await env.cols.notificationSinks.doc(created.id).get()).data();
    expect(stored?.lastDelivery).toMatchObject({ ok: false, httpStatus: 503, attempts: 3 });
    expect(stored?.lastDelivery?.error).toContain('503');
    expect((await env.cols.runs.doc(event.runId).get()).data()).toEqual(before);
    // A failure is final for that (sink, run, status): a redelivery sends nothing more.
    expect((await push(event, options(), '2')).status).toBe(200);
    expect(receiver.requests).toHaveLength(3);
  });

  it('a receiver that does not answer in time is a failure, not a hang', async () => {
    const created = await sink({});
    receiver.answer = () => 'hang';
    const res = await push(await endedRun('succeeded'), options({ timeoutMs: 200, backoffMs: [] }));
    expect(res.status).toBe(200);
    const stored = (await env.cols.notificationSinks.doc(created.id).get()).data();
    expect(stored?.lastDelivery).toMatchObject({ ok: false, httpStatus: null, attempts: 1 });
    expect(stored?.lastDelivery?.error).toMatch(/no answer within 200 ms/);
  });

  it('does not follow a redirect', async () => {
    const created = await sink({});
    receiver.answer = (path) =>
      path === '/hook'
        ? { status: 307, headers: { location: `${receiver.url}/elsewhere` } }
        : { status: 200 };
    await push(await endedRun('succeeded'));
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hook']);
    const stored = (await env.cols.notificationSinks.doc(created.id).get()).data();
    expect(stored?.lastDelivery).toMatchObject({ ok: false, httpStatus: 307, attempts: 1 });
    expect(stored?.lastDelivery?.error).toMatch(/redirect.*not followed/);
  });

  it.each([
    ['10.0.0.7', /private/],
    ['169.254.169.254', /link-local/],
    ['127.0.0.1', /loopback/],
    ['fd00::1', /private/],
  ])('refuses at send time a name that now resolves to %s (DNS rebinding)', async (address, why) => {
    const created = await sink({ url: 'https://hooks.example.com/x' }, { allowLoopback: false });
    const family = address.includes(':') ? 6 : 4;
    const res = await push(
      await endedRun('succeeded'),
      options({ policy: { allowLoopback: false }, lookup: async () => [{ address, family }] }),
    );
    expect(res.status).toBe(200);
    const stored = (await env.cols.notificationSinks.doc(created.id).get()).data();
    expect(stored?.lastDelivery).toMatchObject({ ok: false, httpStatus: null, attempts: 1 });
    expect(stored?.lastDelivery?.error).toMatch(/^refused: hooks\.example\.com resolves to /);
    expect(stored?.lastDelivery?.error).toMatch(why);
  });

  it('refuses at send time a loopback sink the cloud functions were not told to allow', async () => {
    const created = await sink({});
    await push(await endedRun('succeeded'), options({ policy: { allowLoopback: false } }));
    expect(receiver.requests).toHaveLength(0);
    const stored = (await env.cols.notificationSinks.doc(created.id).get()).data();
    expect(stored?.lastDelivery?.error).toMatch(/^refused: expected an https URL/);
  });

  it("sends within seconds of the run's end, pushed by the Pub/Sub emulator to the reactor", async () => {
    const created = await sink({ events: ['run.failed'] });
    const reactor = createReactorApp(deps, { notifications: options() });
    const server = serve({ fetch: reactor.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const subscription = `notify-push-${Date.now()}`;
    await runStatusTopic(env.pubsub).createSubscription(subscription, {
      pushConfig: { pushEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` },
    });
    try {
      const run = testRun({
        id: 'r-notify-push',
        workerId: 'blog',
        status: 'running',
        startedAt: new Date().toISOString(),
      });
      await env.cols.runs.doc(run.id).set(run);
      const moved = await deps.moveRun(run.id, 'failed', {
        patch: { finishedAt: new Date().toISOString(), error: 'the build broke' },
        reason: 'the build broke',
      });
      expect(moved.ok).toBe(true);
      const got = await waitFor('the notification', async () => receiver.requests[0], { timeoutMs: 15_000 });
      expect(verify(created.secret, got.headers, got.body)).toBe(true);
      expect(JSON.parse(got.body).run).toMatchObject({
        runId: 'r-notify-push',
        status: 'failed',
        excerpt: 'the build broke',
      });
    } finally {
      await env.pubsub.subscription(subscription).delete();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
