// A stand-in of GitHub's REST API on loopback: the App's endpoints (RS256 JWT, installation tokens the git server accepts) and, through github-repos.ts, the repository calls the functions make, each checked against the token's repository and permissions.
import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRepoStore, type RepoStore, type StandinUser } from './github-repos.js';

export type {
  StandinCheckRun,
  StandinComment,
  StandinIssue,
  StandinReview,
  StandinReviewComment,
  StandinUser,
} from './github-repos.js';

/** A new App key pair: the private key as GitHub hands it out (PKCS#1 PEM) and its public key. */
export function makeAppKey(): { privateKeyPem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicKey };
}

export interface StandinInstallation {
  id: number;
  owner: string;
  /** The repositories the installation covers (names without the owner). */
  repos: string[];
  /** The most the App may hand out, e.g. `{contents: 'write'}`. */
  permissions: Record<string, 'read' | 'write'>;
}

export interface MintedToken {
  token: string;
  installationId: number;
  owner: string;
  repos: string[];
  permissions: Record<string, string>;
  expiresAtMs: number;
  /** The claims of the App JWT it was minted with (verified). */
  claims: JwtClaims;
}

export interface JwtClaims {
  iss: string | number;
  iat: number;
  exp: number;
}

export interface GitHubStandin {
  url: string;
  /** Every request, oldest first, with the answer's status and, for a refusal, why. */
  requests: GitHubRequest[];
  minted: MintedToken[];
  /** Whether `token` is a live installation token for `owner/repo` (the git server's check). */
  accepts(token: string, owner: string, repo: string): boolean;
  /** The repositories' issues, pull requests, comments and checks: what was posted, and what a test adds. */
  repos: RepoStore;
  /**
   * Makes the requests that match fail with a server error (default 500), as GitHub's API sometimes
   * does, or a 401 (a token just minted that has not reached every server yet, as GitHub documents),
   * `times` times (default: until `recover()`); the body is still read and recorded.
   */
  fail(match: { method?: string; path?: RegExp }, status?: number, times?: number): void;
  /** Ends every failure `fail` set up. */
  recover(): void;
  close(): Promise<void>;
}

export interface GitHubRequest {
  method: string;
  /** The path without the query. */
  path: string;
  /** The query string, `?…`, or empty. */
  search: string;
  /** The Authorization header as sent (tests check which credential a call carried). */
  authorization?: string;
  status: number;
  why?: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the posted JSON freely.
  body?: any;
}

/** GitHub's message for an error status of its API (a server error, or a token refused once it is sent). */
const SERVER_ERROR: Record<number, string> = {
  401: 'Bad credentials',
  500: 'Server Error',
  502: 'Server Error',
  503: 'Service Unavailable',
  504: "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request and contact us if the problem persists.",
};

export interface GitHubStandinOptions {
  appId: string;
  /** The App's public key (PEM or KeyObject): the JWT must verify against it. */
  publicKey: KeyObject | string;
  installations: StandinInstallation[];
  /** How long a minted token lives (GitHub: one hour). */
  tokenLifetimeMs?: number;
  /** The stand-in's clock, so a test can expire tokens. */
  now?: () => number;
  /** 0 (the default): any free port. */
  port?: number;
  /** People with personal access tokens (a developer posting issues and comments, a stranger). */
  users?: StandinUser[];
  /** The App's slug: its comments are by `<slug>[bot]`. Default `nightshift-local`. */
  appSlug?: string;
  /** The commit a branch points at, or null when it does not exist (pull requests are checked against it). */
  resolveBranch?: (repo: string, branch: string) => Promise<string | null>;
}

const LEVEL = { read: 1, write: 2 } as const;

/** Whether `name` is one of `names`: GitHub's repository names ignore case. */
const includesName = (names: string[], name: string) =>
  names.some((n) => n.toLowerCase() === name.toLowerCase());

/** The JWT's claims when it verifies (RS256, iss = the App, not expired, at most 10 minutes long); else why not. */
function checkJwt(
  header: string | undefined,
  appId: string,
  key: KeyObject,
  nowMs: number,
): string | JwtClaims {
  const match = /^Bearer\s+([\w-]+)\.([\w-]+)\.([\w-]+)$/i.exec(header ?? '');
  if (match === null) return 'no Bearer JWT';
  const [, h, p, s] = match as unknown as [string, string, string, string];
  let head: { alg?: string };
  let claims: { iat?: number; exp?: number; iss?: string | number };
  try {
    head = JSON.parse(Buffer.from(h, 'base64url').toString());
    claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  } catch {
    return 'the JWT is not JSON';
  }
  if (head.alg !== 'RS256') return `alg ${head.alg}, not RS256`;
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) return 'bad signature';
  if (String(claims.iss) !== appId) return `iss ${claims.iss} is not the App ${appId}`;
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') return 'no iat or exp';
  if (claims.exp <= now) return 'expired';
  if (claims.iat > now + 60) return 'iat in the future';
  if (claims.exp - claims.iat > 600) return 'longer than 10 minutes';
  return { iss: claims.iss as string | number, iat: claims.iat, exp: claims.exp };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  return JSON.parse(text);
}

/** Whether a token's permissions reach `level` of `permission` (write includes read). */
const grants = (permissions: Record<string, string>, permission: string, level: 'read' | 'write') =>
  // Every installation token may read metadata, as on GitHub.
  (permission === 'metadata' && level === 'read') ||
  (LEVEL[permissions[permission] as 'read' | 'write'] ?? 0) >= LEVEL[level];

export async function startGitHubStandin(options: GitHubStandinOptions): Promise<GitHubStandin> {
  const key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  const now = options.now ?? (() => Date.now());
  const lifetime = options.tokenLifetimeMs ?? 60 * 60_000;
  const requests: GitHubRequest[] = [];
  let failures: Array<{ method?: string; path?: RegExp; status: number; left: number }> = [];
  const minted: MintedToken[] = [];
  const users = options.users ?? [];
  const bot = `${options.appSlug ?? 'nightshift-local'}[bot]`;
  let baseUrl = '';
  const repos = createRepoStore({
    baseUrl: () => baseUrl,
    ...(options.resolveBranch ? { resolveBranch: options.resolveBranch } : {}),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    let body: unknown;
    const answer = (status: number, json: unknown, why?: string, headers: Record<string, string> = {}) => {
      const authorization = req.headers.authorization;
      requests.push({
        method,
        path,
        search: url.search,
        ...(authorization === undefined ? {} : { authorization }),
        status,
        ...(why ? { why } : {}),
        ...(body !== undefined ? { body } : {}),
      });
      if (typeof json === 'string') {
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(json);
        return;
      }
      res
        .writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers })
        .end(json === undefined ? '' : JSON.stringify(json));
    };
    const readBody = async (): Promise<boolean> => {
      try {
        body = await readJson(req);
        return true;
      } catch {
        answer(400, { message: 'Problems parsing JSON' });
        return false;
      }
    };
    const failure = failures.find(
      (f) => f.left > 0 && (f.method === undefined || f.method === method) && (f.path?.test(path) ?? true),
    );
    if (failure) {
      failure.left -= 1;
      if (method !== 'GET' && !(await readBody())) return;
      return answer(
        failure.status,
        { message: SERVER_ERROR[failure.status] ?? 'Server Error' },
        'a failure the test set up',
      );
    }
    // A job log's redirect target: a short-lived signed URL on GitHub, so it takes no credential.
    const logPath = /^\/_logs\/([^/]+)\/(\d+)$/.exec(path);
    if (method === 'GET' && logPath) {
      const log = repos.logOf(decodeURIComponent(logPath[1] as string), Number(logPath[2]));
      return log === null ? answer(404, { message: 'Not Found' }) : answer(200, log);
    }
    const repoInstall = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(path);
    const mint = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    let claims: JwtClaims | undefined;
    if ((method === 'GET' && repoInstall) || (method === 'POST' && mint)) {
      const checked = checkJwt(req.headers.authorization, options.appId, key, now());
      if (typeof checked === 'string')
        return answer(401, { message: 'A JSON web token could not be decoded' }, checked);
      claims = checked;
    }
    if (method === 'GET' && repoInstall) {
      const [, owner, repo] = repoInstall as unknown as [string, string, string];
      const found = options.installations.find(
        (i) => i.owner.toLowerCase() === owner.toLowerCase() && includesName(i.repos, repo),
      );
      if (!found) return answer(404, { message: 'Not Found' });
      return answer(200, { id: found.id, account: { login: found.owner }, app_id: Number(options.appId) });
    }
    if (method === 'POST' && mint) {
      if (!(await readBody())) return;
      const installation = options.installations.find((i) => i.id === Number(mint[1]));
      if (!installation) return answer(404, { message: 'Not Found' });
      const asked = body as { repositories?: unknown; permissions?: unknown };
      const repos = Array.isArray(asked.repositories) ? (asked.repositories as string[]) : installation.repos;
      const missing = repos.filter((r) => !includesName(installation.repos, r));
      if (missing.length > 0)
        return answer(
          422,
          {
            message: `There is at least one repository that does not exist or is not accessible to the parent installation.`,
          },
          `not covered: ${missing.join(',')}`,
        );
      const permissions = (asked.permissions ?? installation.permissions) as Record<string, string>;
      for (const [name, level] of Object.entries(permissions)) {
        const most = installation.permissions[name];
        if (most === undefined || (LEVEL[level as 'read' | 'write'] ?? 9) > LEVEL[most])
          return answer(
            422,
            { message: `The permissions requested are not granted to this installation.` },
            `${name}: ${level}`,
          );
      }
      const token = `ghs_${randomBytes(18).toString('base64url')}`;
      const expiresAtMs = now() + lifetime;
      minted.push({
        token,
        installationId: installation.id,
        owner: installation.owner,
        repos,
        permissions,
        expiresAtMs,
        claims: claims as JwtClaims,
      });
      return answer(201, {
        token,
        expires_at: new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions,
        repository_selection: 'selected',
        repositories: repos.map((name) => ({ name, full_name: `${installation.owner}/${name}` })),
      });
    }
    const inRepo = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    const route = inRepo ? repos.route(method, `${inRepo[1]}/${inRepo[2]}`, inRepo[3] ?? '') : null;
    if (!inRepo || !route) return answer(404, { message: 'Not Found' });
    // An installation token (`token ghs_…`, or Bearer) or a person's PAT; nothing: the repository is private.
    const credential = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (credential === undefined) return answer(404, { message: 'Not Found' }, 'no credential');
    const person = users.find((u) => u.token === credential);
    let actor: { login: string; association: string };
    if (person) actor = { login: person.login, association: person.association };
    else {
      const token = minted.find((m) => m.token === credential);
      if (!token || now() >= token.expiresAtMs)
        return answer(401, { message: 'Bad credentials' }, 'unknown token');
      const [owner = '', name = ''] = route.need.repo.split('/');
      if (token.owner.toLowerCase() !== owner.toLowerCase() || !includesName(token.repos, name))
        return answer(404, { message: 'Not Found' }, `the token does not cover ${route.need.repo}`);
      if (!route.need.permission.some((p) => grants(token.permissions, p, route.need.level)))
        return answer(
          403,
          { message: 'Resource not accessible by integration' },
          `the token lacks ${route.need.permission.join(' or ')}: ${route.need.level}`,
        );
      actor = { login: bot, association: 'NONE' };
    }
    if (method !== 'GET' && !(await readBody())) return;
    const got = await route.run({
      method,
      path,
      query: url.searchParams,
      body: (body ?? {}) as Record<string, unknown>,
      actor,
    });
    return answer(got.status, got.text ?? got.json, undefined, {
      ...got.headers,
      ...(got.location ? { Location: got.location } : {}),
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    requests,
    minted,
    repos,
    fail(match, status = 500, times = Number.POSITIVE_INFINITY) {
      failures.push({ ...match, status, left: times });
    },
    recover() {
      failures = [];
    },
    accepts(token, owner, repo) {
      return minted.some(
        (m) =>
          m.token === token &&
          m.owner.toLowerCase() === owner.toLowerCase() &&
          includesName(m.repos, repo) &&
          m.permissions.contents === 'write' &&
          now() < m.expiresAtMs,
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
