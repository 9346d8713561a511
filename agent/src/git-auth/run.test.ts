// Credentials through a real agent: runs on private repositories clone, commit and push with a token and with the GitHub App, and the secret is found nowhere it must not be.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TERMINAL_STATUSES } from '@nightshift/shared';
import {
  GIT_HTTP_BACKEND,
  type GitHttpServer,
  type GitHubStandin,
  makeAppKey,
  randomToken,
  startGitHttpServer,
  startGitHubStandin,
} from '@nightshift/shared/dev';
import { describeEmulators, tempDir } from '@nightshift/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { WORKER_ENV_NAMES, workerEnvOf } from '../runner/env.mjs';
import { type AgentTest, git, setupAgentTest } from '../testing/harness.js';
import { createGitAuth } from './credentials.js';
import { createSecretReader } from './secrets.js';

const exec = promisify(execFile);

/** Every file under `dir` holding `needle`. */
async function filesHolding(dir: string, needle: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const { stdout } = await exec('grep', ['-rlF', '--', needle, dir]).catch(
    (e: { code?: number; stdout?: string }) => {
      if (e.code === 1) return { stdout: '' };
      throw e;
    },
  );
  return stdout.split('\n').filter((l) => l !== '');
}

describeEmulators('Credentials', () => {
  const token = randomToken();
  const { privateKeyPem, publicKey } = makeAppKey();
  const logLines: string[] = [];
  let t: AgentTest;
  let server: GitHttpServer;
  let standin: GitHubStandin;
  const saved = process.env.NIGHTSHIFT_GIT_TOKEN;

  beforeAll(async () => {
    if (!existsSync(GIT_HTTP_BACKEND))
      throw new Error(`these tests need git http-backend (${GIT_HTTP_BACKEND})`);
    t = await setupAgentTest();
    standin = await startGitHubStandin({
      appId: '31337',
      publicKey,
      installations: [{ id: 9, owner: 'acme', repos: ['by-app'], permissions: { contents: 'write' } }],
    });
    server = await startGitHttpServer({
      root: join(await tempDir('nightshift-private-'), 'served'),
      check: (user, password, repoPath) => {
        const [owner = '', name = ''] = repoPath.replace(/\.git$/, '').split('/');
        if (name === 'locked') return false;
        return (user === 'x-access-token' && password === token) || standin.accepts(password, owner, name);
      },
    });
    // The agent's own environment holds the token too, as on `npm start`: the worker must not inherit it.
    process.env.NIGHTSHIFT_GIT_TOKEN = token;
    const clock = { now: () => new Date() };
    await t.startAgent({
      logger: createLogger({ agent: 'agent-test' }, (line) => logLines.push(line), 'debug'),
      gitAuth: createGitAuth(
        {
          token: { kind: 'value', value: token },
          username: 'x-access-token',
          app: { id: '31337', privateKey: { kind: 'value', value: privateKeyPem } },
          apiUrl: standin.url,
        },
        { secrets: createSecretReader({ clock }), clock },
      ),
    });
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.NIGHTSHIFT_GIT_TOKEN;
    else process.env.NIGHTSHIFT_GIT_TOKEN = saved;
    await server?.close();
    await standin?.close();
  });

  it('a run on a private repository clones, commits and pushes with NIGHTSHIFT_GIT_TOKEN, and the token is written nowhere', async () => {
    const { url, path: bare } = await server.createRepo('acme', 'private');
    await t.createWorker('priv', { repo: { url, branch: 'main', push: true } });
    const run = await t.createRun('priv');
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, TERMINAL_STATUSES, 40_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(done.commits.length).toBeGreaterThan(0);
    expect(await git(bare, 'rev-parse', 'main')).toBe(done.commits.at(-1));
    expect(server.requests.some((r) => r.password === token && r.path.endsWith('git-receive-pack'))).toBe(
      true,
    );

    const workspace = join(t.home, 'workspaces', 'priv');
    expect(await git(workspace, 'remote', 'get-url', 'origin')).toBe(url);
    // Not in the agent's home (workspaces with their .git, run directories), the worker's recorded
    // environment and files, a log line or a Firestore document.
    expect(await filesHolding(t.home, token)).toEqual([]);
    expect(await filesHolding(t.fakeDir, token)).toEqual([]);
    expect(existsSync(join(t.fakeDir, `${run.id}.env.json`))).toBe(true);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((l) => l.includes(token))).toEqual([]);
    const docs = [
      (await t.env.cols.runs.doc(run.id).get()).data(),
      ...(await t.env.cols.runEvents(run.id).get()).docs.map((d) => d.data()),
      (await t.env.cols.workers.doc('priv').get()).data(),
      (await t.env.db.collection('agents').doc('agent-test').get()).data(),
    ];
    expect(JSON.stringify(docs)).not.toContain(token);
  });

  it("a run with the GitHub App pushes its uncommitted work's branch with an installation token for that repository alone", async () => {
    const { url, path: bare } = await server.createRepo('acme', 'by-app');
    await t.createWorker('app', { repo: { url, branch: 'main', push: true, credential: 'github-app' } });
    const run = await t.createRun('app');
    await t.scenario(run.id, 'dirty');
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, TERMINAL_STATUSES, 40_000);
    expect(done.status).toBe('succeeded');
    expect(done.wipBranch).toBe(`nightshift/wip/${run.id}`);
    expect(await git(bare, 'rev-parse', `refs/heads/nightshift/wip/${run.id}`)).toMatch(/^[0-9a-f]{40}$/);
    expect(standin.minted.length).toBeGreaterThanOrEqual(1);
    expect(
      standin.minted.every((m) => m.repos.join() === 'by-app' && m.permissions.contents === 'write'),
    ).toBe(true);
    const minted = standin.minted[0]?.token as string;
    expect(await filesHolding(t.home, minted)).toEqual([]);
    expect(logLines.filter((l) => l.includes(minted))).toEqual([]);
    expect(JSON.stringify((await t.env.cols.runs.doc(run.id).get()).data())).not.toContain(minted);
  });

  it('a refused credential fails the run with the remote and the source named, never the secret', async () => {
    const { url } = await server.createRepo('acme', 'locked');
    await t.createWorker('locked', { repo: { url, branch: 'main', push: false } });
    const run = await t.createRun('locked');
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, TERMINAL_STATUSES, 40_000);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(
      new RegExp(
        `^workspace: git clone of ${url.replace(/\./g, '\\.')} failed: authentication with NIGHTSHIFT_GIT_TOKEN was refused`,
      ),
    );
    expect(done.error).not.toContain(token);
  });
});

describe('Credentials: the worker environment', () => {
  it('is an allow-list that holds none of the git credential variables', () => {
    const inherited = {
      PATH: '/usr/bin',
      NIGHTSHIFT_GIT_TOKEN: 'a',
      NIGHTSHIFT_GIT_TOKENS: '{"x":"b"}',
      GITHUB_APP_ID: '1',
      GITHUB_APP_PRIVATE_KEY: 'c',
      NIGHTSHIFT_GIT_AUTH_PASSWORD: 'd',
    };
    expect(workerEnvOf(inherited, {})).toEqual({ PATH: '/usr/bin' });
    for (const name of Object.keys(inherited).filter((n) => n !== 'PATH'))
      expect(WORKER_ENV_NAMES).not.toContain(name);
  });
});
