// The GitHub App source: installation tokens for one repository (contents: write), minted with an RS256 JWT and cached until shortly before they expire.
import { createPrivateKey, sign } from 'node:crypto';
import * as z from 'zod';
import type { Clock } from '../options.js';
import {
  CREDENTIAL_HTTP_TIMEOUT_MS,
  GITHUB_APP_JWT_BACKDATE_MS,
  GITHUB_APP_JWT_LIFETIME_MS,
  GITHUB_APP_TOKEN_REUSE_MARGIN_MS,
} from '../timings.js';

export interface GitHubAppOptions {
  appId: string;
  /** The App's private key (PEM), read at each mint so a rotated key takes effect at once. */
  privateKey: () => Promise<string>;
  /** GITHUB_API_URL: api.github.com, GitHub Enterprise's `https://HOST/api/v3`, or a stand-in. */
  apiUrl: string;
  clock: Clock;
  fetch?: typeof fetch;
}

export interface InstallationToken {
  token: string;
  expiresAtMs: number;
  installationId: number;
}

export interface GitHubApp {
  readonly appId: string;
  /** A token for `owner/repo` alone, with `contents: write`; a cached one while it has time left. */
  tokenFor(owner: string, repo: string): Promise<InstallationToken>;
}

/** A JSON Web Token for the App, signed RS256 with its private key (what GitHub's App endpoints take). */
export function appJwt(appId: string, privateKeyPem: string, nowMs: number): string {
  const iat = Math.floor((nowMs - GITHUB_APP_JWT_BACKDATE_MS) / 1000);
  const exp = iat + Math.floor(GITHUB_APP_JWT_LIFETIME_MS / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat, exp, iss: appId })}`;
  let key: ReturnType<typeof createPrivateKey>;
  try {
    // GitHub hands out PKCS#1 PEM; PKCS#8 works too. Escaped newlines (one-line env files) are undone.
    key = createPrivateKey(privateKeyPem.replace(/\\n/g, '\n'));
  } catch {
    throw new Error('GITHUB_APP_PRIVATE_KEY is not a PEM private key');
  }
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`;
}

const InstallationSchema = z.object({ id: z.number().int() });
const AccessTokenSchema = z.object({ token: z.string().min(1), expires_at: z.string() });
const MessageSchema = z.object({ message: z.string() });

export function createGitHubApp(options: GitHubAppOptions): GitHubApp {
  const doFetch = options.fetch ?? fetch;
  const api = options.apiUrl.replace(/\/+$/, '');
  const cache = new Map<string, InstallationToken>();
  const what = `the GitHub App ${options.appId}`;

  async function call(method: string, path: string, jwt: string, body?: unknown): Promise<Response> {
    try {
      return await doFetch(`${api}${path}`, {
        method,
        headers: {
          Accept: 'application/vnd.github+json',
          Authorization: `Bearer ${jwt}`,
          'User-Agent': 'nightshift-agent',
          'X-GitHub-Api-Version': '2022-11-28',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CREDENTIAL_HTTP_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(`${what}: ${method} ${api}${path} failed: ${(error as Error).message}`);
    }
  }

  async function refused(response: Response, doing: string): Promise<Error> {
    const body = MessageSchema.safeParse(await response.json().catch(() => null));
    const why = body.success ? `: ${body.data.message}` : '';
    const hint =
      response.status === 401
        ? ' (GitHub refused the App JWT: check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY)'
        : response.status === 404 && doing.startsWith('GET')
          ? ' (the App is not installed on that repository)'
          : '';
    return new Error(`${what}: ${doing} answered HTTP ${response.status}${why}${hint}`);
  }

  return {
    appId: options.appId,
    async tokenFor(owner, repo) {
      const key = `${owner}/${repo}`.toLowerCase();
      const nowMs = options.clock.now().getTime();
      const hit = cache.get(key);
      if (hit !== undefined && nowMs < hit.expiresAtMs - GITHUB_APP_TOKEN_REUSE_MARGIN_MS) return hit;
      cache.delete(key);
      const jwt = appJwt(options.appId, await options.privateKey(), nowMs);
      const path = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/installation`;
      const found = await call('GET', path, jwt);
      if (!found.ok) throw await refused(found, `GET ${path}`);
      const installation = InstallationSchema.safeParse(await found.json().catch(() => null));
      if (!installation.success) throw new Error(`${what}: GET ${path} answered no installation id`);
      const id = installation.data.id;
      const mintPath = `/app/installations/${id}/access_tokens`;
      const minted = await call('POST', mintPath, jwt, {
        repositories: [repo],
        permissions: { contents: 'write' },
      });
      if (!minted.ok) throw await refused(minted, `POST ${mintPath}`);
      const parsed = AccessTokenSchema.safeParse(await minted.json().catch(() => null));
      const expiresAtMs = parsed.success ? Date.parse(parsed.data.expires_at) : Number.NaN;
      if (!parsed.success || Number.isNaN(expiresAtMs))
        throw new Error(`${what}: POST ${mintPath} answered no token with expires_at`);
      const token = { token: parsed.data.token, expiresAtMs, installationId: id };
      cache.set(key, token);
      return token;
    },
  };
}
