// How the functions authenticate to GitHub: a GitHub App's installation tokens, each limited to one
// repository, when an App is configured; else the one GITHUB_TOKEN. Octokit and @octokit/auth-app are
// imported on the first GitHub call, never at a function's cold start.
import { createPrivateKey } from 'node:crypto';
import type { Octokit } from '@octokit/rest';
import type { Logger } from '../core/log.js';
import {
  GITHUB_REQUEST_TIMEOUT_MS,
  INSTALLATION_ID_CACHE_MS,
  TOKEN_REPLICATION_MS,
  TOKEN_REPLICATION_RETRY_MS,
} from '../timings.js';

export interface GithubConfig {
  githubToken?: string;
  /** The REST API root; default https://api.github.com (GitHub Enterprise: https://HOST/api/v3). */
  githubApiUrl?: string;
  /** The GitHub App's id (or client id); with the key, the App is used instead of the token. */
  githubAppId?: string;
  /** The App's private key, PEM (PKCS#1 as GitHub hands it out, or PKCS#8); `\n` for line breaks is fine. */
  githubAppPrivateKey?: string;
}

/**
 * What the functions' installation tokens may do, and no more: comment on issues, open and find pull
 * requests (metadata read comes with any token). Pushing is the agent's, with its own token.
 */
export const FUNCTIONS_TOKEN_PERMISSIONS = { issues: 'write', pull_requests: 'write' } as const;

/**
 * What a CI fix's reads need (check runs, Actions jobs and their logs), read-only, in a token of its own:
 * an installation that did not grant them still gets every other call with FUNCTIONS_TOKEN_PERMISSIONS.
 */
export const CI_READ_TOKEN_PERMISSIONS = { checks: 'read', actions: 'read' } as const;

/** The permissions an installation token is asked for. */
export type TokenPermissions = Readonly<Record<string, 'read' | 'write'>>;

/** `checks: read, actions: read`, as an owner reads it. */
function describePermissions(permissions: TokenPermissions): string {
  return Object.entries(permissions)
    .map(([name, level]) => `${name}: ${level}`)
    .join(', ');
}

export interface Github {
  /** `app`: installation tokens of the GitHub App; `token`: GITHUB_TOKEN. */
  readonly auth: 'app' | 'token';
  /**
   * An Octokit for calls on one repository (`owner/name`). With the App, every call carries an
   * installation token limited to that repository and FUNCTIONS_TOKEN_PERMISSIONS, from the installation
   * given (a webhook delivery's `installation.id`) or looked up. `permissions` asks for another set instead
   * (CI_READ_TOKEN_PERMISSIONS for a CI fix's reads); GITHUB_TOKEN ignores it. Rejects with an error that
   * says what is wrong (App not installed on the repository, permissions not granted, App misconfigured,
   * GitHub's answer).
   */
  forRepo(
    repo: string,
    options?: { installationId?: number | undefined; permissions?: TokenPermissions },
  ): Promise<Octokit>;
}

/** Octokit's own console output would bypass the structured log; errors are logged by the callers. */
function octokitLog(log: Logger) {
  return {
    debug: () => {},
    info: () => {},
    // auth-app warns here when it retries a 401 (token replication) or corrects for clock skew.
    warn: (message: string) => log.warn(`GitHub client: ${message}`),
    error: () => {},
  };
}

/** Every request with a deadline, also those Octokit and auth-app make on their own (tokens, lookups). */
const timedFetch: typeof fetch = (input, init) =>
  fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(GITHUB_REQUEST_TIMEOUT_MS) });

function baseUrlOf(config: GithubConfig): string | undefined {
  return config.githubApiUrl ? config.githubApiUrl.replace(/\/+$/, '') : undefined;
}

function splitRepo(repo: string): { owner: string; repo: string } {
  const [owner = '', name = ''] = repo.split('/');
  return { owner, repo: name };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

function messageOf(error: unknown): string {
  return (error as { message?: string }).message ?? String(error);
}

/** An error that keeps GitHub's status beside a message saying what it means for nightshift. */
export class GithubAuthError extends Error {
  override readonly name = 'GithubAuthError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * What is wrong with the App's configuration, or null. The key is checked by parsing it, never shown.
 * An App id is a number; a client id (`Iv1.…`, `Iv23…`) is accepted as GitHub accepts it as the JWT issuer.
 */
export function githubAppProblem(config: GithubConfig): string | null {
  const { githubAppId: id, githubAppPrivateKey: key } = config;
  if (id === undefined && key === undefined) return null;
  if (id === undefined) return 'GITHUB_APP_PRIVATE_KEY is set but GITHUB_APP_ID is not';
  if (key === undefined) return 'GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY is not';
  if (!/^(\d{1,12}|Iv[0-9A-Za-z.]{4,40})$/.test(id)) {
    return `GITHUB_APP_ID must be the App's id (a number such as 123456) or its client id (Iv…), got "${id.slice(0, 40)}"`;
  }
  try {
    const parsed = createPrivateKey(key.replace(/\\n/g, '\n'));
    if (parsed.asymmetricKeyType !== 'rsa') {
      return `GITHUB_APP_PRIVATE_KEY is a ${parsed.asymmetricKeyType} key; a GitHub App's key is RSA`;
    }
  } catch (error) {
    return `GITHUB_APP_PRIVATE_KEY is not a PEM private key (${messageOf(error)}); paste the whole .pem file GitHub generated`;
  }
  return null;
}

/**
 * The GitHub client the configuration asks for, or null (no App, no token: nothing is posted). A
 * misconfigured App is logged here, once, and makes every call fail with the same clear error (never
 * falling back to GITHUB_TOKEN, which would post as someone else without saying so).
 */
export function createGithub(config: GithubConfig, log: Logger): Github | null {
  if (config.githubAppId !== undefined || config.githubAppPrivateKey !== undefined) {
    const problem = githubAppProblem(config);
    if (problem !== null) {
      log.error('GitHub App misconfigured: GitHub comments and pull requests fail until it is fixed', {
        problem,
      });
      return {
        auth: 'app',
        forRepo: async () => {
          throw new GithubAuthError(`GitHub App misconfigured: ${problem}`);
        },
      };
    }
    return appGithub(config, config.githubAppId as string, config.githubAppPrivateKey as string, log);
  }
  if (!config.githubToken) return null;
  const token = config.githubToken;
  let octokit: Promise<Octokit> | undefined;
  return {
    auth: 'token',
    forRepo: () => {
      octokit ??= import('@octokit/rest').then(
        ({ Octokit }) =>
          new Octokit({
            auth: token,
            userAgent: 'nightshift',
            ...(baseUrlOf(config) ? { baseUrl: baseUrlOf(config) } : {}),
            log: octokitLog(log),
            request: { fetch: timedFetch },
          }),
      );
      return octokit;
    },
  };
}

/** Repository Octokits kept per instance; past this many the oldest goes (each is cheap to make again). */
const MAX_CACHED_CLIENTS = 200;

function appGithub(config: GithubConfig, appId: string, privateKey: string, log: Logger): Github {
  const baseUrl = baseUrlOf(config);
  const common = {
    userAgent: 'nightshift',
    ...(baseUrl ? { baseUrl } : {}),
    log: octokitLog(log),
    request: { fetch: timedFetch },
  };
  type Loaded = { Octokit: typeof Octokit; app: Octokit };
  let loaded: Promise<Loaded> | undefined;
  // Made on first use: auth-app and Octokit are not loaded at a cold start, only by the first call.
  const load = () => {
    loaded ??= Promise.all([import('@octokit/rest'), import('@octokit/auth-app')]).then(
      ([{ Octokit }, { createAppAuth }]) => ({
        Octokit,
        // Signs the App's JWTs, mints installation tokens and caches them (auth-app's cache keeps a
        // token 59 minutes of its 60, keyed by installation, repositories and permissions).
        app: new Octokit({ ...common, authStrategy: createAppAuth, auth: { appId, privateKey } }),
      }),
    );
    return loaded;
  };
  const installations = new Map<string, { id: number; at: number }>();
  const clients = new Map<string, Octokit>();
  const spellings = new Map<string, string>();
  /** Installation and permission sets already logged as not granted: said once per instance. */
  const refusalsLogged = new Set<string>();

  /** The installation that covers the repository: GET /repos/{owner}/{repo}/installation, cached. */
  async function lookUp(app: Octokit, repo: string): Promise<number> {
    const key = repo.toLowerCase();
    const cached = installations.get(key);
    if (cached && Date.now() - cached.at < INSTALLATION_ID_CACHE_MS) return cached.id;
    try {
      const { data } = await app.rest.apps.getRepoInstallation(splitRepo(repo));
      installations.set(key, { id: data.id, at: Date.now() });
      return data.id;
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) {
        throw new GithubAuthError(
          `the GitHub App is not installed on ${repo} (GET /repos/${repo}/installation answered 404): install it on the repository`,
          404,
        );
      }
      throw new GithubAuthError(
        `could not find the GitHub App's installation for ${repo}: ${appHint(status)}${messageOf(error)}`,
        status,
      );
    }
  }

  /** A token for the repository from the installation, minted now or from auth-app's cache. */
  async function token(
    app: Octokit,
    repo: string,
    installationId: number,
    permissions: TokenPermissions,
  ): Promise<{ token: string; createdAt: string }> {
    try {
      return (await app.auth({
        type: 'installation',
        installationId,
        repositoryNames: [splitRepo(repo).repo],
        permissions,
      })) as { token: string; createdAt: string };
    } catch (error) {
      const status = statusOf(error);
      if (status === 422 && permissions !== FUNCTIONS_TOKEN_PERMISSIONS) {
        // An optional set (the CI reads): the owner has to grant it, so say which, once, loudly.
        const wanted = describePermissions(permissions);
        const seen = `${installationId}:${wanted}`;
        if (!refusalsLogged.has(seen)) {
          refusalsLogged.add(seen);
          log.warn(
            `GitHub App installation ${installationId} did not grant ${wanted}: grant them in the App's settings (Permissions) and accept them on the installation; until then CI fixes are told only that the build is red`,
            { repo, installationId, permissions: wanted, github: messageOf(error) },
          );
        }
        throw new GithubAuthError(
          `the GitHub App installation ${installationId} did not grant ${wanted} (needed to read the checks; grant them to the App): ${messageOf(error)}`,
          status,
        );
      }
      throw new GithubAuthError(
        `could not get an installation token for ${repo} from installation ${installationId}: ${appHint(status)}${messageOf(error)}${status === 422 ? ` (asked for ${describePermissions(permissions)})` : ''}`,
        status,
      );
    }
  }

  return {
    auth: 'app',
    async forRepo(asked, options = {}) {
      const permissions = options.permissions ?? FUNCTIONS_TOKEN_PERMISSIONS;
      const { Octokit, app } = await load();
      // One spelling per repository (GitHub's names ignore case), so its tokens are shared, not minted again.
      const repo = spellings.get(asked.toLowerCase()) ?? asked;
      spellings.set(repo.toLowerCase(), repo);
      let installationId = options.installationId ?? (await lookUp(app, repo));
      try {
        await token(app, repo, installationId, permissions);
      } catch (error) {
        // The id a delivery named, or the one cached, may be gone (the App was reinstalled since): look
        // the repository up afresh, once.
        if ((error as GithubAuthError).status !== 404) throw error;
        installations.delete(repo.toLowerCase());
        const fresh = await lookUp(app, repo);
        if (fresh === installationId) throw error;
        installationId = fresh;
        await token(app, repo, installationId, permissions);
      }
      // Per permission set too: a client's every call carries its one kind of token.
      const key = `${installationId}:${repo.toLowerCase()}:${describePermissions(permissions)}`;
      let client = clients.get(key);
      if (client === undefined) {
        const id = installationId;
        client = new Octokit({
          ...common,
          // Each call asks auth-app for the token, so a cached one is reused and an expired one replaced.
          authStrategy: () =>
            Object.assign(
              async () => ({ type: 'token', token: (await token(app, repo, id, permissions)).token }),
              {
                hook: async (
                  request: Octokit['request'],
                  route: Parameters<Octokit['request']>[0],
                  parameters?: Parameters<Octokit['request']>[1],
                ) => {
                  const endpoint: { headers: Record<string, string | undefined> } = request.endpoint.merge(
                    route as never,
                    parameters,
                  );
                  const minted = await token(app, repo, id, permissions);
                  endpoint.headers.authorization = `token ${minted.token}`;
                  try {
                    return await request(endpoint as never);
                  } catch (error) {
                    // A token just minted may not have reached every GitHub server yet (GitHub documents
                    // it): a 401 within TOKEN_REPLICATION_MS of minting is tried once more.
                    const fresh = Date.now() - Date.parse(minted.createdAt) < TOKEN_REPLICATION_MS;
                    if (statusOf(error) !== 401 || !fresh) throw error;
                    log.warn('GitHub refused an installation token just minted; trying once more', { repo });
                    await new Promise((resolve) => setTimeout(resolve, TOKEN_REPLICATION_RETRY_MS));
                    return request(endpoint as never);
                  }
                },
              },
            ),
        });
        if (clients.size >= MAX_CACHED_CLIENTS) clients.delete(clients.keys().next().value as string);
        clients.set(key, client);
      }
      return client;
    },
  };
}

/** What a GitHub status says about the App's own configuration. */
function appHint(status: number | undefined): string {
  if (status === 401) return 'GitHub refused the App (check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY): ';
  if (status === 403) return 'the installation lacks a permission nightshift asks for: ';
  if (status === 422)
    return 'the installation does not cover the repository, or not with these permissions: ';
  return '';
}
