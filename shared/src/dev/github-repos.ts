// The repository half of the GitHub stand-in: issues, comments, pull requests, reviews, checks and Actions jobs, kept in memory and answered in GitHub's REST wire format.

/** A person of the stand-in: a personal access token and how they are associated with every repository. */
export interface StandinUser {
  login: string;
  /** Sent as `Authorization: token <it>` (a PAT); full access to the repositories, as the owner's own token. */
  token: string;
  /** What GitHub reports as `author_association` for them (OWNER, MEMBER, COLLABORATOR, NONE, …). */
  association: string;
}

export interface StandinComment {
  id: number;
  repo: string;
  /** The issue or pull request it is on. */
  number: number;
  body: string;
  login: string;
  association: string;
  createdAt: string;
}

export interface StandinIssue {
  repo: string;
  number: number;
  title: string;
  body: string;
  login: string;
  association: string;
  labels: string[];
  /** Set when the number is a pull request (issues and pull requests share one numbering per repository). */
  pull?: { head: string; base: string; state: 'open' | 'closed' };
}

export interface StandinReviewComment {
  id: number;
  reviewId: number;
  repo: string;
  /** The pull request it is on. */
  number: number;
  path: string;
  /** Null once the diff moved on and the comment is outdated; `originalLine` then still says where it was. */
  line: number | null;
  /** The line in the diff it was made on (GitHub's `original_line`); default `line`. */
  originalLine?: number | null;
  body: string;
  login: string;
  /** The reviewer's `author_association`; default NONE. */
  association?: string;
  /** The commit it was made on; default forty zeros. */
  commitId?: string;
}

/** A pull request review as `POST /repos/{o}/{r}/pulls/{n}/reviews` made it (REST states, upper case). */
export interface StandinReview {
  id: number;
  repo: string;
  number: number;
  login: string;
  association: string;
  body: string;
  state: 'PENDING' | 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED';
  commitId: string;
  submittedAt: string | null;
}

export interface StandinCheckRun {
  id: number;
  repo: string;
  headSha: string;
  /**
   * The check suite it belongs to. `filter=latest` keeps the newest run of each name within a suite (a
   * re-run job is a new run in the same suite); a second workflow run on the commit is a suite of its own.
   */
  checkSuiteId: number;
  /** When it was made (its `started_at`; a completed one's `completed_at` too). */
  startedAt: string;
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  /** `github-actions` makes it an Actions job whose steps and log are read with the same id. */
  appSlug: string;
  title?: string;
  summary?: string;
  steps: Array<{ name: string; conclusion: string | null }>;
  log: string;
}

/**
 * What a route needs of the caller: a permission of an installation token (a PAT may do everything), one
 * of several where GitHub takes either (the issues API on a pull request: issues or pull_requests).
 */
export interface Need {
  repo: string;
  permission: string[];
  level: 'read' | 'write';
}

/** One request as the repository routes see it. */
export interface RepoRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** Who is calling: a person (PAT), the App's installation (its bot login), or nobody. */
  actor: { login: string; association: string } | null;
}

export type RepoAnswer = {
  status: number;
  json?: unknown;
  text?: string;
  location?: string;
  headers?: Record<string, string>;
};

export interface RepoRoute {
  need: Need;
  run: (request: RepoRequest) => Promise<RepoAnswer> | RepoAnswer;
}

export interface RepoStoreOptions {
  /** The stand-in's own URL, for the `url` and `html_url` fields. */
  baseUrl: () => string;
  /** The commit a branch of a repository points at, or null: pull requests are checked against it. */
  resolveBranch?: (repo: string, branch: string) => Promise<string | null>;
}

const at = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

const notFound: RepoAnswer = {
  status: 404,
  json: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
};

/** GitHub's 422 whose errors are plain sentences (as the reviews API answers). */
function unprocessable(error: string): RepoAnswer {
  return {
    status: 422,
    json: {
      message: 'Unprocessable Entity',
      errors: [error],
      documentation_url: 'https://docs.github.com/rest',
    },
  };
}

function validationFailed(errors: Array<Record<string, unknown>>, message = 'Validation Failed'): RepoAnswer {
  return {
    status: 422,
    json: { message, errors, documentation_url: 'https://docs.github.com/rest' },
  };
}

/** GitHub's paging: `per_page` (default 30, at most 100) and `page` (from 1). */
function pageOf(query: URLSearchParams): { page: number; perPage: number } {
  const perPage = Number.parseInt(query.get('per_page') ?? '', 10);
  const page = Number.parseInt(query.get('page') ?? '', 10);
  return {
    perPage: Number.isNaN(perPage) || perPage < 1 ? 30 : Math.min(100, perPage),
    page: Number.isNaN(page) || page < 1 ? 1 : page,
  };
}

/**
 * One page of `all`, with GitHub's `Link` header (`rel="prev"`, `"next"`, `"first"`, `"last"`, each the
 * request's URL with its `page` set); no header when everything fits on one page.
 */
function pagedAt<T>(
  all: T[],
  request: { url: string; query: URLSearchParams },
): { items: T[]; headers: Record<string, string> } {
  const { page, perPage } = pageOf(request.query);
  const items = all.slice((page - 1) * perPage, page * perPage);
  const last = Math.max(1, Math.ceil(all.length / perPage));
  if (last === 1 && page === 1) return { items, headers: {} };
  const link = (n: number, rel: string) => {
    const q = new URLSearchParams(request.query);
    q.set('page', String(n));
    return `<${request.url}?${q.toString()}>; rel="${rel}"`;
  };
  const rels: string[] = [];
  if (page > 1) rels.push(link(Math.min(page - 1, last), 'prev'));
  if (page < last) rels.push(link(page + 1, 'next'));
  if (page < last) rels.push(link(last, 'last'));
  if (page > 1) rels.push(link(1, 'first'));
  return { items, headers: { Link: rels.join(', ') } };
}

/** The repositories' state and the REST routes over it. */
export function createRepoStore(options: RepoStoreOptions) {
  const issues: StandinIssue[] = [];
  const comments: StandinComment[] = [];
  const reviewComments: StandinReviewComment[] = [];
  const reviews: StandinReview[] = [];
  const checkRuns: StandinCheckRun[] = [];
  let nextId = 1_000;
  const key = (repo: string) => repo.toLowerCase();

  const user = (login: string) => ({
    login,
    id: [...login].reduce((n, ch) => n * 31 + ch.charCodeAt(0), 7) % 1e8,
    node_id: `U_${login}`,
    avatar_url: '',
    url: `${options.baseUrl()}/users/${login}`,
    html_url: `${options.baseUrl()}/${login}`,
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
    site_admin: false,
  });
  const repository = (repo: string) => {
    const [owner = '', name = ''] = repo.split('/');
    return {
      id: [...repo].reduce((n, ch) => n * 31 + ch.charCodeAt(0), 11) % 1e8,
      node_id: `R_${repo}`,
      name,
      full_name: repo,
      private: true,
      owner: user(owner),
      html_url: `${options.baseUrl()}/${repo}`,
      url: `${options.baseUrl()}/repos/${repo}`,
      default_branch: 'main',
    };
  };
  const commentJson = (c: StandinComment) => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${options.baseUrl()}/repos/${c.repo}/issues/comments/${c.id}`,
    html_url: `${options.baseUrl()}/${c.repo}/issues/${c.number}#issuecomment-${c.id}`,
    issue_url: `${options.baseUrl()}/repos/${c.repo}/issues/${c.number}`,
    body: c.body,
    user: user(c.login),
    created_at: c.createdAt,
    updated_at: c.createdAt,
    author_association: c.association,
  });
  const resolve = async (repo: string, branch: string) =>
    options.resolveBranch ? options.resolveBranch(repo, branch) : `${'0'.repeat(39)}1`;
  const pullJson = async (issue: StandinIssue) => {
    const pull = issue.pull as NonNullable<StandinIssue['pull']>;
    const [owner = ''] = issue.repo.split('/');
    const side = async (ref: string) => ({
      label: `${owner}:${ref}`,
      ref,
      sha: (await resolve(issue.repo, ref)) ?? '0'.repeat(40),
      user: user(owner),
      repo: repository(issue.repo),
    });
    return {
      url: `${options.baseUrl()}/repos/${issue.repo}/pulls/${issue.number}`,
      id: issue.number + 500_000,
      node_id: `PR_${issue.number}`,
      html_url: `${options.baseUrl()}/${issue.repo}/pull/${issue.number}`,
      number: issue.number,
      state: pull.state,
      locked: false,
      title: issue.title,
      body: issue.body,
      user: user(issue.login),
      labels: issue.labels.map((name) => ({ name })),
      draft: false,
      merged: false,
      head: await side(pull.head),
      base: await side(pull.base),
      author_association: issue.association,
      created_at: at(),
      updated_at: at(),
    };
  };
  const issueOf = (repo: string, number: number) =>
    issues.find((i) => key(i.repo) === key(repo) && i.number === number);

  const paged = <T>(all: T[], request: RepoRequest) =>
    pagedAt(all, { url: `${options.baseUrl()}${request.path}`, query: request.query });

  const reviewJson = (r: StandinReview) => {
    const html = `${options.baseUrl()}/${r.repo}/pull/${r.number}#pullrequestreview-${r.id}`;
    const pull = `${options.baseUrl()}/repos/${r.repo}/pulls/${r.number}`;
    return {
      id: r.id,
      node_id: `PRR_${r.id}`,
      user: user(r.login),
      body: r.body,
      state: r.state,
      html_url: html,
      pull_request_url: pull,
      author_association: r.association,
      _links: { html: { href: html }, pull_request: { href: pull } },
      ...(r.submittedAt === null ? {} : { submitted_at: r.submittedAt }),
      commit_id: r.commitId,
    };
  };
  const reviewCommentJson = (c: StandinReviewComment) => {
    const self = `${options.baseUrl()}/repos/${c.repo}/pulls/comments/${c.id}`;
    const html = `${options.baseUrl()}/${c.repo}/pull/${c.number}#discussion_r${c.id}`;
    const pull = `${options.baseUrl()}/repos/${c.repo}/pulls/${c.number}`;
    const original = c.originalLine === undefined ? c.line : c.originalLine;
    const commit = c.commitId ?? '0'.repeat(40);
    return {
      url: self,
      pull_request_review_id: c.reviewId,
      id: c.id,
      node_id: `PRRC_${c.id}`,
      diff_hunk: `@@ -${original ?? 1} +${original ?? 1} @@`,
      path: c.path,
      // position is the line's place in the diff; null once outdated, as line is.
      position: c.line,
      original_position: original,
      commit_id: commit,
      original_commit_id: commit,
      user: user(c.login),
      body: c.body,
      created_at: at(),
      updated_at: at(),
      html_url: html,
      pull_request_url: pull,
      author_association: c.association ?? 'NONE',
      _links: { self: { href: self }, html: { href: html }, pull_request: { href: pull } },
      start_line: null,
      original_start_line: null,
      start_side: null,
      line: c.line,
      original_line: original,
      side: 'RIGHT',
      subject_type: 'line',
    };
  };

  /** A new issue or pull request number of the repository. */
  const nextNumber = (repo: string) =>
    1 + Math.max(0, ...issues.filter((i) => key(i.repo) === key(repo)).map((i) => i.number));

  function addIssue(
    repo: string,
    fields: { title: string; body?: string; login: string; association: string; labels?: string[] },
  ): StandinIssue {
    const issue: StandinIssue = {
      repo,
      number: nextNumber(repo),
      title: fields.title,
      body: fields.body ?? '',
      login: fields.login,
      association: fields.association,
      labels: fields.labels ?? [],
    };
    issues.push(issue);
    return issue;
  }

  function addComment(repo: string, number: number, body: string, login: string, association: string) {
    const comment: StandinComment = {
      id: nextId++,
      repo,
      number,
      body,
      login,
      association,
      createdAt: at(),
    };
    comments.push(comment);
    return comment;
  }

  /** `/repos/{owner}/{repo}/…` routes: the path after the repository, matched in order. */
  const routes: Array<{
    method: string;
    pattern: RegExp;
    permission: string[];
    level: 'read' | 'write';
    run: (repo: string, m: string[], request: RepoRequest) => Promise<RepoAnswer> | RepoAnswer;
  }> = [
    {
      method: 'GET',
      pattern: /^$/,
      permission: ['metadata'],
      level: 'read',
      run: (repo) => ({ status: 200, json: repository(repo) }),
    },
    {
      method: 'POST',
      pattern: /^\/issues$/,
      permission: ['issues'],
      level: 'write',
      run: (repo, _m, { body, actor }) => {
        if (typeof body.title !== 'string' || body.title === '')
          return validationFailed([{ resource: 'Issue', field: 'title', code: 'missing_field' }]);
        const issue = addIssue(repo, {
          title: body.title,
          body: typeof body.body === 'string' ? body.body : '',
          login: actor?.login ?? 'ghost',
          association: actor?.association ?? 'NONE',
          labels: Array.isArray(body.labels) ? body.labels.map(String) : [],
        });
        return { status: 201, json: issueJson(issue) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/issues\/(\d+)$/,
      permission: ['issues', 'pull_requests'],
      level: 'read',
      run: (repo, [, n]) => {
        const issue = issueOf(repo, Number(n));
        return issue ? { status: 200, json: issueJson(issue) } : notFound;
      },
    },
    {
      method: 'GET',
      pattern: /^\/issues\/(\d+)\/comments$/,
      permission: ['issues', 'pull_requests'],
      level: 'read',
      run: (repo, [, n], request) => {
        if (!issueOf(repo, Number(n))) return notFound;
        const all = comments.filter((c) => key(c.repo) === key(repo) && c.number === Number(n));
        const { items, headers } = paged(all, request);
        return { status: 200, json: items.map(commentJson), headers };
      },
    },
    {
      method: 'POST',
      pattern: /^\/issues\/(\d+)\/comments$/,
      permission: ['issues', 'pull_requests'],
      level: 'write',
      run: (repo, [, n], { body, actor }) => {
        if (!issueOf(repo, Number(n))) return notFound;
        if (typeof body.body !== 'string' || body.body === '')
          return validationFailed([{ resource: 'IssueComment', field: 'body', code: 'missing_field' }]);
        const comment = addComment(
          repo,
          Number(n),
          body.body,
          actor?.login ?? 'ghost',
          actor?.association ?? 'NONE',
        );
        return { status: 201, json: commentJson(comment) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/pulls$/,
      permission: ['pull_requests'],
      level: 'write',
      run: async (repo, _m, { body, actor }) => {
        const { head, base, title } = body as { head?: unknown; base?: unknown; title?: unknown };
        if (typeof head !== 'string' || typeof base !== 'string' || typeof title !== 'string')
          return validationFailed([{ resource: 'PullRequest', code: 'missing_field', field: 'head' }]);
        const headRef = head.includes(':') ? head.slice(head.indexOf(':') + 1) : head;
        const [headSha, baseSha] = await Promise.all([resolve(repo, headRef), resolve(repo, base)]);
        if (headSha === null)
          return validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
        if (baseSha === null)
          return validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
        const open = issues.find(
          (i) => key(i.repo) === key(repo) && i.pull?.head === headRef && i.pull.state === 'open',
        );
        if (open)
          return validationFailed([
            {
              resource: 'PullRequest',
              code: 'custom',
              message: `A pull request already exists for ${repo.split('/')[0]}:${headRef}.`,
            },
          ]);
        if (headSha === baseSha)
          return validationFailed([
            { resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${headRef}` },
          ]);
        const issue = addIssue(repo, {
          title,
          body: typeof body.body === 'string' ? body.body : '',
          login: actor?.login ?? 'ghost',
          association: actor?.association ?? 'NONE',
        });
        issue.pull = { head: headRef, base, state: 'open' };
        return { status: 201, json: await pullJson(issue) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/pulls$/,
      permission: ['pull_requests'],
      level: 'read',
      run: async (repo, _m, { query }) => {
        const state = query.get('state') ?? 'open';
        const head = query.get('head');
        const perPage = Math.min(100, Number(query.get('per_page') ?? 30));
        const found = issues
          .filter((i) => key(i.repo) === key(repo) && i.pull !== undefined)
          .filter((i) => state === 'all' || i.pull?.state === state)
          .filter((i) => head === null || `${repo.split('/')[0]}:${i.pull?.head}` === head)
          .reverse()
          .slice(0, perPage);
        return { status: 200, json: await Promise.all(found.map(pullJson)) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/pulls\/(\d+)$/,
      permission: ['pull_requests'],
      level: 'read',
      run: async (repo, [, n]) => {
        const issue = issueOf(repo, Number(n));
        return issue?.pull ? { status: 200, json: await pullJson(issue) } : notFound;
      },
    },
    {
      method: 'POST',
      pattern: /^\/pulls\/(\d+)\/reviews$/,
      permission: ['pull_requests'],
      level: 'write',
      run: async (repo, [, n], { body, actor }) => {
        const issue = issueOf(repo, Number(n));
        if (!issue?.pull) return notFound;
        const login = actor?.login ?? 'ghost';
        const event = body.event;
        const state = (
          { APPROVE: 'APPROVED', REQUEST_CHANGES: 'CHANGES_REQUESTED', COMMENT: 'COMMENTED' } as const
        )[String(event) as 'APPROVE'];
        if (event !== undefined && state === undefined)
          return validationFailed([{ resource: 'PullRequestReview', field: 'event', code: 'invalid' }]);
        const text = typeof body.body === 'string' ? body.body : '';
        // The REST docs: body is required for REQUEST_CHANGES and COMMENT (these messages are the stand-in's).
        if ((event === 'REQUEST_CHANGES' || event === 'COMMENT') && text === '')
          return unprocessable(`Body is required when the event is ${event}`);
        if (event === 'REQUEST_CHANGES' && login === issue.login)
          return unprocessable('Review Can not request changes on your own pull request');
        const asked = Array.isArray(body.comments) ? (body.comments as Array<Record<string, unknown>>) : [];
        for (const c of asked) {
          if (typeof c.path !== 'string' || typeof c.body !== 'string')
            return validationFailed([{ resource: 'PullRequestReviewComment', code: 'missing_field' }]);
          if (typeof c.line !== 'number' && typeof c.position !== 'number')
            return unprocessable('Review comments need a line or a position');
        }
        const commitId =
          typeof body.commit_id === 'string'
            ? body.commit_id
            : ((await resolve(repo, issue.pull.head)) ?? '0'.repeat(40));
        const review: StandinReview = {
          id: nextId++,
          repo,
          number: issue.number,
          login,
          association: actor?.association ?? 'NONE',
          body: text,
          state: state ?? 'PENDING',
          commitId,
          submittedAt: state === undefined ? null : at(),
        };
        reviews.push(review);
        for (const c of asked) {
          const line = typeof c.line === 'number' ? c.line : (c.position as number);
          reviewComments.push({
            id: nextId++,
            reviewId: review.id,
            repo,
            number: issue.number,
            path: c.path as string,
            line,
            originalLine: line,
            body: c.body as string,
            login,
            association: review.association,
            commitId,
          });
        }
        return { status: 200, json: reviewJson(review) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/pulls\/(\d+)\/reviews\/(\d+)$/,
      permission: ['pull_requests'],
      level: 'read',
      run: (repo, [, n, id]) => {
        const review = reviews.find(
          (r) => key(r.repo) === key(repo) && r.number === Number(n) && r.id === Number(id),
        );
        return review ? { status: 200, json: reviewJson(review) } : notFound;
      },
    },
    {
      // A review's comments, oldest first, paged.
      method: 'GET',
      pattern: /^\/pulls\/(\d+)\/reviews\/(\d+)\/comments$/,
      permission: ['pull_requests'],
      level: 'read',
      run: (repo, [, n, review], request) => {
        if (!issueOf(repo, Number(n))?.pull) return notFound;
        const list = reviewComments.filter(
          (c) => key(c.repo) === key(repo) && c.number === Number(n) && c.reviewId === Number(review),
        );
        const { items, headers } = paged(list, request);
        return { status: 200, json: items.map(reviewCommentJson), headers };
      },
    },
    {
      // Every review comment of a pull request, oldest first (GitHub's default sort), paged.
      method: 'GET',
      pattern: /^\/pulls\/(\d+)\/comments$/,
      permission: ['pull_requests'],
      level: 'read',
      run: (repo, [, n], request) => {
        if (!issueOf(repo, Number(n))?.pull) return notFound;
        const list = reviewComments.filter((c) => key(c.repo) === key(repo) && c.number === Number(n));
        const { items, headers } = paged(list, request);
        return { status: 200, json: items.map(reviewCommentJson), headers };
      },
    },
    {
      method: 'GET',
      pattern: /^\/commits\/([^/]+)\/check-runs$/,
      permission: ['checks'],
      level: 'read',
      run: (repo, [, ref], request) => {
        const filter = request.query.get('filter') ?? 'latest';
        if (filter !== 'latest' && filter !== 'all')
          return validationFailed([{ resource: 'CheckRun', field: 'filter', code: 'invalid' }]);
        const onCommit = checkRuns.filter((r) => key(r.repo) === key(repo) && r.headSha === ref);
        // latest: the newest run of each name in each check suite; all: every run, re-runs too.
        const runs =
          filter === 'all'
            ? onCommit
            : onCommit.filter(
                (r) =>
                  !onCommit.some(
                    (o) => o.checkSuiteId === r.checkSuiteId && o.name === r.name && o.id > r.id,
                  ),
              );
        const { items, headers } = paged(runs, request);
        return {
          status: 200,
          json: {
            total_count: runs.length,
            check_runs: items.map((r) => ({
              id: r.id,
              node_id: `CR_${r.id}`,
              head_sha: r.headSha,
              external_id: '',
              name: r.name,
              status: r.status,
              conclusion: r.conclusion,
              started_at: r.startedAt,
              completed_at: r.status === 'completed' ? r.startedAt : null,
              output: { title: r.title ?? null, summary: r.summary ?? null, text: null },
              check_suite: { id: r.checkSuiteId },
              app: { id: 15368, slug: r.appSlug, name: r.appSlug },
              html_url: `${options.baseUrl()}/${repo}/runs/${r.id}`,
              details_url: `${options.baseUrl()}/${repo}/runs/${r.id}`,
            })),
          },
          headers,
        };
      },
    },
    {
      method: 'GET',
      pattern: /^\/actions\/jobs\/(\d+)$/,
      permission: ['actions'],
      level: 'read',
      run: (repo, [, id]) => {
        const job = checkRuns.find(
          (r) => key(r.repo) === key(repo) && r.id === Number(id) && r.appSlug === 'github-actions',
        );
        if (!job) return notFound;
        return {
          status: 200,
          json: {
            id: job.id,
            head_sha: job.headSha,
            name: job.name,
            status: job.status,
            conclusion: job.conclusion,
            steps: job.steps.map((s, i) => ({
              name: s.name,
              status: 'completed',
              conclusion: s.conclusion,
              number: i + 1,
            })),
          },
        };
      },
    },
    {
      // GitHub answers a redirect to a short-lived URL of the plain-text log; fetch follows it.
      method: 'GET',
      pattern: /^\/actions\/jobs\/(\d+)\/logs$/,
      permission: ['actions'],
      level: 'read',
      run: (repo, [, id]) => {
        const job = checkRuns.find((r) => key(r.repo) === key(repo) && r.id === Number(id));
        if (job?.appSlug !== 'github-actions') return notFound;
        return { status: 302, location: `${options.baseUrl()}/_logs/${encodeURIComponent(repo)}/${id}` };
      },
    },
  ];

  function issueJson(issue: StandinIssue) {
    return {
      url: `${options.baseUrl()}/repos/${issue.repo}/issues/${issue.number}`,
      id: issue.number + 100_000,
      node_id: `I_${issue.number}`,
      html_url: `${options.baseUrl()}/${issue.repo}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`,
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.pull?.state ?? 'open',
      user: user(issue.login),
      labels: issue.labels.map((name) => ({ name })),
      author_association: issue.association,
      comments: comments.filter((c) => key(c.repo) === key(issue.repo) && c.number === issue.number).length,
      created_at: at(),
      updated_at: at(),
      ...(issue.pull
        ? { pull_request: { url: `${options.baseUrl()}/repos/${issue.repo}/pulls/${issue.number}` } }
        : {}),
    };
  }

  return {
    issues,
    comments,
    checkRuns,
    addIssue,
    addComment,
    issueJson,
    commentJson,
    user,
    repository,
    reviews,
    reviewComments,
    /** The comments a test writes into a review (GitHub makes them as the review is submitted). */
    addReviewComments(
      repo: string,
      number: number,
      reviewId: number,
      list: Omit<StandinReviewComment, 'id' | 'reviewId' | 'number' | 'repo'>[],
    ) {
      for (const c of list) reviewComments.push({ ...c, id: nextId++, reviewId, number, repo });
    },
    /** A check run on a commit; without `checkSuiteId`, in the suite of its app on that commit. */
    addCheckRun(
      run: Omit<StandinCheckRun, 'id' | 'checkSuiteId' | 'startedAt'> &
        Partial<Pick<StandinCheckRun, 'checkSuiteId'>>,
    ): StandinCheckRun {
      const suite =
        run.checkSuiteId ??
        checkRuns.find(
          (r) => key(r.repo) === key(run.repo) && r.headSha === run.headSha && r.appSlug === run.appSlug,
        )?.checkSuiteId ??
        nextId++;
      const made: StandinCheckRun = { ...run, checkSuiteId: suite, startedAt: at(), id: nextId++ };
      checkRuns.push(made);
      return made;
    },
    /** A job's plain-text log (the redirect's target), or null. */
    logOf(repo: string, id: number): string | null {
      return checkRuns.find((r) => key(r.repo) === key(repo) && r.id === id)?.log ?? null;
    },
    /** The route for `method` and the path after `/repos/{owner}/{repo}`, or null. */
    route(method: string, repo: string, rest: string): RepoRoute | null {
      for (const r of routes) {
        const m = r.method === method ? r.pattern.exec(rest) : null;
        if (m)
          return {
            need: { repo, permission: r.permission, level: r.level },
            run: (request) => r.run(repo, m as unknown as string[], request),
          };
      }
      return null;
    },
  };
}

export type RepoStore = ReturnType<typeof createRepoStore>;
