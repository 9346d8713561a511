// The reactor: run.status events pushed by Pub/Sub (app.request() and the emulator's real push) and what follows them.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import {
  PUBSUB,
  type Run,
  type RunStatusEvent,
  runStatusEventOf,
  runStatusTopic,
  WorkerSchema,
} from '@nightshift/shared';
import { webhookExample as example, type GitHubStandin, startGitHubStandin } from '@nightshift/shared/dev';
import { describeEmulators, onFileEnd, type TestEnv, useTestEnv, waitFor } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createGithubApp } from '../github/app.js';
import { deliver, SECRET, TOKEN_OWNER, tokenTestsPublicKey } from '../github/testing.js';
import { createReactorApp } from './app.js';

const publicKey = tokenTestsPublicKey();

const RUN = 'gh-codertocat_hello-world-1-blog-label-1';
const COMMENTS = '/repos/Codertocat/Hello-World/issues/1/comments';

/** A push request body as Pub/Sub sends it for one message. */
function pushBody(event: RunStatusEvent, messageId = '1'): string {
  return JSON.stringify({
    message: {
      data: Buffer.from(JSON.stringify(event)).toString('base64'),
      messageId,
      attributes: { type: 'run.status' },
    },
    subscription: `projects/p/subscriptions/${PUBSUB.reactorSubscription}`,
  });
}

describeEmulators('reactor', () => {
  let env: TestEnv;
  let log: ReturnType<typeof memoryLogger>;
  let deps: ReturnType<typeof createDeps>;
  let github: GitHubStandin;
  const config = () => ({ githubToken: 'ghp_test', githubApiUrl: github.url });

  beforeAll(async () => {
    env = await useTestEnv();
    onFileEnd(() => github.close());
  });

  beforeEach(async () => {
    await env.reset();
    await github?.close();
    // GitHub as the labelled issue of the documented example finds it: issue #1 of Codertocat/Hello-World.
    github = await startGitHubStandin({ appId: '1', publicKey, installations: [], users: [TOKEN_OWNER] });
    const { issue } = example('issues', 'labeled');
    github.repos.addIssue('Codertocat/Hello-World', {
      title: issue.title,
      body: issue.body ?? '',
      login: issue.user.login,
      association: issue.author_association,
      labels: ['bug'],
    });
    log = memoryLogger();
    deps = createDeps({ projectId: env.projectId, log });
    const worker = WorkerSchema.parse({
      id: 'blog',
      repo: { url: 'https://github.com/Codertocat/Hello-World.git', branch: 'main', push: false },
      github: { repo: 'codertocat/hello-world', label: 'bug' },
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    await env.cols.workers.doc(worker.id).set(worker);
    return () => deps.close();
  });

  /** A labelled issue's run queued through the webhook (its summary is owed), moved to running as an agent would. */
  async function runningIssueRun(): Promise<Run> {
    const res = await deliver(createGithubApp(deps, { webhookSecret: SECRET, ...config() }), {
      event: 'issues',
      payload: example('issues', 'labeled'),
    });
    expect(res.status).toBe(202);
    for (const to of ['starting', 'running'] as const) expect((await deps.moveRun(RUN, to)).ok).toBe(true);
    github.requests.length = 0; // the queued comment
    return (await env.cols.runs.doc(RUN).get()).data() as Run;
  }

  /** Ends the run as its agent would, returning the run.status event that move announces. */
  async function endRun(): Promise<RunStatusEvent> {
    const moved = await deps.moveRun(RUN, 'succeeded', {
      patch: { finishedAt: new Date().toISOString(), result: 'Fixed it.', commits: ['0123456789abcdef'] },
      reason: null,
    });
    if (!moved.ok) throw new Error(moved.why);
    return runStatusEventOf(moved.run, moved.event);
  }

  const comments = () => github.requests.filter((r) => r.method === 'POST' && r.path === COMMENTS);
  const push = (body: string) =>
    createReactorApp(deps, config()).request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

  it('posts the summary of a GitHub run when it ends, once even when the event arrives twice at once', async () => {
    await runningIssueRun();
    const event = await endRun();
    const [first, second] = await Promise.all([push(pushBody(event, '1')), push(pushBody(event, '2'))]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const answers = [await first.json(), await second.json()].map(
      (a) => (a as { reactions: string[] }).reactions,
    );
    expect(answers.flat().sort()).toEqual(
      ['github-summary: claimed_elsewhere', 'github-summary: posted'].sort(),
    );
    expect(comments()).toHaveLength(1);
    expect(comments()[0]?.body?.body).toContain('**succeeded**');
    // A late redelivery finds it posted.
    const late = await push(pushBody(event, '3'));
    expect(((await late.json()) as { reactions: string[] }).reactions).toEqual([
      'github-summary: already_posted',
    ]);
    expect(comments()).toHaveLength(1);
    expect((await env.cols.githubFeedback.doc(RUN).get()).data()?.state).toBe('posted');
  });

  it("names the branch holding a run's unfinished work in its summary", async () => {
    await runningIssueRun();
    const moved = await deps.moveRun(RUN, 'cancelled', {
      patch: {
        finishedAt: new Date().toISOString(),
        error: 'not tonight',
        wipBranch: `nightshift/wip/${RUN}`,
      },
      reason: 'not tonight',
    });
    if (!moved.ok) throw new Error(moved.why);
    expect((await push(pushBody(runStatusEventOf(moved.run, moved.event)))).status).toBe(200);
    expect(comments()[0]?.body?.body).toContain(`- Unfinished work: branch \`nightshift/wip/${RUN}\``);
  });

  it('does nothing for a run that has not ended, or one that did not come from GitHub', async () => {
    const run = await runningIssueRun();
    const running = (await env.cols.runEvents(RUN).get()).docs
      .map((d) => d.data())
      .find((e) => e.type === 'status' && e.to === 'running');
    if (running?.type !== 'status') throw new Error('no running event');
    const res = await push(pushBody(runStatusEventOf(run, running)));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { reactions: string[] }).reactions).toEqual([]);
    const apiRun = { ...run, id: 'r-api', trigger: { type: 'api' as const } };
    const apiEvent = runStatusEventOf(apiRun, {
      ...running,
      runId: 'r-api',
      to: 'succeeded',
      from: 'running',
    });
    expect(((await (await push(pushBody(apiEvent))).json()) as { reactions: string[] }).reactions).toEqual(
      [],
    );
    expect(github.requests).toHaveLength(0);
  });

  it('answers 503 when GitHub fails, so Pub/Sub delivers the event again, and posts on the retry', async () => {
    await runningIssueRun();
    const event = await endRun();
    github.fail({ method: 'POST', path: /\/comments$/ });
    const failed = await push(pushBody(event));
    expect(failed.status).toBe(503);
    expect((await env.cols.githubFeedback.doc(RUN).get()).data()).toMatchObject({
      state: 'pending',
      attempts: 1,
    });
    github.recover();
    const retried = await push(pushBody(event));
    expect(retried.status).toBe(200);
    // The comment GitHub refused, then the one it took.
    expect(comments()).toHaveLength(2);
    expect((await env.cols.githubFeedback.doc(RUN).get()).data()?.state).toBe('posted');
  });

  it('acks a message it cannot read (never retried forever) and logs it', async () => {
    for (const body of ['not json', '{"message":{}}', pushBody({ nonsense: true } as never)]) {
      const res = await push(body);
      expect(res.status).toBe(200);
    }
    expect(
      log.entries.filter((e) => e.severity === 'ERROR' && e.message.startsWith('reactor: dropping')),
    ).toHaveLength(3);
  });

  it("posts the summary within seconds of the run's end, pushed by the Pub/Sub emulator to the reactor", async () => {
    const server = serve({ fetch: createReactorApp(deps, config()).fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const subscription = `reactor-push-${Date.now()}`;
    await runStatusTopic(env.pubsub).createSubscription(subscription, {
      pushConfig: { pushEndpoint: endpoint },
    });
    try {
      await runningIssueRun();
      await endRun();
      await waitFor('the summary comment', async () => (comments().length > 0 ? true : undefined), {
        timeoutMs: 15_000,
      });
      expect(comments()[0]?.body?.body).toContain(RUN);
    } finally {
      await env.pubsub.subscription(subscription).delete();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
