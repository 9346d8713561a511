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
      link: res.headers.get('link'),
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

  it('check runs: filter=latest (the default) keeps the newest run of each name in each suite; filter=all keeps re-runs; both paged', async () => {
    const sha = 'c'.repeat(40);
    const add = (name: string, conclusion: string | null, checkSuiteId?: number) =>
      standin.repos.addCheckRun({
        repo: 'acme/blog',
        headSha: sha,
        name,
        status: conclusion === null ? 'in_progress' : 'completed',
        conclusion,
        appSlug: 'github-actions',
        steps: [],
        log: '',
        ...(checkSuiteId === undefined ? {} : { checkSuiteId }),
      });
    const failed = add('test', 'failure');
    const lint = add('lint', 'success');
    // "Re-run failed jobs": a new run of the same name in the same suite.
    const rerun = add('test', 'success');
    expect(rerun.checkSuiteId).toBe(failed.checkSuiteId);
    // A second workflow run on the commit: a suite of its own, whose old run stays listed.
    const other = add('test', 'failure', 4242);
    const list = async (query: string) => {
      const res = await call('GET', `/repos/acme/blog/commits/${sha}/check-runs${query}`, 'token ghp_owner');
      expect(res.status).toBe(200);
      const body = res.json as { total_count: number; check_runs: Array<{ id: number }> };
      return { total: body.total_count, ids: body.check_runs.map((r) => r.id), link: res.link };
    };
    expect(await list('')).toEqual({ total: 3, ids: [lint.id, rerun.id, other.id], link: null });
    expect(await list('?filter=latest')).toMatchObject({ ids: [lint.id, rerun.id, other.id] });
    expect(await list('?filter=all')).toMatchObject({
      total: 4,
      ids: [failed.id, lint.id, rerun.id, other.id],
    });
    const first = await list('?filter=all&per_page=3');
    expect(first).toMatchObject({ total: 4, ids: [failed.id, lint.id, rerun.id] });
    expect(first.link).toBe(
      `<${standin.url}/repos/acme/blog/commits/${sha}/check-runs?filter=all&per_page=3&page=2>; rel="next", ` +
        `<${standin.url}/repos/acme/blog/commits/${sha}/check-runs?filter=all&per_page=3&page=2>; rel="last"`,
    );
    expect(await list('?filter=all&per_page=3&page=2')).toMatchObject({ total: 4, ids: [other.id] });
    const rerunning = add('lint', null);
    expect((await list('')).ids).toEqual([rerun.id, other.id, rerunning.id]);
    expect(
      (await call('GET', `/repos/acme/blog/commits/${sha}/check-runs?filter=newest`, 'token ghp_owner'))
        .status,
    ).toBe(422);
  });

  it("makes a review as POST …/pulls/{n}/reviews does, and pages its comments and the pull request's (30 by default, at most 100) with a Link header", async () => {
    const reviews = (body: unknown) =>
      call('POST', '/repos/acme/blog/pulls/2/reviews', 'token ghp_owner', body);
    expect((await reviews({ event: 'REQUEST_CHANGES', body: '' })).status).toBe(422);
    expect((await reviews({ event: 'MERGE', body: 'x' })).status).toBe(422);
    expect(
      (await reviews({ event: 'COMMENT', body: 'x', comments: [{ path: 'README.md', body: 'no line' }] }))
        .status,
    ).toBe(422);
    const comments = Array.from({ length: 105 }, (_, i) => ({
      path: 'README.md',
      line: i + 1,
      body: `n${i}`,
    }));
    const made = await reviews({ event: 'REQUEST_CHANGES', body: 'Please fix these.', comments });
    expect(made.status).toBe(200);
    const id = made.json.id as number;
    expect(made.json).toMatchObject({
      state: 'CHANGES_REQUESTED',
      body: 'Please fix these.',
      user: { login: 'octocat' },
      author_association: 'OWNER',
      commit_id: 'b'.repeat(40),
      pull_request_url: `${standin.url}/repos/acme/blog/pulls/2`,
    });
    expect((await call('GET', `/repos/acme/blog/pulls/2/reviews/${id}`, 'token ghp_owner')).json).toEqual(
      made.json,
    );
    const page = async (query: string) => {
      const res = await call(
        'GET',
        `/repos/acme/blog/pulls/2/reviews/${id}/comments${query}`,
        'token ghp_owner',
      );
      return { bodies: (res.json as unknown as Array<{ body: string }>).map((c) => c.body), link: res.link };
    };
    const base = `${standin.url}/repos/acme/blog/pulls/2/reviews/${id}/comments`;
    const byDefault = await page('');
    expect(byDefault.bodies).toEqual(comments.slice(0, 30).map((c) => c.body));
    expect(byDefault.link).toBe(`<${base}?page=2>; rel="next", <${base}?page=4>; rel="last"`);
    const third = await page('?page=3');
    expect(third.bodies).toEqual(comments.slice(60, 90).map((c) => c.body));
    expect(third.link).toBe(
      `<${base}?page=2>; rel="prev", <${base}?page=4>; rel="next", <${base}?page=4>; rel="last", <${base}?page=1>; rel="first"`,
    );
    const most = await page('?per_page=500');
    expect(most.bodies).toHaveLength(100);
    expect(most.link).toBe(
      `<${base}?per_page=500&page=2>; rel="next", <${base}?per_page=500&page=2>; rel="last"`,
    );
    const rest = await page('?per_page=100&page=2');
    expect(rest.bodies).toEqual(['n100', 'n101', 'n102', 'n103', 'n104']);
    expect(rest.link).toBe(
      `<${base}?per_page=100&page=1>; rel="prev", <${base}?per_page=100&page=1>; rel="first"`,
    );
    // A comment in GitHub's review-comment shape, on the line it was made on.
    const [one] = (await call('GET', `${new URL(base).pathname}?per_page=1`, 'token ghp_owner'))
      .json as unknown as Array<Record<string, unknown>>;
    expect(one).toMatchObject({
      pull_request_review_id: id,
      path: 'README.md',
      line: 1,
      original_line: 1,
      side: 'RIGHT',
      commit_id: 'b'.repeat(40),
      author_association: 'OWNER',
      user: { login: 'octocat' },
    });
    // The pull request's list has every review's comments (the earlier review 55's two first).
    const all = await call('GET', '/repos/acme/blog/pulls/2/comments?per_page=100', 'token ghp_owner');
    expect((all.json as unknown as Array<{ body: string }>).slice(0, 3).map((c) => c.body)).toEqual([
      'now',
      'outdated',
      'n0',
    ]);
    expect(all.link).toContain('rel="next"');
  });
});
