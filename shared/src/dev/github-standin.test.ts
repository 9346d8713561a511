// The GitHub stand-in answers as GitHub does: tokens limited to their repository and permissions, pull requests checked against the branches, comments paged.
import { sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubStandin, makeAppKey, startGitHubStandin } from './github-standin.js';

const { privateKeyPem, publicKey } = makeAppKey();

/** An App JWT as auth-app makes it (RS256, iss, iat a minute back, 10 minutes long). */
function jwt(appId: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: now - 60, exp: now + 540, iss: appId })}`;
  return `${body}.${sign('sha256', Buffer.from(body), privateKeyPem).toString('base64url')}`;
}

describe('the GitHub stand-in', () => {
  let standin: GitHubStandin;
  const branches: Record<string, string> = {
    main: 'a'.repeat(40),
    feature: 'b'.repeat(40),
    same: 'a'.repeat(40),
  };
  const call = async (method: string, path: string, auth: string | null, body?: unknown) => {
    const res = await fetch(`${standin.url}${path}`, {
      method,
      redirect: 'manual',
      headers: { ...(auth ? { authorization: auth } : {}), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {}
    return {
      status: res.status,
      json: json as Record<string, unknown>,
      location: res.headers.get('location'),
    };
  };
  const mint = async (permissions: Record<string, string>, repositories = ['blog']) => {
    const res = await call('POST', '/app/installations/7/access_tokens', `bearer ${jwt('5')}`, {
      repositories,
      permissions,
    });
    expect(res.status).toBe(201);
    return `token ${res.json.token}`;
  };

  beforeAll(async () => {
    standin = await startGitHubStandin({
      appId: '5',
      publicKey,
      installations: [
        {
          id: 7,
          owner: 'acme',
          repos: ['blog', 'other'],
          permissions: { contents: 'write', issues: 'write', pull_requests: 'write', checks: 'read' },
        },
      ],
      users: [{ login: 'octocat', token: 'ghp_owner', association: 'OWNER' }],
      resolveBranch: async (_repo, branch) => branches[branch] ?? null,
    });
  });
  afterAll(async () => {
    await standin.close();
  });

  it('limits an installation token to its repository and permissions, and refuses unknown credentials', async () => {
    const token = await mint({ issues: 'write', pull_requests: 'write' });
    const issue = await call('POST', '/repos/acme/blog/issues', 'token ghp_owner', { title: 'Typo' });
    expect(issue.status).toBe(201);
    expect(issue.json).toMatchObject({ number: 1, user: { login: 'octocat' }, author_association: 'OWNER' });
    const posted = await call('POST', '/repos/acme/blog/issues/1/comments', token, { body: 'queued' });
    expect(posted.status).toBe(201);
    expect(posted.json).toMatchObject({
      body: 'queued',
      user: { login: 'nightshift-local[bot]', type: 'Bot' },
    });
    expect(standin.repos.comments.map((c) => [c.number, c.body])).toEqual([[1, 'queued']]);
    expect((await call('GET', '/repos/acme/other/issues/1/comments', token)).status).toBe(404);
    expect((await call('GET', '/repos/acme/blog/commits/abc/check-runs', token)).json).toMatchObject({
      message: 'Resource not accessible by integration',
    });
    expect((await call('POST', '/repos/acme/blog/issues/9/comments', token, { body: 'x' })).status).toBe(404);
    expect((await call('GET', '/repos/acme/blog/issues/1/comments', 'token ghs_forged')).status).toBe(401);
    expect((await call('GET', '/repos/acme/blog/issues/1/comments', null)).status).toBe(404);
    // More than the installation granted is refused when minting, as GitHub refuses it.
    const greedy = await call('POST', '/app/installations/7/access_tokens', `Bearer ${jwt('5')}`, {
      permissions: { actions: 'read' },
    });
    expect(greedy.status).toBe(422);
    expect((await call('POST', '/app/installations/7/access_tokens', `Bearer ${jwt('6')}`, {})).status).toBe(
      401,
    );
  });

  it('opens a pull request only between existing, different branches, once per head, and finds it by head', async () => {
    const token = await mint({ pull_requests: 'write' });
    const open = (head: string) =>
      call('POST', '/repos/acme/blog/pulls', token, { head, base: 'main', title: 't', body: 'b' });
    expect((await open('missing')).json).toMatchObject({ errors: [{ field: 'head', code: 'invalid' }] });
    expect((await open('same')).json).toMatchObject({
      errors: [{ message: 'No commits between main and same' }],
    });
    const made = await open('feature');
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({
      number: 2,
      state: 'open',
      head: { ref: 'feature', sha: 'b'.repeat(40), repo: { full_name: 'acme/blog' } },
      base: { ref: 'main' },
    });
    const again = await open('feature');
    expect(again.status).toBe(422);
    expect(again.json).toMatchObject({
      errors: [{ message: 'A pull request already exists for acme:feature.' }],
    });
    const listed = await call('GET', '/repos/acme/blog/pulls?head=acme:feature&state=all&per_page=1', token);
    expect((listed.json as unknown as Array<{ number: number }>).map((p) => p.number)).toEqual([2]);
    const none = await call('GET', '/repos/acme/blog/pulls?head=acme:missing&state=all', token);
    expect(none.json).toEqual([]);
    // A pull request is an issue too (its comments go through the issues API), which a token with
    // pull_requests alone may read, as on GitHub; one with neither may not.
    expect((await call('GET', '/repos/acme/blog/issues/2', token)).json).toMatchObject({
      pull_request: { url: `${standin.url}/repos/acme/blog/pulls/2` },
    });
    const checksOnly = await mint({ checks: 'read' });
    expect((await call('GET', '/repos/acme/blog/issues/2', checksOnly)).status).toBe(403);
  });

  it("serves a job's steps and redirects to its plain-text log, and pages comments", async () => {
    const job = standin.repos.addCheckRun({
      repo: 'acme/blog',
      headSha: 'b'.repeat(40),
      name: 'test',
      status: 'completed',
      conclusion: 'failure',
      appSlug: 'github-actions',
      steps: [{ name: 'npm test', conclusion: 'failure' }],
      log: 'FAIL here\n',
    });
    const checks = await call(
      'GET',
      `/repos/acme/blog/commits/${'b'.repeat(40)}/check-runs`,
      'token ghp_owner',
    );
    expect(checks.json).toMatchObject({
      total_count: 1,
      check_runs: [{ id: job.id, name: 'test', conclusion: 'failure', app: { slug: 'github-actions' } }],
    });
    const steps = await call('GET', `/repos/acme/blog/actions/jobs/${job.id}`, 'token ghp_owner');
    expect(steps.json).toMatchObject({ steps: [{ name: 'npm test', conclusion: 'failure' }] });
    const logs = await call('GET', `/repos/acme/blog/actions/jobs/${job.id}/logs`, 'token ghp_owner');
    expect(logs.status).toBe(302);
    expect((await call('GET', new URL(logs.location as string).pathname, null)).json).toBe('FAIL here\n');
    for (const n of [1, 2, 3])
      await call('POST', '/repos/acme/blog/issues/2/comments', 'token ghp_owner', { body: `c${n}` });
    const page = await call('GET', '/repos/acme/blog/issues/2/comments?per_page=2&page=2', 'token ghp_owner');
    expect((page.json as unknown as Array<{ body: string }>).map((c) => c.body)).toEqual(['c3']);
  });

  it("fails the requests a test names with GitHub's server error, records them with their credential, and recovers", async () => {
    standin.fail({ method: 'POST', path: /\/comments$/ }, 500, 1);
    const failed = await call('POST', '/repos/acme/blog/issues/1/comments', 'token ghp_owner', { body: 'x' });
    expect(failed).toMatchObject({ status: 500, json: { message: 'Server Error' } });
    const posted = await call('POST', '/repos/acme/blog/issues/1/comments?a=1', 'token ghp_owner', {
      body: 'y',
    });
    expect(posted.status).toBe(201);
    expect(standin.requests.slice(-2)).toMatchObject([
      { method: 'POST', status: 500, authorization: 'token ghp_owner', body: { body: 'x' } },
      { path: '/repos/acme/blog/issues/1/comments', search: '?a=1', status: 201 },
    ]);
    standin.fail({ path: /^\/repos\/acme\/blog$/ }, 503);
    expect((await call('GET', '/repos/acme/blog', 'token ghp_owner')).json).toEqual({
      message: 'Service Unavailable',
    });
    expect((await call('GET', '/repos/acme/blog', 'token ghp_owner')).status).toBe(503);
    standin.recover();
    expect((await call('GET', '/repos/acme/blog', 'token ghp_owner')).status).toBe(200);
  });

  it('keeps the verified JWT claims of each token, reads repository names regardless of case, and records a refused mint', async () => {
    const before = standin.minted.length;
    const token = await mint({ issues: 'read' }, ['Blog']);
    expect(standin.minted.slice(before)).toMatchObject([{ repos: ['Blog'], claims: { iss: '5' } }]);
    const [made] = standin.minted.slice(before);
    expect((made?.claims.exp ?? 0) - (made?.claims.iat ?? 0)).toBe(600);
    expect((await call('GET', '/repos/ACME/blog/issues/1', token)).status).toBe(200);
    expect((await call('GET', '/repos/acme/blog/installation', `Bearer ${jwt('5')}`)).json).toMatchObject({
      id: 7,
    });
    expect((await call('GET', '/repos/acme/Other/installation', `Bearer ${jwt('5')}`)).status).toBe(200);
    // An installation that is gone: 404, and what was asked is still recorded.
    const gone = await call('POST', '/app/installations/8/access_tokens', `Bearer ${jwt('5')}`, {
      repositories: ['blog'],
    });
    expect(gone.status).toBe(404);
    expect(standin.requests.at(-1)).toMatchObject({ status: 404, body: { repositories: ['blog'] } });
    // A 401 set up for a token just minted carries GitHub's message.
    standin.fail({ path: /\/issues\/1$/ }, 401, 1);
    expect((await call('GET', '/repos/acme/blog/issues/1', token)).json).toEqual({
      message: 'Bad credentials',
    });
    expect((await call('GET', '/repos/acme/blog/issues/1', token)).status).toBe(200);
  });

  it("lists a review's comments, an outdated one with no line but the line it was made on", async () => {
    standin.repos.addReviewComments('acme/blog', 2, 55, [
      { path: 'README.md', line: 3, login: 'octocat', body: 'now' },
      { path: 'src/a.ts', line: null, originalLine: 7, login: 'octocat', body: 'outdated' },
    ]);
    const listed = await call('GET', '/repos/acme/blog/pulls/2/reviews/55/comments', 'token ghp_owner');
    expect(listed.json).toMatchObject([
      { path: 'README.md', line: 3, original_line: 3, pull_request_review_id: 55, body: 'now' },
      { path: 'src/a.ts', line: null, original_line: 7, body: 'outdated' },
    ]);
    expect(
      (await call('GET', '/repos/acme/blog/pulls/2/reviews/56/comments', 'token ghp_owner')).json,
    ).toEqual([]);
  });
});
