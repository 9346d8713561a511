// The end-of-run feedback on GitHub: the pull request of a run's pushed branch, summaries owed by stopped ticks, and when an entry may expire.
import type { Timestamp } from '@google-cloud/firestore';
import { COLLECTIONS, type GithubFeedback, type Run, WorkerSchema } from '@nightshift/shared';
import { webhookExample as example, type GitHubStandin, startGitHubStandin } from '@nightshift/shared/dev';
import { describeEmulators, onFileEnd, type TestEnv, testRun, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createSchedulerApp } from '../scheduler/app.js';
import { NOTIFICATION_RECORD_TTL_MS, SUMMARY_CLAIM_EXPIRY_MS } from '../timings.js';
import { createGithubApp } from './app.js';
import { SUMMARY_BATCH, SUMMARY_MAX_ATTEMPTS } from './feedback.js';
import { deliver, SECRET, TOKEN_OWNER, tokenTestsPublicKey } from './testing.js';

const publicKey = tokenTestsPublicKey();

const NOW = new Date('2026-11-24T05:00:00.000Z');
const RUN = 'gh-codertocat_hello-world-1-blog-label-1';
const WORK_BRANCH = 'nightshift/issue-1-blog-label-1';
const PULLS = '/repos/Codertocat/Hello-World/pulls';
const COMMENTS = '/repos/Codertocat/Hello-World/issues/1/comments';
/** The branches of the repository on GitHub: its own and the run's pushed work branch. */
const BRANCHES: Record<string, string> = { main: 'a'.repeat(40), [WORK_BRANCH]: 'b'.repeat(40) };

describeEmulators('Summaries: pull requests and claims', () => {
  let env: TestEnv;
  let log: ReturnType<typeof memoryLogger>;
  let deps: ReturnType<typeof createDeps>;
  let github: GitHubStandin;
  let now: Date;

  beforeAll(async () => {
    env = await useTestEnv();
    onFileEnd(() => github.close());
  });

  beforeEach(async () => {
    await env.reset();
    await github?.close();
    // GitHub as the labelled issue of the documented example finds it: issue #1 of Codertocat/Hello-World.
    github = await startGitHubStandin({
      appId: '1',
      publicKey,
      installations: [],
      users: [TOKEN_OWNER],
      resolveBranch: async (_repo, branch) => BRANCHES[branch] ?? null,
    });
    const { issue } = example('issues', 'labeled');
    github.repos.addIssue('Codertocat/Hello-World', {
      title: issue.title,
      body: issue.body ?? '',
      login: issue.user.login,
      association: issue.author_association,
      labels: ['bug'],
    });
    log = memoryLogger();
    now = NOW;
    deps = createDeps({ projectId: env.projectId, log, now: () => now });
    return () => deps.close();
  });

  const config = () => ({ githubToken: 'ghp_test', githubApiUrl: github.url });
  const tick = () => createSchedulerApp(deps, config()).request('/', { method: 'POST' });

  async function addWorker(push: boolean) {
    const worker = WorkerSchema.parse({
      id: 'blog',
      repo: { url: 'https://github.com/Codertocat/Hello-World.git', branch: 'main', push },
      github: { repo: 'codertocat/hello-world', label: 'bug' },
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    });
    await env.cols.workers.doc(worker.id).set(worker);
  }

  /** A labelled issue's run, queued through the webhook, then ended as the agent would end it. */
  async function endedRun(fields: Partial<Run>): Promise<Run> {
    await deliver(createGithubApp(deps, { webhookSecret: SECRET, ...config() }), {
      event: 'issues',
      payload: example('issues', 'labeled'),
    });
    const run = (await env.cols.runs.doc(RUN).get()).data() as Run;
    const ended: Run = {
      ...run,
      status: 'succeeded',
      finishedAt: NOW.toISOString(),
      result: 'Fixed the spelling of "commit".',
      usage: { turns: 4, costUsd: 0.37, inputTokens: 100, outputTokens: 50 },
      commits: ['0123456789abcdef0123', 'fedcba9876543210fedc'],
      ...fields,
    };
    await env.cols.runs.doc(RUN).set(ended);
    github.requests.length = 0; // the queued comment
    return ended;
  }

  const comments = () => github.requests.filter((r) => r.method === 'POST' && r.path === COMMENTS);
  const pullRequests = () => github.requests.filter((r) => r.path.startsWith(PULLS));
  /** The html_url GitHub gives pull request `number`. */
  const pullUrl = (number: number) => `${github.url}/Codertocat/Hello-World/pull/${number}`;

  it('opens a pull request from the pushed work branch and links it in the summary', async () => {
    await addWorker(true);
    const run = await endedRun({ pushedBranch: WORK_BRANCH });
    expect(run.workBranch).toBe(WORK_BRANCH);

    expect((await tick()).status).toBe(200);
    expect(github.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST ${PULLS}`,
      `POST ${COMMENTS}`,
    ]);
    const [pr] = github.requests;
    expect(pr?.authorization).toBe('token ghp_test');
    expect(pr?.body).toMatchObject({
      head: WORK_BRANCH,
      base: 'main',
      title: `nightshift: issue #1 (run ${RUN})`,
    });
    expect(pr?.body?.body).toMatch(/^Closes #1\n/);
    expect(pr?.body?.body).toContain('> Fixed the spelling');
    // The pull request GitHub opened, from the work branch, linked as GitHub answered it.
    const opened = github.repos.issues.filter((i) => i.pull !== undefined);
    expect(opened.map((i) => i.pull?.head)).toEqual([WORK_BRANCH]);
    const summary = comments()[0]?.body?.body as string;
    expect(summary).toContain(`- Pull request: ${pullUrl(opened[0]?.number ?? 0)}`);
    expect(summary).toContain('**succeeded**');

    // Posted once: a later tick opens nothing and comments nothing.
    await tick();
    expect(github.requests).toHaveLength(2);
  });

  it('links the pull request that already exists for the branch (GitHub answers 422)', async () => {
    await addWorker(true);
    // Someone already opened one from the work branch: GitHub answers 422 to another.
    const open = github.repos.addIssue('Codertocat/Hello-World', {
      title: 'Fix the spelling',
      login: 'Codertocat',
      association: 'OWNER',
    });
    open.pull = { head: WORK_BRANCH, base: 'main', state: 'open' };
    const existing = pullUrl(open.number);
    await endedRun({
      pushedBranch: WORK_BRANCH,
      status: 'failed',
      error: 'worker ended with error_max_turns',
    });

    await tick();
    expect(github.requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 422],
      ['GET', 200],
      ['POST', 201],
    ]);
    // Only a succeeded run closes its issue.
    expect(github.requests[0]?.body?.body).not.toContain('Closes #1');
    const query = new URLSearchParams(github.requests[1]?.search);
    expect(query.get('head')).toBe(`Codertocat:${WORK_BRANCH}`);
    const summary = comments()[0]?.body?.body as string;
    expect(summary).toContain(`- Pull request: ${existing} (already open for this branch)`);
    expect(summary).toContain('**failed**');
  });

  it("opens no pull request when the run pushed the worker's own branch", async () => {
    await addWorker(true);
    await endedRun({ pushedBranch: 'main' });
    await tick();
    expect(pullRequests()).toHaveLength(0);
    expect(comments()[0]?.body?.body).toContain('- Branch: `main`');
  });

  it('says in the summary that the run is blocked, and on what', async () => {
    await addWorker(false);
    await endedRun({ blocked: { text: 'needs the staging database password', source: 'progress' } });
    await tick();
    const body = comments()[0]?.body?.body ?? '';
    expect(body).toContain('**Blocked:** needs the staging database password');
    expect(body.indexOf('**Blocked:**')).toBeLessThan(body.indexOf('- Cost:'));
  });

  it('opens no pull request when nothing was pushed, and says where the commits are', async () => {
    await addWorker(false);
    await endedRun({ pushedBranch: null });
    await tick();
    expect(pullRequests()).toHaveLength(0);
    expect(comments()[0]?.body?.body).toContain(
      `- Not pushed: the worker's repo.push is off; the commits are in the workspace on the VM on branch \`${WORK_BRANCH}\``,
    );
  });

  it('a pull request GitHub refuses is logged; the summary still goes out, naming the branch', async () => {
    await addWorker(true);
    github.fail({ path: /^\/repos\/Codertocat\/Hello-World\/pulls/ });
    await endedRun({ pushedBranch: WORK_BRANCH });
    const res = await tick();
    expect(res.status).toBe(200);
    expect(comments()[0]?.body?.body).toContain(`- Branch: \`${WORK_BRANCH}\``);
    expect((await env.db.collection(COLLECTIONS.githubFeedback).doc(RUN).get()).data()?.state).toBe('posted');
    expect(log.entries.some((e) => e.severity === 'ERROR' && e.message.includes('pull request'))).toBe(true);
  });

  it('a summary claimed by a tick that stopped is posted once by a later tick after the claim expires', async () => {
    await addWorker(false);
    await endedRun({});
    const feedback = env.db.collection(COLLECTIONS.githubFeedback).doc(RUN);
    // A tick claimed it and stopped before posting.
    await feedback.update({ state: 'posting', claimedAt: NOW.toISOString(), updatedAt: NOW.toISOString() });

    now = new Date(NOW.getTime() + SUMMARY_CLAIM_EXPIRY_MS / 2);
    await tick();
    expect(comments()).toHaveLength(0); // the claim still counts: that tick may be posting right now

    now = new Date(NOW.getTime() + SUMMARY_CLAIM_EXPIRY_MS + 1_000);
    const answers = await Promise.all([tick(), tick()]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    await tick();
    expect(comments()).toHaveLength(1);
    const entry = (await feedback.get()).data();
    expect(entry?.state).toBe('posted');
    expect(entry?.attempts).toBe(1);
  });

  describe('Summaries: expiry', () => {
    const DAY_MS = 24 * 60 * 60_000;
    const entry = async () =>
      (await env.db.collection(COLLECTIONS.githubFeedback).doc(RUN).get()).data() as
        | (Omit<GithubFeedback, 'expiresAt'> & { expiresAt?: Timestamp })
        | undefined;
    const expiresMs = async () => (await entry())?.expiresAt?.toMillis() ?? null;
    const queue = () =>
      deliver(createGithubApp(deps, { webhookSecret: SECRET, ...config() }), {
        event: 'issues',
        payload: example('issues', 'labeled'),
      });
    const end = async (fields: Partial<Run> = {}) => {
      const run = (await env.cols.runs.doc(RUN).get()).data() as Run;
      await env.cols.runs
        .doc(RUN)
        .set({ ...run, status: 'succeeded', finishedAt: now.toISOString(), commits: [], ...fields });
    };

    it('an owed summary has no expiry, however long its run waits; it expires 30 days after it is posted', async () => {
      await addWorker(false);
      expect((await queue()).status).toBe(202);
      expect((await entry())?.state).toBe('pending');
      expect(await expiresMs()).toBeNull();

      // The run stays queued (or waiting) longer than the TTL: still owed, still no expiry.
      now = new Date(NOW.getTime() + 40 * DAY_MS);
      expect((await tick()).status).toBe(200);
      expect(comments()).toHaveLength(1); // the queued comment only
      expect(await entry()).toMatchObject({ state: 'pending', attempts: 0 });
      expect(await expiresMs()).toBeNull();

      await end();
      now = new Date(NOW.getTime() + 41 * DAY_MS);
      await tick();
      expect(comments()).toHaveLength(2);
      expect(String(comments()[1]?.body?.body)).toContain('ended: **succeeded**');
      expect(await entry()).toMatchObject({ state: 'posted', summaryPostedAt: now.toISOString() });
      expect(await expiresMs()).toBe(now.getTime() + NOTIFICATION_RECORD_TTL_MS);
    });

    it('an entry written with an expiry while owed loses it until its run ends; one given up expires 30 days on', async () => {
      await addWorker(false);
      await queue();
      const ref = env.db.collection(COLLECTIONS.githubFeedback).doc(RUN);
      // As entries were written before: 30 days after they were queued.
      await ref.update({ expiresAt: new Date(NOW.getTime() + NOTIFICATION_RECORD_TTL_MS) });
      expect(await expiresMs()).toBe(NOW.getTime() + NOTIFICATION_RECORD_TTL_MS);
      await tick();
      expect(await entry()).toMatchObject({ state: 'pending' });
      expect(await expiresMs()).toBeNull();

      // GitHub refuses every summary: owed again (no expiry) until the attempts are used up.
      await end();
      github.fail({ method: 'POST', path: /\/comments$/ });
      for (let i = 1; i < SUMMARY_MAX_ATTEMPTS; i++) {
        now = new Date(NOW.getTime() + i * 60_000);
        await tick();
        expect(await entry()).toMatchObject({ state: 'pending', attempts: i });
        expect(await expiresMs()).toBeNull();
      }
      now = new Date(NOW.getTime() + SUMMARY_MAX_ATTEMPTS * 60_000);
      await tick();
      expect(await entry()).toMatchObject({ state: 'failed', attempts: SUMMARY_MAX_ATTEMPTS });
      expect(await expiresMs()).toBe(now.getTime() + NOTIFICATION_RECORD_TTL_MS);
    });

    it('a tick reaches an ended run past more owed entries of waiting runs than one batch holds', async () => {
      await addWorker(false);
      await queue();
      const owed = (await env.cols.githubFeedback.doc(RUN).get()).data() as GithubFeedback;
      // More runs still waiting than a batch holds, their entries first in document order.
      const waiting = Array.from(
        { length: SUMMARY_BATCH + 10 },
        (_, i) => `a-waiting-${String(i).padStart(3, '0')}`,
      );
      const batch = env.db.batch();
      for (const id of waiting) {
        batch.set(env.cols.runs.doc(id), testRun({ id, workerId: 'blog', status: 'waiting' }));
        batch.set(env.cols.githubFeedback.doc(id), { ...owed, runId: id });
      }
      await batch.commit();
      await end();
      await tick();
      expect(comments()).toHaveLength(2);
      expect(String(comments()[1]?.body?.body)).toContain('ended: **succeeded**');
      expect(await entry()).toMatchObject({ state: 'posted' });
      const still = await env.cols.githubFeedback.where('state', '==', 'pending').get();
      expect(still.docs.map((d) => d.id).sort()).toEqual(waiting);
    });

    it('an entry whose run is gone is given up and expires 30 days on', async () => {
      await addWorker(false);
      await queue();
      await env.cols.runs.doc(RUN).delete();
      now = new Date(NOW.getTime() + 3 * DAY_MS);
      await tick();
      expect(await entry()).toMatchObject({ state: 'failed', error: 'the run no longer exists' });
      expect(await expiresMs()).toBe(now.getTime() + NOTIFICATION_RECORD_TTL_MS);
    });
  });
});
