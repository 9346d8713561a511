// Credentials: clone, fetch and push of a private repository on a real git HTTP server, with a token, named tokens, the GitHub App and Secret Manager; hardening against the workspace's config.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunCheckout } from '@nightshift/shared';
import {
  GIT_HTTP_BACKEND,
  type GitHttpServer,
  makeAppKey,
  randomToken,
  startGitHttpServer,
  startGitHubStandin,
} from '@nightshift/shared/dev';
import { describeUnless, tempDir } from '@nightshift/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecretManagerStandin } from '../testing/secret-manager-standin.js';
import { GITHUB_APP_TOKEN_REUSE_MARGIN_MS } from '../timings.js';
import { keepUncommitted, prepareWorkspace, pushBranch, remoteOf } from '../workspace.js';
import {
  appGitHostOf,
  createGitAuth,
  type GitAuth,
  type GitCredentialsConfig,
  httpRemoteOf,
  parseNamedTokens,
  repositoryOf,
  stripUserinfo,
} from './credentials.js';
import { filterOverridesOf, refusedConfigKeys } from './git-command.js';
import { appJwt } from './github-app.js';
import { createSecretReader, parseSecretValue, type SecretValue } from './secrets.js';

const exec = promisify(execFile);
const sh = async (cwd: string, ...args: string[]) => (await exec('git', args, { cwd })).stdout.trim();
const value = (v: string): SecretValue => ({ kind: 'value', value: v });
const base: GitCredentialsConfig = { username: 'x-access-token', apiUrl: 'https://api.github.com' };
const fixedClock = (ms: { now: number }) => ({ now: () => new Date(ms.now) });
const secretsOf = (clock = fixedClock({ now: Date.now() })) => createSecretReader({ clock });

const checkoutFor = (url: string, extra: Partial<NonNullable<RunCheckout['repo']>> = {}): RunCheckout => ({
  repo: { url, branch: 'main', push: true, ...extra },
  workdir: null,
  roadmapPath: 'docs/roadmap.md',
  progressPath: 'PROGRESS.md',
  tasksPath: 'docs/TASKS.md',
});

/** Every file under `dir` (the .git folder too) that holds `needle`. */
async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const { stdout } = await exec('grep', ['-rlF', '--', needle, dir]).catch(
    (e: { code?: number; stdout?: string }) => {
      if (e.code === 1) return { stdout: '' };
      throw e;
    },
  );
  return stdout.split('\n').filter((l) => l !== '');
}

/** A commit in the workspace, pushed by the agent's push; returns its sha. */
async function commitIn(dir: string, file: string): Promise<string> {
  await writeFile(join(dir, file), `${file}\n`);
  await sh(dir, 'add', file);
  await sh(dir, '-c', 'user.name=W', '-c', 'user.email=w@example.com', 'commit', '-q', '-m', file);
  return sh(dir, 'rev-parse', 'HEAD');
}

describe('Credentials: pure parts', () => {
  it('reads https remotes (and http on loopback only) as git names them, without userinfo', () => {
    expect(httpRemoteOf('https://me:secret@github.com/acme/blog.git')).toEqual({
      protocol: 'https',
      host: 'github.com',
      path: 'acme/blog.git',
      display: 'https://github.com/acme/blog.git',
    });
    expect(httpRemoteOf('http://127.0.0.1:9418/a/b.git')?.host).toBe('127.0.0.1:9418');
    expect(httpRemoteOf('http://example.com/a/b.git')).toBeNull();
    expect(httpRemoteOf('git@github.com:acme/blog.git')).toBeNull();
    expect(httpRemoteOf('ssh://git@github.com/acme/blog.git')).toBeNull();
    expect(httpRemoteOf('/srv/git/blog.git')).toBeNull();
  });

  it('strips user names and passwords from every URL in a text', () => {
    expect(
      stripUserinfo("fatal: Authentication failed for 'https://x-access-token:ghs_abc@github.com/a/b.git/'"),
    ).toBe("fatal: Authentication failed for 'https://github.com/a/b.git/'");
    expect(stripUserinfo('http://u@127.0.0.1:1/x and ssh://git@host/y')).toBe(
      'http://127.0.0.1:1/x and ssh://host/y',
    );
  });

  it("knows the App's git host and a remote's owner/repository", () => {
    expect(appGitHostOf('https://api.github.com')).toBe('github.com');
    expect(appGitHostOf('https://ghe.example.com/api/v3')).toBe('ghe.example.com');
    expect(appGitHostOf('http://127.0.0.1:9000')).toBe('127.0.0.1:9000');
    const remote = httpRemoteOf('https://github.com/acme/blog.git');
    expect(remote && repositoryOf(remote)).toEqual({ owner: 'acme', repo: 'blog' });
    const bare = httpRemoteOf('https://github.com/blog');
    expect(bare && repositoryOf(bare)).toBeNull();
  });

  it('parses named tokens and names what is wrong without echoing a value', () => {
    expect(parseNamedTokens('{"acme":"t1","other":{"token":"t2","username":"oauth2"}}', 'X')).toEqual({
      acme: 't1',
      other: { token: 't2', username: 'oauth2' },
    });
    expect(() => parseNamedTokens('{"acme": 12345678}', 'X')).toThrow(/X is not a map .*wrong at: acme/);
    expect(() => parseNamedTokens('ghp_secretvalue', 'X')).toThrow(/X is not JSON/);
    expect(() => parseNamedTokens('ghp_secretvalue', 'X')).not.toThrow(/ghp_secretvalue/);
  });

  it('reads sm:// references', () => {
    expect(parseSecretValue('sm://nightshift-git-token', 'p-1')).toEqual({
      kind: 'secret-manager',
      version: 'projects/p-1/secrets/nightshift-git-token/versions/latest',
    });
    expect(parseSecretValue('sm://projects/other/secrets/k/versions/3', 'p-1')).toEqual({
      kind: 'secret-manager',
      version: 'projects/other/secrets/k/versions/3',
    });
    expect(parseSecretValue('sm://no/such/shape', 'p-1')).toBeNull();
    expect(parseSecretValue('plain-token', 'p-1')).toEqual({ kind: 'value', value: 'plain-token' });
  });

  it('refuses the config keys that could send a credential elsewhere', () => {
    expect(
      refusedConfigKeys([
        'core.bare',
        'remote.origin.url',
        'url.https://evil.example/.insteadOf',
        'http.proxy',
        'credential.helper',
        'core.sshCommand',
        'include.path',
        'user.name',
      ]),
    ).toEqual([
      'url.https://evil.example/.insteadof',
      'http.proxy',
      'credential.helper',
      'core.sshcommand',
      'include.path',
    ]);
  });

  it('signs the App JWT RS256 with iss, iat set back and a lifetime under ten minutes', async () => {
    const { privateKeyPem, publicKey } = makeAppKey();
    const jwt = appJwt('4242', privateKeyPem, Date.parse('2026-12-01T10:00:00Z'));
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const { verify } = await import('node:crypto');
    expect(verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))).toBe(true);
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    expect(claims.iss).toBe('4242');
    expect(claims.iat).toBe(Date.parse('2026-12-01T09:59:00Z') / 1000);
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(600);
    expect(() => appJwt('1', 'not a key', 0)).toThrow('GITHUB_APP_PRIVATE_KEY is not a PEM private key');
  });
});

const missing = existsSync(GIT_HTTP_BACKEND) ? null : `git http-backend (${GIT_HTTP_BACKEND})`;

describeUnless(missing, 'Credentials', () => {
  const token = randomToken();
  let root: string;
  let server: GitHttpServer;
  /** What the server accepts besides `token`: installation tokens of the stand-in, later tokens. */
  const accepted = new Set<string>([token]);
  let appCheck: ((password: string, repoPath: string) => boolean) | null = null;

  beforeAll(async () => {
    root = await tempDir('nightshift-creds-');
    server = await startGitHttpServer({
      root: join(root, 'served'),
      check: (user, password, repoPath) =>
        (user === 'x-access-token' && accepted.has(password)) ||
        (user === 'oauth2' && password === `named-${token}`) ||
        (appCheck?.(password, repoPath) ?? false),
    });
  });
  afterAll(() => server?.close());

  describe('a token (NIGHTSHIFT_GIT_TOKEN)', () => {
    it('clones, fetches and pushes a private repository, and the token is written nowhere', async () => {
      const { url, path: bare } = await server.createRepo('acme', 'blog');
      const auth = createGitAuth(
        { ...base, token: value(token) },
        { secrets: secretsOf(), clock: fixedClock({ now: 0 }) },
      );
      const home = join(root, 'token-home');
      const checkout = checkoutFor(url);
      const first = await prepareWorkspace(home, 'blog', checkout, null, 'run-1', auth);
      expect(first.startCommit).toMatch(/^[0-9a-f]{40}$/);
      const sha = await commitIn(first.dir, 'one.txt');
      await pushBranch(first.dir, remoteOf(checkout.repo!, auth), 'main');
      expect(await sh(bare, 'rev-parse', 'main')).toBe(sha);
      // The second prepare fetches (the workspace exists) and fast-forwards to what another clone pushed.
      const other = join(root, 'other');
      await exec('git', [
        '-c',
        `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
        'clone',
        '-q',
        url,
        other,
      ]);
      const theirs = await commitIn(other, 'two.txt');
      await exec(
        'git',
        [
          '-c',
          `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
          'push',
          '-q',
          'origin',
          'main',
        ],
        { cwd: other },
      );
      const second = await prepareWorkspace(home, 'blog', checkout, null, 'run-2', auth);
      expect(second.startCommit).toBe(theirs);
      expect(second.notes).toEqual([]);
      expect(server.requests.some((r) => r.password === token && r.status === 200)).toBe(true);
      // Nowhere in the workspace (its .git/config and remote URL included).
      expect(await filesHolding(first.dir, token)).toEqual([]);
      expect(await sh(first.dir, 'remote', 'get-url', 'origin')).toBe(url);
      expect(await readFile(join(first.dir, '.git', 'config'), 'utf8')).not.toContain(token);
    });

    it('fails clearly without it and with a wrong one, naming the remote and the source, never the secret', async () => {
      const { url } = await server.createRepo('acme', 'denied');
      const none = createGitAuth(base, { secrets: secretsOf(), clock: fixedClock({ now: 0 }) });
      const withUser = url.replace('http://', 'http://someone:hunter2@');
      await expect(
        prepareWorkspace(join(root, 'none-home'), 'denied', checkoutFor(withUser), null, 'r', none),
      ).rejects.toThrow(
        new RegExp(
          `^git clone of ${url.replace(/[.]/g, '\\.')} failed: the remote asks for a credential and this agent has none for it \\(no credential configured; see the README, Private repositories\\)`,
        ),
      );
      const error = await prepareWorkspace(
        join(root, 'none-home2'),
        'denied',
        checkoutFor(withUser),
        null,
        'r',
        none,
      ).catch((e: Error) => e);
      expect(String(error)).not.toContain('hunter2');
      const wrong = createGitAuth(
        { ...base, token: value('wrong-token-value-123') },
        { secrets: secretsOf(), clock: fixedClock({ now: 0 }) },
      );
      const refused = await prepareWorkspace(
        join(root, 'wrong-home'),
        'denied',
        checkoutFor(url),
        null,
        'r',
        wrong,
      ).catch((e: Error) => e);
      expect((refused as Error).message).toMatch(
        /^git clone of http:\/\/127\.0\.0\.1:\d+\/acme\/denied\.git failed: authentication with NIGHTSHIFT_GIT_TOKEN was refused/,
      );
      expect((refused as Error).message).not.toContain('wrong-token-value-123');
    });
  });

  describe('named tokens (NIGHTSHIFT_GIT_TOKENS, repo.credential)', () => {
    it("uses the repository's named credential with its own user name, and names an unknown one", async () => {
      const { url, path: bare } = await server.createRepo('other', 'site');
      const auth = createGitAuth(
        {
          ...base,
          tokens: value(
            JSON.stringify({ acme: 'not-this-one', other: { token: `named-${token}`, username: 'oauth2' } }),
          ),
        },
        { secrets: secretsOf(), clock: fixedClock({ now: 0 }) },
      );
      const checkout = checkoutFor(url, { credential: 'other' });
      const ws = await prepareWorkspace(join(root, 'named-home'), 'site', checkout, null, 'r', auth);
      const sha = await commitIn(ws.dir, 'named.txt');
      await pushBranch(ws.dir, remoteOf(checkout.repo!, auth), 'main');
      expect(await sh(bare, 'rev-parse', 'main')).toBe(sha);
      await expect(
        prepareWorkspace(
          join(root, 'named-home2'),
          'site',
          checkoutFor(url, { credential: 'nobody' }),
          null,
          'r',
          auth,
        ),
      ).rejects.toThrow(
        /credential "nobody" is not in NIGHTSHIFT_GIT_TOKENS \(its value\); it has "acme", "other"/,
      );
    });
  });

  describe('a GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY)', () => {
    it('mints a token for the one repository with contents: write, caches it until shortly before it expires, and the git server takes it', async () => {
      const { privateKeyPem, publicKey } = makeAppKey();
      const clock = { now: Date.parse('2026-12-01T10:00:00Z') };
      const standin = await startGitHubStandin({
        appId: '4242',
        publicKey,
        installations: [
          {
            id: 77,
            owner: 'acme',
            repos: ['app-repo', 'sibling'],
            permissions: { contents: 'write', pull_requests: 'write' },
          },
        ],
        now: () => clock.now,
      });
      try {
        appCheck = (password, repoPath) => {
          const [owner = '', name = ''] = repoPath.replace(/\.git$/, '').split('/');
          return standin.accepts(password, owner, name);
        };
        const { url, path: bare } = await server.createRepo('acme', 'app-repo');
        const auth = createGitAuth(
          { ...base, apiUrl: standin.url, app: { id: '4242', privateKey: value(privateKeyPem) } },
          { secrets: secretsOf(fixedClock(clock)), clock: fixedClock(clock) },
        );
        // A remote on the git server's host, not the API's: picked by name.
        const checkout = checkoutFor(url, { credential: 'github-app' });
        const ws = await prepareWorkspace(join(root, 'app-home'), 'app', checkout, null, 'r', auth);
        const sha = await commitIn(ws.dir, 'app.txt');
        await pushBranch(ws.dir, remoteOf(checkout.repo!, auth), 'main');
        expect(await sh(bare, 'rev-parse', 'main')).toBe(sha);
        expect(standin.minted).toHaveLength(1);
        expect(standin.minted[0]).toMatchObject({
          installationId: 77,
          repos: ['app-repo'],
          permissions: { contents: 'write' },
        });
        const mint = standin.requests.find((r) => r.method === 'POST');
        expect(mint?.body).toEqual({ repositories: ['app-repo'], permissions: { contents: 'write' } });
        // Just before the reuse margin: the same token; past it: a new one (the old one still lives).
        clock.now = standin.minted[0]!.expiresAtMs - GITHUB_APP_TOKEN_REUSE_MARGIN_MS - 1;
        await prepareWorkspace(join(root, 'app-home'), 'app', checkout, null, 'r2', auth);
        expect(standin.minted).toHaveLength(1);
        clock.now += 2;
        await prepareWorkspace(join(root, 'app-home'), 'app', checkout, null, 'r3', auth);
        expect(standin.minted).toHaveLength(2);
        expect(await filesHolding(ws.dir, standin.minted[0]!.token)).toEqual([]);
        expect(await filesHolding(ws.dir, standin.minted[1]!.token)).toEqual([]);
        // Not installed there: a clear error naming the App.
        const { url: foreign } = await server.createRepo('stranger', 'theirs');
        await expect(
          prepareWorkspace(
            join(root, 'app-home3'),
            'x',
            checkoutFor(foreign, { credential: 'github-app' }),
            null,
            'r',
            auth,
          ),
        ).rejects.toThrow(
          /the GitHub App 4242: GET \/repos\/stranger\/theirs\/installation answered HTTP 404: Not Found \(the App is not installed on that repository\)/,
        );
        // A key that is not the App's: GitHub refuses the JWT.
        const wrongKey = createGitAuth(
          {
            ...base,
            apiUrl: standin.url,
            app: { id: '4242', privateKey: value(makeAppKey().privateKeyPem) },
          },
          { secrets: secretsOf(fixedClock(clock)), clock: fixedClock(clock) },
        );
        await expect(
          prepareWorkspace(join(root, 'app-home4'), 'x', checkout, null, 'r', wrongKey),
        ).rejects.toThrow(/answered HTTP 401.*check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY/);
      } finally {
        appCheck = null;
        await standin.close();
      }
    });

    it("is picked without a name for remotes on the App's git host, the token otherwise", async () => {
      const seen: string[] = [];
      const auth: GitAuth = createGitAuth(
        { ...base, token: value('tok'), app: { id: '1', privateKey: value('k') } },
        {
          secrets: secretsOf(),
          clock: fixedClock({ now: 0 }),
          fetch: (async (input: string | URL | Request) => {
            seen.push(String(input));
            return new Response(JSON.stringify({ message: 'no' }), { status: 500 });
          }) as typeof fetch,
        },
      );
      // The key 'k' is no PEM: the App was chosen, and says so.
      await expect(auth.forRemote('https://github.com/acme/blog.git', undefined)).rejects.toThrow(
        /GITHUB_APP_PRIVATE_KEY is not a PEM/,
      );
      expect(await auth.forRemote('https://gitlab.example.com/acme/blog.git', undefined)).toEqual({
        credential: { username: 'x-access-token', password: 'tok' },
        source: 'NIGHTSHIFT_GIT_TOKEN',
      });
      expect(await auth.forRemote('git@github.com:acme/blog.git', undefined)).toEqual({
        credential: null,
        source: "the VM user's own git and SSH setup",
      });
    });
  });

  describe('Secret Manager (sm:// references)', () => {
    it('reads the token at each use over REST with the metadata token, so a rotated secret takes effect at the next operation', async () => {
      const sm = await startSecretManagerStandin();
      try {
        const project = 'creds-test';
        const clock = fixedClock({ now: Date.now() });
        const secrets = createSecretReader({ metadataHost: sm.metadataHost, apiUrl: sm.apiUrl, clock });
        const auth = createGitAuth(
          { ...base, token: parseSecretValue('sm://nightshift-git-token', project) as SecretValue },
          { secrets, clock },
        );
        const { url, path: bare } = await server.createRepo('acme', 'rotating');
        // Empty (as terraform makes it): no credential, and the error says the secret has no value yet.
        sm.createSecret(project, 'nightshift-git-token');
        await expect(
          prepareWorkspace(join(root, 'sm-home'), 'rot', checkoutFor(url), null, 'r', auth),
        ).rejects.toThrow(
          /none for it \(no credential \(NIGHTSHIFT_GIT_TOKEN: Secret Manager projects\/creds-test\/secrets\/nightshift-git-token has no value yet\)/,
        );
        sm.addVersion(project, 'nightshift-git-token', `${token}\n`);
        const ws = await prepareWorkspace(join(root, 'sm-home'), 'rot', checkoutFor(url), null, 'r', auth);
        // Rotation: the server now takes only the new token; version 1 is disabled.
        const rotated = randomToken();
        accepted.add(rotated);
        accepted.delete(token);
        sm.addVersion(project, 'nightshift-git-token', rotated);
        sm.disable(project, 'nightshift-git-token', 1);
        const sha = await commitIn(ws.dir, 'rotated.txt');
        await pushBranch(ws.dir, remoteOf(checkoutFor(url).repo!, auth), 'main');
        expect(await sh(bare, 'rev-parse', 'main')).toBe(sha);
        expect(server.requests.at(-1)).toMatchObject({ password: rotated, status: 200 });
        // One metadata token for every read while it lives.
        expect(sm.requests.filter((r) => r.what === 'token')).toHaveLength(1);
        expect(sm.requests.filter((r) => r.what.endsWith('versions/latest')).length).toBeGreaterThanOrEqual(
          3,
        );
        accepted.add(token);
      } finally {
        await sm.close();
      }
    });
  });

  describe('hardening against the workspace config a worker writes', () => {
    it("runs no worker-written hook, fsmonitor or credential helper, and pushes to the checkout's URL whatever origin says", async () => {
      const { url, path: bare } = await server.createRepo('acme', 'hostile');
      const auth = createGitAuth(
        { ...base, token: value(token) },
        { secrets: secretsOf(), clock: fixedClock({ now: 0 }) },
      );
      const checkout = checkoutFor(url);
      const ws = await prepareWorkspace(join(root, 'hostile-home'), 'hostile', checkout, null, 'r', auth);
      // The worker's commit first: its own git runs its own hooks, which is its business.
      const sha = await commitIn(ws.dir, 'hostile.txt');
      const marks = join(root, 'hostile-marks');
      const evil = join(root, 'evil.sh');
      await writeFile(evil, `#!/bin/sh\necho "$0 $*" >> ${marks}\nenv >> ${marks}\n`);
      await chmod(evil, 0o755);
      await writeFile(join(ws.dir, '.git', 'hooks', 'pre-push'), `#!/bin/sh\n${evil} pre-push\n`);
      await chmod(join(ws.dir, '.git', 'hooks', 'pre-push'), 0o755);
      await writeFile(join(ws.dir, '.git', 'hooks', 'reference-transaction'), `#!/bin/sh\n${evil} ref\n`);
      await chmod(join(ws.dir, '.git', 'hooks', 'reference-transaction'), 0o755);
      await sh(ws.dir, 'config', 'core.fsmonitor', evil);
      // A decoy origin: a push there would go to another repository.
      const decoy = await server.createRepo('acme', 'decoy');
      await sh(ws.dir, 'remote', 'set-url', 'origin', decoy.url);
      await pushBranch(ws.dir, remoteOf(checkout.repo!, auth), 'main');
      expect(await sh(bare, 'rev-parse', 'main')).toBe(sha);
      expect(await sh(decoy.path, 'rev-parse', 'main')).not.toBe(sha);
      // The fetch of the next prepare (status, checkout, merge) runs nothing of the worker's either.
      await prepareWorkspace(join(root, 'hostile-home'), 'hostile', checkout, null, 'r2', auth);
      expect(existsSync(marks)).toBe(false);
    });

    it("runs no filter driver of the workspace's config in the agent's own add, checkout and merge", async () => {
      const { url } = await server.createRepo('acme', 'filtered');
      const auth = createGitAuth(
        { ...base, token: value(token) },
        { secrets: secretsOf(), clock: fixedClock({ now: 0 }) },
      );
      const checkout = checkoutFor(url);
      const ws = await prepareWorkspace(join(root, 'filter-home'), 'filtered', checkout, null, 'r', auth);
      const marks = join(root, 'filter-marks');
      // As a worker could: a driver in the workspace's config (one through an included file too) and the
      // attributes that name them, left uncommitted for the agent's wip commit.
      const included = join(root, 'filter-include');
      await writeFile(included, `[filter "inc"]\n\tclean = touch ${marks}-inc; cat\n`);
      await sh(ws.dir, 'config', 'include.path', included);
      await sh(ws.dir, 'config', 'filter.evil.clean', `touch ${marks}-clean; cat`);
      await sh(ws.dir, 'config', 'filter.evil.smudge', `touch ${marks}-smudge; cat`);
      await sh(ws.dir, 'config', 'filter.evil.process', `touch ${marks}-process`);
      await writeFile(join(ws.dir, '.gitattributes'), '* filter=evil\n*.txt filter=inc\n');
      await writeFile(join(ws.dir, 'notes.txt'), 'left over\n');
      await writeFile(join(ws.dir, 'PROGRESS.md'), 'changed\n');
      const kept = await keepUncommitted(ws.dir, 'nightshift/wip/r', 'wip');
      expect(kept).toMatch(/^[0-9a-f]{40}$/);
      expect(await sh(ws.dir, 'show', 'nightshift/wip/r:notes.txt')).toBe('left over');
      // The next prepare keeps a deletion the same way (add, reset --hard: smudge), then fetches and merges.
      await rm(join(ws.dir, 'PROGRESS.md'));
      await sh(ws.dir, 'config', '--unset', 'include.path');
      const next = await prepareWorkspace(join(root, 'filter-home'), 'filtered', checkout, null, 'r2', auth);
      expect(next.notes[0]).toMatch(/kept as one commit on nightshift\/wip\//);
      expect(await readFile(join(ws.dir, 'PROGRESS.md'), 'utf8')).toBe('# Progress\n');
      for (const suffix of ['-inc', '-clean', '-smudge', '-process'])
        expect(existsSync(`${marks}${suffix}`), suffix).toBe(false);
      expect(
        filterOverridesOf('local\tfilter.evil.clean\nglobal\tfilter.lfs.clean\nlocal\tfilter.a=b.smudge'),
      ).toEqual({
        GIT_CONFIG_COUNT: '8',
        GIT_CONFIG_KEY_0: 'filter.evil.clean',
        GIT_CONFIG_VALUE_0: '',
        GIT_CONFIG_KEY_1: 'filter.evil.smudge',
        GIT_CONFIG_VALUE_1: '',
        GIT_CONFIG_KEY_2: 'filter.evil.process',
        GIT_CONFIG_VALUE_2: '',
        GIT_CONFIG_KEY_3: 'filter.evil.required',
        GIT_CONFIG_VALUE_3: 'false',
        GIT_CONFIG_KEY_4: 'filter.a=b.clean',
        GIT_CONFIG_VALUE_4: '',
        GIT_CONFIG_KEY_5: 'filter.a=b.smudge',
        GIT_CONFIG_VALUE_5: '',
        GIT_CONFIG_KEY_6: 'filter.a=b.process',
        GIT_CONFIG_VALUE_6: '',
        GIT_CONFIG_KEY_7: 'filter.a=b.required',
        GIT_CONFIG_VALUE_7: 'false',
      });
    });

    it('hands no credential to git while the config could redirect or read it', async () => {
      const { url } = await server.createRepo('acme', 'redirected');
      const auth = createGitAuth(
        { ...base, token: value(token) },
        { secrets: secretsOf(), clock: fixedClock({ now: 0 }) },
      );
      const checkout = checkoutFor(url);
      const ws = await prepareWorkspace(join(root, 'redirect-home'), 'redirected', checkout, null, 'r', auth);
      const marks = join(root, 'helper-marks');
      await sh(ws.dir, 'config', 'credential.helper', `!f() { cat >> ${marks}; }; f`);
      await sh(ws.dir, 'config', `url.http://127.0.0.1:1/.insteadOf`, url);
      await commitIn(ws.dir, 'x.txt');
      await expect(pushBranch(ws.dir, remoteOf(checkout.repo!, auth), 'main')).rejects.toThrow(
        /git push of http:\/\/127\.0\.0\.1:\d+\/acme\/redirected\.git refused: the workspace's \.git\/config sets credential\.helper, url\.http:\/\/127\.0\.0\.1:1\/\.insteadof, which could send the credential elsewhere/,
      );
      // An agent without a credential for it: the worker's helper is never asked either.
      await sh(ws.dir, 'config', '--remove-section', 'url.http://127.0.0.1:1/');
      const none = createGitAuth(base, { secrets: secretsOf(), clock: fixedClock({ now: 0 }) });
      await expect(
        prepareWorkspace(join(root, 'redirect-home'), 'redirected', checkout, null, 'r2', none),
      ).rejects.toThrow(
        /git fetch of .* failed: the remote asks for a credential and this agent has none for it/,
      );
      expect(existsSync(marks)).toBe(false);
      // Once the worker's settings are gone, the push goes through.
      await sh(ws.dir, 'config', '--unset', 'credential.helper');
      await pushBranch(ws.dir, remoteOf(checkout.repo!, auth), 'main');
    });
  });
});
