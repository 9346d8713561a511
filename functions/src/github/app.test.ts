import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { BranchSchema, COLLECTIONS, PROBLEM_CONTENT_TYPE, type Run, WorkerSchema } from '@nightshift/shared';
import {
  webhookExample as example,
  type GitHubStandin,
  signedDelivery,
  startGitHubStandin,
} from '@nightshift/shared/dev';
import { describeEmulators, onFileEnd, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createSchedulerApp } from '../scheduler/app.js';
import { MAX_WEBHOOK_BODY_BYTES } from '../timings.js';
import { createGithubApp } from './app.js';
import { MAX_BODY_CHARS } from './prompt.js';
import { deliver, SECRET, TOKEN_OWNER, tokenTestsPublicKey } from './testing.js';

const publicKey = tokenTestsPublicKey();

const NOW = new Date('2026-11-24T05:00:00.000Z');
const REPO = 'Codertocat/Hello-World'; // the repository of the documented examples
const LABELED_RUN = 'gh-codertocat_hello-world-1-blog-label-1';

describeEmulators('Webhook trust, Deliveries and Summaries: the githubWebhook app', () => {
  let env: TestEnv;
  let log: ReturnType<typeof memoryLogger>;
  let deps: ReturnType<typeof createDeps>;
  let github: GitHubStandin;

  beforeAll(async () => {
    env = await useTestEnv();
    onFileEnd(() => github.close());
  });

  beforeEach(async () => {
    await env.reset();
    await github?.close();
    // GitHub as the documented examples find it: issue #1 of Codertocat/Hello-World.
    github = await startGitHubStandin({ appId: '1', publicKey, installations: [], users: [TOKEN_OWNER] });
    const { issue } = example('issues', 'labeled');
    github.repos.addIssue(REPO, {
      title: issue.title,
      body: issue.body ?? '',
      login: issue.user.login,
      association: issue.author_association,
      labels: ['bug'],
    });
    log = memoryLogger();
    deps = createDeps({ projectId: env.projectId, log, now: () => NOW });
    return () => deps.close();
  });

  async function addWorker(id: string, github: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const worker = WorkerSchema.parse({
      id,
      workdir: `/srv/${id}`,
      github,
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
      ...extra,
    });
    await env.cols.workers.doc(id).set(worker);
    return worker;
  }

  const runs = async () => (await env.cols.runs.get()).docs.map((d) => d.data());
  const deliveries = async () => (await env.db.collection(COLLECTIONS.githubDeliveries).get()).docs;
  const app = (config: Record<string, unknown> = {}) =>
    createGithubApp(deps, { webhookSecret: SECRET, ...config });
  // The documented "labeled" example adds the label "bug" to Codertocat/Hello-World#1.
  const bug = (extra: Record<string, unknown> = {}) => ({
    repo: 'codertocat/hello-world',
    label: 'bug',
    ...extra,
  });

  it('queues a run when a bound issue gets the worker label (real payload, case-insensitive repo)', async () => {
    await addWorker('blog', bug());
    const res = await deliver(app(), {
      event: 'issues',
      payload: example('issues', 'labeled'),
      deliveryId: 'd-1',
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { queued: unknown[] };
    expect(body.queued).toEqual([{ runId: LABELED_RUN, workerId: 'blog', created: true }]);

    const [run, ...others] = await runs();
    expect(others).toHaveLength(0);
    expect(run?.id).toBe(LABELED_RUN);
    expect(run?.status).toBe('queued');
    expect(run?.trigger).toEqual({
      type: 'github',
      repo: REPO,
      issue: 1,
      sender: 'Codertocat',
      deliveryId: 'd-1',
    });
    expect(run?.prompt).toContain('Title: Spelling error in the README file');
    expect(run?.prompt).toContain('untrusted data');
    const delivery = (await env.db.collection(COLLECTIONS.githubDeliveries).doc('d-1').get()).data();
    expect(delivery?.runIds).toEqual([LABELED_RUN]);
    // Its run.start went out: the run's history starts with queued and no failure.
    const events = (await env.cols.runEvents(LABELED_RUN).get()).docs.map((d) => d.data());
    expect(events.map((e) => (e.type === 'status' ? e.to : e.type))).toEqual(['queued']);
  });

  it('an issue opened with the label (GitHub sends opened and labeled) starts exactly one run', async () => {
    await addWorker('blog', bug());
    const opened = await deliver(app(), { event: 'issues', payload: example('issues', 'opened') });
    const labeled = await deliver(app(), { event: 'issues', payload: example('issues', 'labeled') });
    expect([opened.status, labeled.status]).toEqual([202, 202]);
    expect((await runs()).map((r) => r.id)).toEqual([LABELED_RUN]);
    expect(((await labeled.json()) as { queued: unknown[] }).queued).toEqual([
      { runId: LABELED_RUN, workerId: 'blog', created: false },
    ]);
  });

  it('the two deliveries of an issue opened with the label, arriving at once, still make one run', async () => {
    await addWorker('blog', bug());
    const answers = await Promise.all([
      deliver(app(), { event: 'issues', payload: example('issues', 'labeled') }),
      deliver(app(), { event: 'issues', payload: example('issues', 'opened') }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    expect((await runs()).map((r) => r.id)).toEqual([LABELED_RUN]);
  });

  it('labelling again after the run ended starts a new run', async () => {
    await addWorker('blog', bug());
    await deliver(app(), { event: 'issues', payload: example('issues', 'labeled') });
    const first = (await env.cols.runs.doc(LABELED_RUN).get()).data()!;
    await env.cols.runs
      .doc(LABELED_RUN)
      .set({ ...first, status: 'cancelled', finishedAt: NOW.toISOString() });
    await deliver(app(), { event: 'issues', payload: example('issues', 'labeled') });
    expect((await runs()).map((r) => r.id).sort()).toEqual([
      LABELED_RUN,
      'gh-codertocat_hello-world-1-blog-label-2',
    ]);
  });

  it('queues a run for a /nightshift run comment by a trusted author, with the extra instructions', async () => {
    await addWorker('blog', bug());
    const payload = example('issue_comment', 'created');
    payload.comment.body = '/nightshift run and update the changelog\nThanks!';
    const res = await deliver(app(), { event: 'issue_comment', payload, deliveryId: 'd-c' });
    expect(res.status).toBe(202);
    const [run] = await runs();
    expect(run?.id).toBe(`gh-codertocat_hello-world-1-blog-c${payload.comment.id}`);
    expect(run?.trigger).toEqual({
      type: 'github',
      repo: REPO,
      issue: 1,
      sender: 'Codertocat',
      deliveryId: 'd-c',
      commentId: payload.comment.id,
    });
    expect(run?.prompt).toContain('and update the changelog\nThanks!');
  });

  it('gives each issue run of a worker with a repo its own work branch, made from numbers and our ids', async () => {
    const repo = { url: 'https://github.com/Codertocat/Hello-World.git', branch: 'main', push: true };
    await addWorker('blog', bug(), { workdir: undefined, repo });
    await addWorker('docs', bug(), { workdir: undefined, repo });
    await addWorker('local', bug()); // a workdir, used as it is: no branch of ours
    const payload = example('issues', 'labeled');
    payload.issue.title = 'x; rm -rf / && git push --force ../../main';
    await deliver(app(), { event: 'issues', payload });
    const comment = example('issue_comment', 'created');
    comment.comment.body = '/nightshift run';
    await deliver(app(), { event: 'issue_comment', payload: comment });
    const fresh = example('issue_comment', 'created');
    fresh.issue.number = 3;
    fresh.comment.body = '/nightshift run';
    await deliver(app(), { event: 'issue_comment', payload: fresh });

    const branches = Object.fromEntries((await runs()).map((r) => [r.id, r.workBranch]));
    expect(branches).toEqual({
      [LABELED_RUN]: 'nightshift/issue-1-blog-label-1',
      'gh-codertocat_hello-world-1-docs-label-1': 'nightshift/issue-1-docs-label-1',
      'gh-codertocat_hello-world-1-local-label-1': null,
      // A comment on an issue that had a run continues that run's branch (Follow-ups).
      [`gh-codertocat_hello-world-1-blog-c${comment.comment.id}`]: 'nightshift/issue-1-blog-label-1',
      [`gh-codertocat_hello-world-1-docs-c${comment.comment.id}`]: 'nightshift/issue-1-docs-label-1',
      [`gh-codertocat_hello-world-1-local-c${comment.comment.id}`]: null,
      // An issue without a run: its own branch, named after the comment.
      [`gh-codertocat_hello-world-3-blog-c${fresh.comment.id}`]: `nightshift/issue-3-blog-c${fresh.comment.id}`,
      [`gh-codertocat_hello-world-3-docs-c${fresh.comment.id}`]: `nightshift/issue-3-docs-c${fresh.comment.id}`,
      [`gh-codertocat_hello-world-3-local-c${fresh.comment.id}`]: null,
    });
    for (const branch of Object.values(branches)) {
      if (branch !== null) expect(BranchSchema.parse(branch)).toBe(branch);
    }
  });

  it('answers ping with 200', async () => {
    const res = await deliver(app(), { event: 'ping', payload: example('ping') });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, event: 'ping' });
  });

  it('ignores and logs a command from an untrusted author', async () => {
    await addWorker('blog', bug());
    const payload = example('issue_comment', 'created');
    payload.comment.body = '/nightshift run';
    payload.comment.author_association = 'NONE';
    payload.comment.user.login = 'stranger';
    const res = await deliver(app(), { event: 'issue_comment', payload });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ignored: true });
    expect(await runs()).toHaveLength(0);
    expect(await deliveries()).toHaveLength(0);
    expect(JSON.stringify(log.entries)).toContain('comment author \\"stranger\\" is NONE');
  });

  it('ignores a label from a bot unless the worker allows that bot', async () => {
    await addWorker('blog', bug());
    const payload = example('issues', 'labeled');
    payload.sender = { ...payload.sender, login: 'dependabot[bot]', type: 'Bot' };
    const ignored = await deliver(app(), { event: 'issues', payload });
    expect(ignored.status).toBe(200);
    expect(await runs()).toHaveLength(0);

    await addWorker('blog', bug({ allowedBots: ['dependabot[bot]'] }));
    const allowed = await deliver(app(), { event: 'issues', payload });
    expect(allowed.status).toBe(202);
    const [run] = await runs();
    expect(run?.trigger).toMatchObject({ type: 'github', sender: 'dependabot[bot]' });
  });

  it('rejects a wrong or missing signature with 401 and no side effect', async () => {
    await addWorker('blog', bug());
    const payload = example('issues', 'labeled');
    for (const d of [
      { event: 'issues', payload, secret: 'not-the-secret' },
      { event: 'issues', payload, secret: null },
      { event: 'issues', payload, signature: 'sha256=00' },
      { event: 'issues', payload, signature: 'garbage' },
    ]) {
      const res = await deliver(app(), d);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
      expect(await res.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
    }
    // A body changed after signing does not pass either.
    const { headers, body } = signedDelivery(SECRET, 'issues', payload);
    const tampered = await app().request('/', { method: 'POST', headers, body: body.replace('bug', 'bug ') });
    expect(tampered.status).toBe(401);
    expect(await runs()).toHaveLength(0);
    expect(await deliveries()).toHaveLength(0);
  });

  it('accepts a delivery signed over bytes that are not UTF-8; they reach the prompt as U+FFFD', async () => {
    await addWorker('blog', bug());
    const payload = example('issues', 'labeled');
    payload.issue.body = 'before @@ after';
    const text = Buffer.from(JSON.stringify(payload));
    // A lone continuation byte, a byte UTF-8 never uses and a cut two-byte sequence, inside the JSON string.
    const at = text.indexOf('@@');
    const bytes = Buffer.concat([
      text.subarray(0, at),
      Buffer.from([0x80, 0xff, 0xc3]),
      text.subarray(at + 2),
    ]);
    const signature = `sha256=${createHmac('sha256', SECRET).update(bytes).digest('hex')}`;
    const { headers } = signedDelivery(SECRET, 'issues', payload, { signature, deliveryId: 'd-bytes' });
    const res = await app().request('/', { method: 'POST', headers, body: bytes });
    expect(res.status).toBe(202);
    const [run] = await runs();
    expect(run?.id).toBe(LABELED_RUN);
    expect(run?.prompt).toContain('before \uFFFD\uFFFD\uFFFD after');

    // The same bytes with one changed after signing are still refused.
    bytes[at] = 0x81;
    const tampered = await app().request('/', {
      method: 'POST',
      headers: { ...headers, 'x-github-delivery': 'd-bytes-2' },
      body: bytes,
    });
    expect(tampered.status).toBe(401);
  });

  it.each([
    ['declared in Content-Length', true],
    ['chunked, without a length', false],
  ])(
    'refuses a delivery over 25 MiB (%s) with 413 problem+json, without reading it whole',
    async (_name, declared) => {
      await addWorker('blog', bug());
      const CHUNK = 64 * 1024;
      const total = 100 * 1024 * 1024;
      let pulled = 0;
      // Made as it is read, so what the app read is counted and nothing is held in memory beforehand.
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulled >= total) return controller.close();
          pulled += CHUNK;
          controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
        },
      });
      const { headers } = signedDelivery(SECRET, 'issues', {});
      const res = await app().request('/', {
        method: 'POST',
        headers: { ...headers, ...(declared ? { 'content-length': String(26 * 1024 * 1024) } : {}) },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
      expect(await res.json()).toMatchObject({ status: 413, title: 'Content Too Large' });
      // A declared length is refused before a byte is read; a chunked body as soon as it passes the limit.
      expect(pulled).toBeLessThanOrEqual(declared ? 2 * CHUNK : MAX_WEBHOOK_BODY_BYTES + 2 * CHUNK);
      expect(await runs()).toHaveLength(0);
      await body.cancel().catch(() => undefined);
    },
  );

  it('answers a redelivery as a duplicate and queues nothing again', async () => {
    await addWorker('blog', bug());
    const payload = example('issues', 'labeled');
    const first = await deliver(app(), { event: 'issues', payload, deliveryId: 'same' });
    expect(first.status).toBe(202);
    // Even after the first run ended (a new label event would start label-2), the redelivery is a duplicate.
    const run = (await env.cols.runs.doc(LABELED_RUN).get()).data()!;
    await env.cols.runs.doc(LABELED_RUN).set({ ...run, status: 'succeeded', finishedAt: NOW.toISOString() });
    const again = await deliver(app(), { event: 'issues', payload, deliveryId: 'same' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ duplicate: true, deliveryId: 'same', runIds: [LABELED_RUN] });
    expect((await runs()).map((r) => r.id)).toEqual([LABELED_RUN]);
  });

  it('ignores a repository bound to no worker, and events that do not concern nightshift', async () => {
    await addWorker('blog', { repo: 'someone/else', label: 'bug' });
    const res = await deliver(app(), { event: 'issues', payload: example('issues', 'labeled') });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      ignored: true,
      reasons: [{ reason: `no enabled worker is bound to ${REPO}` }],
    });
    const push = await deliver(app(), { event: 'push', payload: { ref: 'refs/heads/main' } });
    expect(push.status).toBe(200);
    const closed = await deliver(app(), { event: 'issues', payload: example('issues', 'edited') });
    expect(closed.status).toBe(200);
    expect(await runs()).toHaveLength(0);
    expect(await deliveries()).toHaveLength(0);
  });

  it('gives each worker bound to the repository whose label matches its own run', async () => {
    await addWorker('blog', bug());
    await addWorker('docs', bug());
    await addWorker('other', bug({ label: 'enhancement' }));
    await addWorker('off', bug(), { enabled: false });
    const res = await deliver(app(), { event: 'issues', payload: example('issues', 'labeled') });
    expect(res.status).toBe(202);
    expect((await runs()).map((r) => r.workerId).sort()).toEqual(['blog', 'docs']);
  });

  it('comments on the issue when the run is queued (GITHUB_TOKEN set)', async () => {
    await addWorker('blog', bug());
    const res = await deliver(app({ githubToken: 'ghp_test', githubApiUrl: github.url }), {
      event: 'issues',
      payload: example('issues', 'labeled'),
    });
    expect(res.status).toBe(202);
    expect(github.requests).toHaveLength(1);
    const [request] = github.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/repos/Codertocat/Hello-World/issues/1/comments');
    expect(request?.authorization).toBe('token ghp_test');
    expect(request?.status).toBe(201); // GitHub took it: the issue is there
    expect(request?.body?.body).toContain(LABELED_RUN);
    expect(request?.body?.body).toContain('`blog`');
    const owed = (await env.db.collection(COLLECTIONS.githubFeedback).doc(LABELED_RUN).get()).data();
    expect(owed?.state).toBe('pending');
  });

  it('a GitHub API error does not fail the webhook or the run', async () => {
    await addWorker('blog', bug());
    github.fail({});
    const res = await deliver(app({ githubToken: 'ghp_test', githubApiUrl: github.url }), {
      event: 'issues',
      payload: example('issues', 'labeled'),
    });
    expect(res.status).toBe(202);
    expect(github.requests).toHaveLength(1); // one attempt: no retry storm against a failing GitHub
    const [run] = await runs();
    expect(run?.status).toBe('queued');
    expect(log.entries.some((e) => e.severity === 'ERROR' && e.message.includes('could not comment'))).toBe(
      true,
    );
  });

  it('posts the run summary once when the run has ended (via the scheduler tick)', async () => {
    await addWorker('blog', bug());
    const config = { githubToken: 'ghp_test', githubApiUrl: github.url };
    await deliver(app(config), { event: 'issues', payload: example('issues', 'labeled') });
    const scheduler = createSchedulerApp(deps, config);

    // Still queued: nothing to post yet.
    await scheduler.request('/', { method: 'POST' });
    expect(github.requests).toHaveLength(1);

    const run = (await env.cols.runs.doc(LABELED_RUN).get()).data() as Run;
    await env.cols.runs.doc(LABELED_RUN).set({
      ...run,
      status: 'succeeded',
      finishedAt: NOW.toISOString(),
      result: 'Fixed the spelling of "commit".',
      usage: { turns: 4, costUsd: 0.37, inputTokens: 100, outputTokens: 50 },
      commits: ['0123456789abcdef0123'],
    });
    const [first, second] = await Promise.all([
      scheduler.request('/', { method: 'POST' }),
      scheduler.request('/', { method: 'POST' }),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    await scheduler.request('/', { method: 'POST' });
    expect(github.requests).toHaveLength(2);
    const summary = github.requests[1];
    expect(summary?.path).toBe('/repos/Codertocat/Hello-World/issues/1/comments');
    expect(summary?.status).toBe(201);
    expect(summary?.body?.body).toContain(LABELED_RUN);
    expect(summary?.body?.body).toContain('**succeeded**');
    expect(summary?.body?.body).toContain('$0.37 over 4 turns');
    expect(summary?.body?.body).toContain('`0123456789ab`');
    expect(summary?.body?.body).toContain('> Fixed the spelling');
    const owed = (await env.db.collection(COLLECTIONS.githubFeedback).doc(LABELED_RUN).get()).data();
    expect(owed?.state).toBe('posted');
  });

  it('without a token posts nothing and owes nothing', async () => {
    await addWorker('blog', bug());
    await deliver(app(), { event: 'issues', payload: example('issues', 'labeled') });
    expect(github.requests).toHaveLength(0);
    expect((await env.db.collection(COLLECTIONS.githubFeedback).get()).size).toBe(0);
  });

  it('queues a run for a very long issue body whose cut falls inside an emoji (no half character stored)', async () => {
    await addWorker('blog', bug());
    const payload = example('issues', 'labeled');
    // An emoji is two UTF-16 code units; the cut at MAX_BODY_CHARS falls between them.
    payload.issue.body = `${'a'.repeat(MAX_BODY_CHARS - 1)}\u{1F600}${'b'.repeat(5_000)}`;
    const res = await deliver(app(), { event: 'issues', payload, deliveryId: 'd-emoji' });
    expect(res.status).toBe(202);
    const [run] = await runs();
    expect(run?.id).toBe(LABELED_RUN);
    // Not half an emoji, which Firestore stores as U+FFFD (or refuses).
    expect(run?.prompt).not.toContain('\uFFFD');
    expect(run?.prompt).toContain(`${'a'.repeat(10)}\n[nightshift cut the issue body here`);
    expect(run?.prompt).toContain('nightshift cut the issue body here');
  });

  it('works through real HTTP', async () => {
    await addWorker('blog', bug());
    const server = serve({ fetch: app().fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      const { headers, body } = signedDelivery(SECRET, 'issues', example('issues', 'labeled'));
      const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body });
      expect(res.status).toBe(202);
      const unsigned = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': 'x' },
        body,
      });
      expect(unsigned.status).toBe(401);
      expect((await runs()).map((r) => r.id)).toEqual([LABELED_RUN]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
