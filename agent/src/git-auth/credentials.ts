// Which credential a git remote gets: a named token, the GitHub App's installation token, NIGHTSHIFT_GIT_TOKEN, or none.
import * as z from 'zod';
import type { Clock } from '../options.js';
import { createGitHubApp, type GitHubApp } from './github-app.js';
import { describeSecret, type SecretReader, type SecretValue } from './secrets.js';

/** The reserved credential name that picks the GitHub App for a repository whatever its host. */
export const GITHUB_APP_CREDENTIAL = 'github-app';
/** The HTTP Basic user name sent with a token unless configured: what GitHub (and Gitea) take. */
export const DEFAULT_GIT_USERNAME = 'x-access-token';

/** The git credentials as configured (agent/src/config.ts reads them; agent/PROTOCOL.md, Credentials). */
export interface GitCredentialsConfig {
  /** NIGHTSHIFT_GIT_TOKEN: the default token for https remotes (and http ones on loopback). */
  token?: SecretValue | undefined;
  /** NIGHTSHIFT_GIT_USERNAME: the Basic user name sent with tokens. */
  username: string;
  /** NIGHTSHIFT_GIT_TOKENS: JSON `{name: token | {token, username}}`, for `repo.credential`. */
  tokens?: SecretValue | undefined;
  /** GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY. */
  app?: { id: string; privateKey: SecretValue } | undefined;
  /** GITHUB_API_URL (default https://api.github.com). */
  apiUrl: string;
}

/** An https remote (or http on loopback) as git's credential protocol names it. */
export interface HttpRemote {
  protocol: 'https' | 'http';
  /** host[:port], as git sends `host=`. */
  host: string;
  /** The path without its leading slash, as git sends `path=` with credential.useHttpPath. */
  path: string;
  /** The URL without user name or password: the only form that goes into messages. */
  display: string;
}

export interface GitCredential {
  username: string;
  password: string;
}

/** What a remote gets for one operation: a credential (or none), and where it came from, for messages. */
export interface Resolved {
  credential: GitCredential | null;
  source: string;
}

export interface GitAuth {
  /** The credential for one network operation on `url` with the repository's `credential` name. */
  forRemote(url: string, name: string | undefined): Promise<Resolved>;
}

/** The agent without any configured credential: every remote gets the VM user's own git and SSH setup. */
export const NO_GIT_AUTH: GitAuth = {
  forRemote: async (_url, name) => {
    if (name !== undefined) throw new Error(`credential "${name}" is not configured on this agent`);
    return { credential: null, source: 'no credential configured' };
  },
};

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Every `scheme://user:password@` in a text without its user and password. */
export function stripUserinfo(text: string): string {
  return text.replace(/\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s'"]*@/g, '$1');
}

/** The remote as git's credential helper sees it; null for ssh, file and local remotes and non-loopback http. */
export function httpRemoteOf(url: string): HttpRemote | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const protocol = parsed.protocol.replace(/:$/, '');
  if (protocol !== 'https' && !(protocol === 'http' && LOOPBACK.test(parsed.hostname))) return null;
  return {
    protocol,
    host: parsed.host,
    path: decodeURIComponent(parsed.pathname.replace(/^\/+/, '')),
    display: stripUserinfo(url),
  };
}

/** The host the App's repositories are cloned from: github.com for api.github.com, else the API's own host. */
export function appGitHostOf(apiUrl: string): string {
  const api = new URL(apiUrl);
  return api.hostname === 'api.github.com' ? 'github.com' : api.host;
}

/** `owner/repo` from a remote's path (`owner/repo.git`, or deeper on GitHub Enterprise behind a prefix). */
export function repositoryOf(remote: HttpRemote): { owner: string; repo: string } | null {
  const parts = remote.path
    .replace(/\.git\/?$/, '')
    .split('/')
    .filter((p) => p !== '');
  if (parts.length < 2) return null;
  return { owner: parts[parts.length - 2] as string, repo: parts[parts.length - 1] as string };
}

const NamedTokensSchema = z.record(
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/),
  z.union([
    z.string().min(1),
    z.strictObject({ token: z.string().min(1), username: z.string().min(1).optional() }),
  ]),
);
export type NamedTokens = z.infer<typeof NamedTokensSchema>;

/** NIGHTSHIFT_GIT_TOKENS' JSON; the error names the problem, never a value. */
export function parseNamedTokens(text: string, where: string): NamedTokens {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not JSON (expected {"name": "token", …})`);
  }
  const parsed = NamedTokensSchema.safeParse(json);
  if (!parsed.success) {
    const at = parsed.error.issues.map((i) => i.path.join('.') || '(top)').join(', ');
    throw new Error(
      `${where} is not a map of credential names to tokens or {token, username} (wrong at: ${at})`,
    );
  }
  return parsed.data;
}

export interface GitAuthDeps {
  secrets: SecretReader;
  clock: Clock;
  fetch?: typeof fetch;
}

/** The configured credentials as one GitAuth; every secret is read at the moment an operation needs it. */
export function createGitAuth(config: GitCredentialsConfig, deps: GitAuthDeps): GitAuth {
  const app: GitHubApp | null =
    config.app === undefined
      ? null
      : createGitHubApp({
          appId: config.app.id,
          apiUrl: config.apiUrl,
          clock: deps.clock,
          fetch: deps.fetch,
          privateKey: async () => {
            const key = await deps.secrets.read(config.app?.privateKey as SecretValue);
            if (key === null || key.trim() === '')
              throw new Error(
                `GITHUB_APP_PRIVATE_KEY (${describeSecret(config.app?.privateKey as SecretValue)}) has no value yet`,
              );
            return key;
          },
        });
  const appHost = appGitHostOf(config.apiUrl);

  async function fromApp(remote: HttpRemote): Promise<Resolved> {
    if (app === null)
      throw new Error(
        `credential "${GITHUB_APP_CREDENTIAL}" names the GitHub App, but GITHUB_APP_ID is not set on this agent`,
      );
    const repository = repositoryOf(remote);
    if (repository === null)
      throw new Error(`${remote.display} names no owner/repository for the GitHub App ${app.appId}`);
    const minted = await app.tokenFor(repository.owner, repository.repo);
    return {
      credential: { username: 'x-access-token', password: minted.token },
      source: `the GitHub App ${app.appId} (installation ${minted.installationId})`,
    };
  }

  async function named(name: string): Promise<Resolved> {
    if (config.tokens === undefined)
      throw new Error(
        `credential "${name}" is not configured: NIGHTSHIFT_GIT_TOKENS is not set on this agent`,
      );
    const where = `NIGHTSHIFT_GIT_TOKENS (${describeSecret(config.tokens)})`;
    const text = await deps.secrets.read(config.tokens);
    const tokens = text === null ? {} : parseNamedTokens(text, where);
    const entry = tokens[name];
    if (entry === undefined) {
      const known = Object.keys(tokens);
      throw new Error(
        `credential "${name}" is not in ${where}; it has ${known.length === 0 ? 'none' : known.map((k) => `"${k}"`).join(', ')}`,
      );
    }
    const { token, username } = typeof entry === 'string' ? { token: entry, username: undefined } : entry;
    return {
      credential: { username: username ?? config.username, password: token },
      source: `credential "${name}" (NIGHTSHIFT_GIT_TOKENS)`,
    };
  }

  return {
    async forRemote(url, name) {
      const remote = httpRemoteOf(url);
      if (remote === null) {
        if (name !== undefined)
          throw new Error(
            `credential "${name}" is for https remotes; ${stripUserinfo(url)} uses the VM user's own git and SSH setup`,
          );
        return { credential: null, source: "the VM user's own git and SSH setup" };
      }
      if (name === GITHUB_APP_CREDENTIAL) return fromApp(remote);
      if (name !== undefined) return named(name);
      if (app !== null && remote.host.toLowerCase() === appHost.toLowerCase()) return fromApp(remote);
      if (config.token !== undefined) {
        const token = await deps.secrets.read(config.token);
        if (token !== null && token.trim() !== '')
          return {
            credential: { username: config.username, password: token.trim() },
            source: `NIGHTSHIFT_GIT_TOKEN${config.token.kind === 'value' ? '' : ` (${describeSecret(config.token)})`}`,
          };
        return {
          credential: null,
          source: `no credential (NIGHTSHIFT_GIT_TOKEN: ${describeSecret(config.token)} has no value yet)`,
        };
      }
      return { credential: null, source: 'no credential configured' };
    },
  };
}
