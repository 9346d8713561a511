// The daily digest on the emulators, to a real receiver on loopback: due at its time in its time zone, once per day even with overlapping ticks, with each worker's runs, costs, commits, blockers and month.
import { createHmac } from 'node:crypto';
import { Timestamp } from '@google-cloud/firestore';
import { describeEmulators, onFileEnd, type TestEnv, testRun, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { runTick } from '../scheduler/tick.js';
import { NOTIFICATION_RECORD_TTL_MS } from '../timings.js';
import { localTime } from './digest.js';
import { type Receiver, startReceiver } from './receiver.test-helper.js';
import type { NotifyOptions } from './send.js';
import { createSink, putDigestSettings } from './sinks.js';

const notifications: NotifyOptions = {
  policy: { allowLoopback: true },
  publicUrl: 'https://ns.example.com',
  backoffMs: [10],
};

describeEmulators('the daily digest', () => {
  let env: TestEnv;
  let receiver: Receiver;
  let now: Date;
  let deps: ReturnType<typeof createDeps>;

  beforeAll(async () => {
    env = await useTestEnv();
    receiver = await startReceiver();
    onFileEnd(() => receiver.close());
  });

  beforeEach(async () => {
    await env.reset();
    receiver.requests.length = 0;
    receiver.answer = () => ({ status: 200 });
    // December 3rd, 07:45 in Berlin (UTC+1 in December).
    now = new Date('2026-12-03T06:45:00.000Z');
    deps = createDeps({ projectId: env.projectId, log: memoryLogger(), now: () => now });
    return () => deps.close();
  });

  const sinkSpec = (over: Record<string, unknown> = {}) => ({
    url: `${receiver.url}/digest`,
    events: ['digest' as const],
    format: 'json' as const,
    workerId: null,
    description: '',
    enabled: true,
    ...over,
  });

  async function seedRuns() {
    const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600_000).toISOString();
    const runs = [
      testRun({
        id: 'r-a1',
        workerId: 'blog',
        status: 'succeeded',
        createdAt: hoursAgo(5),
        updatedAt: hoursAgo(4),
        usage: { turns: 3, costUsd: 0.5, inputTokens: 1, outputTokens: 1 },
        commits: ['c1', 'c2'],
      }),
      testRun({
        id: 'r-a2',
        workerId: 'blog',
        status: 'failed',
        createdAt: hoursAgo(3),
        updatedAt: hoursAgo(2),
        usage: { turns: 3, costUsd: 0.25, inputTokens: 1, outputTokens: 1 },
        error: 'tests failed\nmore',
      }),
      testRun({
        id: 'r-b1',
        workerId: 'docs',
        status: 'succeeded',
        createdAt: hoursAgo(1),
        updatedAt: hoursAgo(1),
        usage: { turns: 1, costUsd: 1, inputTokens: 1, outputTokens: 1 },
        commits: ['c3'],
      }),
      // December 1st, 00:30 in Berlin (still November in UTC): counts for the month only.
      testRun({
        id: 'r-old',
        workerId: 'blog',
        status: 'succeeded',
        createdAt: '2026-11-30T23:30:00.000Z',
        updatedAt: '2026-11-30T23:40:00.000Z',
        usage: { turns: 1, costUsd: 2, inputTokens: 1, outputTokens: 1 },
      }),
      // November 30th, 23:30 in Berlin: last month, not counted at all.
      testRun({
        id: 'r-last-month',
        workerId: 'blog',
        status: 'succeeded',
        createdAt: '2026-11-30T22:30:00.000Z',
        updatedAt: '2026-11-30T22:40:00.000Z',
        usage: { turns: 1, costUsd: 7, inputTokens: 1, outputTokens: 1 },
      }),
    ];
    for (const run of runs) await env.cols.runs.doc(run.id).set(run);
  }

  it("is sent once per day even when two ticks overlap, signed, with each worker's day and month", async () => {
    await seedRuns();
    const sink = await createSink(deps, sinkSpec(), notifications.policy);
    await putDigestSettings(deps, { time: '07:30', timeZone: 'Europe/Berlin', enabled: true });
    const [a, b] = await Promise.all([runTick(deps, { notifications }), runTick(deps, { notifications })]);
    expect([a.digest, b.digest]).toContainEqual({ day: '2026-12-03', sent: 1, failed: 0 });
    expect([a.digest, b.digest]).toContainEqual({ skipped: 'the digest of 2026-12-03 was sent already' });
    expect(receiver.requests).toHaveLength(1);
    const got = receiver.requests[0];
    if (!got) throw new Error('nothing received');
    const ts = String(got.headers['x-nightshift-timestamp']);
    expect(got.headers['x-nightshift-signature-256']).toBe(
      `sha256=${createHmac('sha256', sink.secret).update(`${ts}.${got.body}`).digest('hex')}`,
    );
    const { digest } = JSON.parse(got.body);
    expect(digest.day).toBe('2026-12-03');
    // Midnight of December 1st in Berlin.
    expect(digest.monthToDate).toEqual({ since: '2026-11-30T23:00:00.000Z', costUsd: 3.75 });
    expect(digest.workers).toEqual([
      {
        workerId: 'blog',
        runs: 2,
        statuses: { succeeded: 1, failed: 1 },
        costUsd: 0.75,
        commits: 2,
        blockers: [
          { runId: 'r-a2', status: 'failed', text: 'tests failed', url: 'https://ns.example.com/runs/r-a2' },
        ],
        monthCostUsd: 2.75,
      },
      {
        workerId: 'docs',
        runs: 1,
        statuses: { succeeded: 1 },
        costUsd: 1,
        commits: 1,
        blockers: [],
        monthCostUsd: 1,
      },
    ]);
    expect((await env.cols.notificationSinks.doc(sink.id).get()).data()?.lastDelivery).toMatchObject({
      ok: true,
      event: 'digest',
      runId: null,
    });
    // A later tick the same day sends nothing; the next day's does.
    now = new Date('2026-12-03T20:00:00.000Z');
    expect((await runTick(deps, { notifications })).digest).toEqual({
      skipped: 'the digest of 2026-12-03 was sent already',
    });
    now = new Date('2026-12-04T06:31:00.000Z');
    expect((await runTick(deps, { notifications })).digest).toEqual({
      day: '2026-12-04',
      sent: 1,
      failed: 0,
    });
    expect(receiver.requests).toHaveLength(2);
  });

  it('waits for its time in its time zone, and is not sent without a setting', async () => {
    await createSink(deps, sinkSpec(), notifications.policy);
    expect((await runTick(deps, { notifications })).digest).toEqual({ skipped: 'no digest is set' });
    await putDigestSettings(deps, { time: '08:00', timeZone: 'Europe/Berlin', enabled: true });
    expect((await runTick(deps, { notifications })).digest).toEqual({
      skipped: 'not yet 08:00 in Europe/Berlin',
    });
    expect(receiver.requests).toHaveLength(0);
  });

  it("sends Slack and Discord digests, a worker's sink only its worker, and records a failing sink", async () => {
    await seedRuns();
    await createSink(deps, sinkSpec({ url: `${receiver.url}/slack`, format: 'slack' }), notifications.policy);
    await createSink(
      deps,
      sinkSpec({ url: `${receiver.url}/discord`, format: 'discord', workerId: 'docs' }),
      notifications.policy,
    );
    const broken = await createSink(deps, sinkSpec({ url: `${receiver.url}/broken` }), notifications.policy);
    receiver.answer = (path) => ({ status: path === '/broken' ? 500 : 204 });
    await putDigestSettings(deps, { time: '07:30', timeZone: 'Europe/Berlin', enabled: true });
    expect((await runTick(deps, { notifications })).digest).toEqual({
      day: '2026-12-03',
      sent: 2,
      failed: 1,
    });
    const slack = JSON.parse(receiver.requests.find((r) => r.path === '/slack')?.body ?? '{}');
    expect(slack.text).toBe('nightshift digest for 2026-12-03 (Europe/Berlin): last 24 hours');
    expect(slack.blocks[0].text.text).toContain(
      'blog: 2 runs (1 succeeded, 1 failed), $0.75, 2 commits; month $2.75',
    );
    expect(slack.blocks[0].text.text).toContain('r-a2 failed: tests failed');
    const discord = JSON.parse(receiver.requests.find((r) => r.path === '/discord')?.body ?? '{}');
    expect(discord.embeds[0].description).toContain('docs: 1 run');
    expect(discord.embeds[0].description).not.toContain('blog');
    expect((await env.cols.notificationSinks.doc(broken.id).get()).data()?.lastDelivery).toMatchObject({
      ok: false,
      httpStatus: 500,
      attempts: 2,
    });
    const claim = (await env.cols.notificationDigests.doc('2026-12-03').get()).data();
    expect(claim).toMatchObject({ state: 'sent', sinks: 3, failed: 1 });
    // Firestore's TTL policy deletes the day's claim 30 days after it was sent.
    const expires = claim?.expiresAt;
    expect(expires instanceof Timestamp ? expires.toMillis() : expires?.getTime()).toBe(
      now.getTime() + NOTIFICATION_RECORD_TTL_MS,
    );
  });

  it('reads the local day and time of a zone', () => {
    expect(localTime(new Date('2026-12-03T23:30:00Z'), 'Asia/Tokyo')).toMatchObject({
      day: '2026-12-04',
      time: '08:30',
    });
    expect(localTime(new Date('2026-07-01T03:00:00Z'), 'America/Los_Angeles')).toMatchObject({
      day: '2026-06-30',
      time: '20:00',
    });
  });
});
