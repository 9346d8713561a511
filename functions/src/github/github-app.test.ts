// GitHub App tokens: comments and pull requests go out with installation tokens limited to the repository,
// minted from a JWT the stand-in GitHub verifies; GITHUB_TOKEN without an App; misconfiguration logged.
import { generateKeyPairSync } from 'node:crypto';
import { COLLECTIONS, PUBSUB, type Run, runStatusEventOf, WorkerSchema } from '@nightshift/shared';
import {
  webhookExample as example,
  type GitHubStandin,
  makeAppKey,
  type StandinInstallation,
  startGitHubStandin,
} from '@nightshift/shared/dev';
import { describeEmulators, onFileEnd, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createReactorApp } from '../reactor/app.js';
import { createSchedulerApp } from '../scheduler/app.js';
import { createGithubApp } from './app.js';
import { createGithub, FUNCTIONS_TOKEN_PERMISSIONS, githubAppProblem } from './client.js';
import { deliver, SECRET, TOKEN_OWNER } from './testing.js';

const NOW = new Date('2026-11-24T05:00:00.000Z');
const RUN = 'gh-codertocat_hello-world-1-blog-label-1';
const WORK_BRANCH = 'nightshift/issue-1-blog-label-1';
const COMMENTS = '/repos/Codertocat/Hello-World/issues/1/comments';
const PULLS = '/repos/Codertocat/Hello-World/pulls';
const MINT = '/app/installations/957387/access_tokens';
const LOOKUP = '/repos/Codertocat/Hello-World/installation';
const INSTALLATION = 957387; // the documented examples' installation
const APP_ID = '29310';

describeEmulators('Summaries: GitHub App tokens', () => {
  let env: TestEnv;
  let log: ReturnType<typeof memoryLogger>;
  let deps: ReturnType<typeof createDeps>;
  let github: GitHubStandin;
  const app = makeAppKey();
  /** The App's installation on the documented examples' account. */
  const installation: StandinInstallation = {
    id: INSTALLATION,
    owner: 'Codertocat',
    repos: ['Hello-World', 'Space'],
    permissions: { contents: 'write', issues: 'write', pull_requests: 'write', metadata: 'read' },
  };

  /** GitHub with the App installed as given, the labelled issue #1 and the branches of the repository. */
  async function startGithub(installations: StandinInstallation[]) {
    await github?.close();
    const branches: Record<string, string> = { main: 'a'.repeat(40), [WORK_BRANCH]: 'b'.repeat(40) };
    github = await startGitHubStandin({
      appId: APP_ID,
      publicKey: app.publicKey,
      installations,
      users: [TOKEN_OWNER],
      resolveBranch: async (_repo, branch) => branches[branch] ?? null,
    });
    const { issue } = example('issues', 'labeled');
    github.repos.addIssue('Codertocat/Hello-World', {
      title: issue.title,
      body: issue.body ?? '',
      login: issue.user.login,
      association: issue.author_association,
      labels: ['bug'],
    });
  }

  beforeAll(async () => {
    env = await useTestEnv();
    onFileEnd(() => github.close());
  });

  beforeEach(async () => {
    await env.reset();
    await startGithub([installation]);
    log = memoryLogger();
    deps = createDeps({ projectId: env.projectId, log, now: () => NOW });
    await env.cols.workers.doc('blog').set(
      WorkerSchema.parse({
        id: 'blog',
        repo: { url: 'https://github.com/Codertocat/Hello-World.git', branch: 'main', push: true },
        github: { repo: 'codertocat/hello-world', label: 'bug' },
        createdAt: NOW.toISOString(),
        updatedAt: NOW.toISOString(),
      }),
    );
    return () => deps.close();
  });

  const appConfig = (extra: Record<string, string> = {}) => ({
    githubApiUrl: github.url,
    githubAppId: APP_ID,
    githubAppPrivateKey: app.privateKeyPem,
    ...extra,
  });
  /** The documented labeled event, as an App's webhook delivers it (with the installation it came through). */
  const labeled = (installationId: number | null = INSTALLATION) => {
    const payload = example('issues', 'labeled');
    if (installationId !== null)
      payload.installation = { id: installationId, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uOTU3Mzg3' };
    return payload;
  };
  const webhook = (config: Record<string, string>) =>
    createGithubApp(deps, { webhookSecret: SECRET, ...config });
  const calls = () => github.requests.map((r) => `${r.method} ${r.path}`);
  const comments = () => github.requests.filter((r) => r.method === 'POST' && r.path === COMMENTS);

  async function endRun(fields: Partial<Run> = {}) {
    const run = (await env.cols.runs.doc(RUN).get()).data() as Run;
    await env.cols.runs
      .doc(RUN)
      .set({ ...run, status: 'succeeded', finishedAt: NOW.toISOString(), ...fields });
  }

  it('comments with an installation token for the delivery installation, limited to the repository', async () => {
    const res = await deliver(webhook(appConfig()), { event: 'issues', payload: labeled() });
    expect(res.status).toBe(202);
    // The delivery named its installation: no lookup, one token, then the comment with it.
    expect(calls()).toEqual([`POST ${MINT}`, `POST ${COMMENTS}`]);
    const [minted, ...more] = github.minted;
    expect(more).toHaveLength(0);
    expect(minted?.repos).toEqual(['Hello-World']);
    expect(minted?.permissions).toEqual(FUNCTIONS_TOKEN_PERMISSIONS);
    expect(String(minted?.claims.iss)).toBe(APP_ID);
    expect(minted!.claims.exp - minted!.claims.iat).toBeLessThanOrEqual(600);
    expect(minted!.claims.exp).toBeGreaterThan(Date.now() / 1000);
    // The JWT is the App's, never sent where a token goes.
    expect(github.requests[0]?.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(comments()[0]?.authorization).toBe(`token ${minted?.token}`);
    expect(comments()[0]?.authorization).toMatch(/^token ghs_/);
    const owed = (await env.db.collection(COLLECTIONS.githubFeedback).doc(RUN).get()).data();
    expect(owed).toMatchObject({ state: 'pending', installationId: INSTALLATION });
  });

  it('uses the App, not GITHUB_TOKEN, when both are configured', async () => {
    await deliver(webhook(appConfig({ githubToken: 'ghp_test' })), { event: 'issues', payload: labeled() });
    expect(comments()).toHaveLength(1);
    expect(comments()[0]?.authorization).toMatch(/^token ghs_/);
    expect(github.requests.some((r) => r.authorization === 'token ghp_test')).toBe(false);
  });

  it('comments with GITHUB_TOKEN when no App is configured', async () => {
    await startGithub([]);
    await deliver(webhook({ githubToken: 'ghp_test', githubApiUrl: github.url }), {
      event: 'issues',
      payload: labeled(),
    });
    expect(calls()).toEqual([`POST ${COMMENTS}`]);
    expect(comments()[0]?.authorization).toBe('token ghp_test');
    expect(github.minted).toHaveLength(0);
  });

  it('opens the pull request and posts the summary with the recorded installation, reusing its token', async () => {
    await deliver(webhook(appConfig()), { event: 'issues', payload: labeled() });
    await endRun({ pushedBranch: WORK_BRANCH, commits: ['0123456789abcdef0123'] });
    github.requests.length = 0;
    const scheduler = createSchedulerApp(deps, appConfig());
    expect((await scheduler.request('/', { method: 'POST' })).status).toBe(200);
    // A new instance (the scheduler) mints its own token for the installation the delivery named.
    expect(calls()).toEqual([`POST ${MINT}`, `POST ${PULLS}`, `POST ${COMMENTS}`]);
    expect(github.requests.map((r) => r.status)).toEqual([201, 201, 201]);
    const token = github.minted[1]?.token;
    expect(github.requests[1]?.authorization).toBe(`token ${token}`);
    expect(github.requests[2]?.authorization).toBe(`token ${token}`);
    expect((await env.db.collection(COLLECTIONS.githubFeedback).doc(RUN).get()).data()?.state).toBe('posted');
  });

  it('looks the installation up (once) for a run whose delivery named none, and caches the token', async () => {
    const reactor = createGithub(appConfig(), log)!;
    await deliver(webhook(appConfig()), { event: 'issues', payload: labeled(null) });
    expect(calls()).toEqual([`GET ${LOOKUP}`, `POST ${MINT}`, `POST ${COMMENTS}`]);
    github.requests.length = 0;
    // One client asked twice for the repository: one lookup, one token.
    await reactor.forRepo('Codertocat/Hello-World');
    await reactor.forRepo('codertocat/hello-world');
    const octokit = await reactor.forRepo('Codertocat/Hello-World');
    await octokit.rest.issues.createComment({
      owner: 'Codertocat',
      repo: 'Hello-World',
      issue_number: 1,
      body: 'x',
    });
    expect(calls()).toEqual([`GET ${LOOKUP}`, `POST ${MINT}`, `POST ${COMMENTS}`]);
  });

  it('posts the summary through the reactor with the installation token', async () => {
    await deliver(webhook(appConfig()), { event: 'issues', payload: labeled() });
    for (const to of ['starting', 'running'] as const) expect((await deps.moveRun(RUN, to)).ok).toBe(true);
    const moved = await deps.moveRun(RUN, 'succeeded', {
      patch: { finishedAt: NOW.toISOString(), result: 'Fixed it.' },
      reason: null,
    });
    if (!moved.ok) throw new Error(moved.why);
    github.requests.length = 0;
    const event = runStatusEventOf(moved.run, moved.event);
    const body = JSON.stringify({
      message: { data: Buffer.from(JSON.stringify(event)).toString('base64'), messageId: '1' },
      subscription: `projects/p/subscriptions/${PUBSUB.reactorSubscription}`,
    });
    const res = await createReactorApp(deps, appConfig()).request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(await res.json()).toMatchObject({ reactions: ['github-summary: posted'] });
    expect(calls()).toEqual([`POST ${MINT}`, `POST ${COMMENTS}`]);
    expect(comments()[0]?.authorization).toBe(`token ${github.minted.at(-1)?.token}`);
  });

  it('a token GitHub refuses just after minting it (replication) is tried once more', async () => {
    github.fail({ path: /\/issues\/1\/comments$/ }, 401, 1);
    await deliver(webhook(appConfig()), { event: 'issues', payload: labeled() });
    expect(calls()).toEqual([`POST ${MINT}`, `POST ${COMMENTS}`, `POST ${COMMENTS}`]);
    expect(comments()[1]?.authorization).toBe(comments()[0]?.authorization);
    expect(log.entries.some((e) => e.severity === 'ERROR')).toBe(false);
    // Refused again: given up after that one retry, and logged.
    expect(comments().map((r) => r.status)).toEqual([401, 201]);
    github.fail({ path: /\/issues\/1\/comments$/ }, 401);
    github.requests.length = 0;
    const github2 = createGithub(appConfig(), log)!;
    const octokit = await github2.forRepo('Codertocat/Hello-World', { installationId: INSTALLATION });
    await expect(
      octokit.rest.issues.createComment({
        owner: 'Codertocat',
        repo: 'Hello-World',
        issue_number: 1,
        body: 'x',
      }),
    ).rejects.toMatchObject({ status: 401 });
    expect(comments()).toHaveLength(2);
  });

  it('a stale installation id from a delivery falls back to the lookup', async () => {
    await deliver(webhook(appConfig()), { event: 'issues', payload: labeled(4242) });
    expect(calls()).toEqual([
      'POST /app/installations/4242/access_tokens',
      `GET ${LOOKUP}`,
      `POST ${MINT}`,
      `POST ${COMMENTS}`,
    ]);
    expect(github.requests[0]?.body).toMatchObject({ repositories: ['Hello-World'] });
    expect(comments()[0]?.authorization).toMatch(/^token ghs_/);
  });

  it('a repository the App is not installed on is logged clearly; the webhook and the run go on', async () => {
    await startGithub([]);
    const res = await deliver(webhook(appConfig()), { event: 'issues', payload: labeled(null) });
    expect(res.status).toBe(202);
    expect(comments()).toHaveLength(0);
    expect((await env.cols.runs.doc(RUN).get()).data()?.status).toBe('queued');
    const error = log.entries.find((e) => e.severity === 'ERROR');
    expect(error?.message).toContain('could not comment');
    expect(JSON.stringify(error)).toContain('the GitHub App is not installed on Codertocat/Hello-World');
  });

  it('a key that is not a key is logged once, names the variable, never fails the webhook, and is never shown', async () => {
    const bad = '-----BEGIN RSA PRIVATE KEY-----\nnot-a-key-c2VjcmV0\n-----END RSA PRIVATE KEY-----';
    const res = await deliver(webhook(appConfig({ githubAppPrivateKey: bad })), {
      event: 'issues',
      payload: labeled(),
    });
    expect(res.status).toBe(202);
    expect((await env.cols.runs.doc(RUN).get()).data()?.status).toBe('queued');
    expect(github.requests).toHaveLength(0);
    const errors = log.entries.filter((e) => e.severity === 'ERROR');
    expect(errors[0]?.message).toContain('GitHub App misconfigured');
    expect(JSON.stringify(errors[0])).toContain('GITHUB_APP_PRIVATE_KEY is not a PEM private key');
    expect(JSON.stringify(errors.slice(1))).toContain('GitHub App misconfigured');
    expect(JSON.stringify(log.entries)).not.toContain('not-a-key-c2VjcmV0');

    // The summary is owed, tried, and given up after its attempts: the run itself is untouched.
    await endRun();
    const scheduler = createSchedulerApp(deps, appConfig({ githubAppPrivateKey: bad }));
    for (let i = 0; i < 3; i++) expect((await scheduler.request('/', { method: 'POST' })).status).toBe(200);
    const owed = (await env.db.collection(COLLECTIONS.githubFeedback).doc(RUN).get()).data();
    expect(owed).toMatchObject({ state: 'failed' });
    expect(owed?.error).toContain('GITHUB_APP_PRIVATE_KEY');
    expect((await env.cols.runs.doc(RUN).get()).data()?.status).toBe('succeeded');
  });

  it('a key of another App (GitHub refuses the JWT) is logged with what to check', async () => {
    const { privateKey: other } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const res = await deliver(webhook(appConfig({ githubAppPrivateKey: other })), {
      event: 'issues',
      payload: labeled(),
    });
    expect(res.status).toBe(202);
    expect(calls()).toEqual([`POST ${MINT}`]);
    expect(comments()).toHaveLength(0);
    const error = JSON.stringify(log.entries.filter((e) => e.severity === 'ERROR'));
    expect(error).toContain('check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY');
    expect(error).toContain('"status":401');
  });

  it('a token is refused for permissions the installation did not grant (the stand-in checks what is asked)', async () => {
    await startGithub([{ ...installation, permissions: { issues: 'write', metadata: 'read' } }]);
    await deliver(webhook(appConfig()), { event: 'issues', payload: labeled() });
    expect(calls()).toEqual([`POST ${MINT}`]);
    expect(JSON.stringify(log.entries)).toContain('pull_requests');
  });
});

it('githubAppProblem names what is wrong with the App configuration, never the key', () => {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const { privateKey: ec } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  expect(githubAppProblem({})).toBeNull();
  expect(githubAppProblem({ githubAppId: '123', githubAppPrivateKey: privateKey })).toBeNull();
  // Line breaks written as \n, as a key in one environment variable often is.
  expect(
    githubAppProblem({ githubAppId: '123', githubAppPrivateKey: privateKey.replace(/\n/g, '\\n') }),
  ).toBeNull();
  expect(githubAppProblem({ githubAppId: 'Iv23liAbCdEf', githubAppPrivateKey: privateKey })).toBeNull();
  expect(githubAppProblem({ githubAppId: '123' })).toBe(
    'GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY is not',
  );
  expect(githubAppProblem({ githubAppPrivateKey: privateKey })).toBe(
    'GITHUB_APP_PRIVATE_KEY is set but GITHUB_APP_ID is not',
  );
  expect(githubAppProblem({ githubAppId: 'my app', githubAppPrivateKey: privateKey })).toContain(
    'GITHUB_APP_ID must be',
  );
  expect(githubAppProblem({ githubAppId: '123', githubAppPrivateKey: ec })).toContain('a ec key');
  const garbled = githubAppProblem({ githubAppId: '123', githubAppPrivateKey: 'hunter2-secret' });
  expect(garbled).toContain('GITHUB_APP_PRIVATE_KEY is not a PEM private key');
  expect(garbled).not.toContain('hunter2');
  expect(createGithub({}, memoryLogger())).toBeNull();
});
