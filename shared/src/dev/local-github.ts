// The local stack's GitHub: the API stand-in with an App made for it (key pair, one installation), two people with tokens, and a private git server holding the App's repository.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type GitHttpServer, randomToken, startGitHttpServer } from './git-http-server.js';
import { type GitHubStandin, makeAppKey, type StandinUser, startGitHubStandin } from './github-standin.js';

const exec = promisify(execFile);

export const LOCAL_GITHUB = {
  appId: '1',
  installationId: 1,
  owner: 'acme',
  repo: 'blog',
  /** The stand-in App's grants: what the agent and the functions ask for, with the CI reads. */
  permissions: {
    contents: 'write',
    issues: 'write',
    pull_requests: 'write',
    checks: 'read',
    actions: 'read',
  },
} as const;

export interface LocalGitHub {
  standin: GitHubStandin;
  git: GitHttpServer;
  /** `acme/blog` */
  repo: string;
  /** Its clone URL on the git server (the worker's `repo.url`). */
  repoUrl: string;
  installationId: number;
  /** The repository's owner (OWNER) and a stranger (NONE), each with a personal access token. */
  owner: StandinUser;
  stranger: StandinUser;
  /** What the functions and the agent are given: the App and where its API is. */
  env: { GITHUB_API_URL: string; GITHUB_APP_ID: string; GITHUB_APP_PRIVATE_KEY: string };
  close(): Promise<void>;
}

/** Starts the stand-in and the git server, the latter serving `dir/served`; both on loopback. */
export async function startLocalGitHub(dir: string): Promise<LocalGitHub> {
  const { privateKeyPem, publicKey } = makeAppKey();
  const root = join(dir, 'served');
  const owner: StandinUser = { login: 'octocat', token: randomToken('ghp_'), association: 'OWNER' };
  const stranger: StandinUser = { login: 'stranger', token: randomToken('ghp_'), association: 'NONE' };
  const standin = await startGitHubStandin({
    appId: LOCAL_GITHUB.appId,
    publicKey,
    installations: [
      {
        id: LOCAL_GITHUB.installationId,
        owner: LOCAL_GITHUB.owner,
        repos: [LOCAL_GITHUB.repo],
        permissions: { ...LOCAL_GITHUB.permissions },
      },
    ],
    users: [owner, stranger],
    // Pull requests are checked against the branches the git server really holds.
    resolveBranch: async (repo, branch) => {
      const { stdout } = await exec('git', [
        `--git-dir=${join(root, `${repo}.git`)}`,
        'rev-parse',
        '--verify',
        '--quiet',
        `refs/heads/${branch}`,
      ]).catch(() => ({ stdout: '' }));
      return stdout.trim() || null;
    },
  });
  const git = await startGitHttpServer({
    root,
    check: (user, password, repoPath) => {
      const [o = '', name = ''] = repoPath.replace(/\.git$/, '').split('/');
      return standin.accepts(password, o, name) || (user === owner.login && password === owner.token);
    },
  });
  const { url } = await git.createRepo(LOCAL_GITHUB.owner, LOCAL_GITHUB.repo);
  return {
    standin,
    git,
    repo: `${LOCAL_GITHUB.owner}/${LOCAL_GITHUB.repo}`,
    repoUrl: url,
    installationId: LOCAL_GITHUB.installationId,
    owner,
    stranger,
    env: {
      GITHUB_API_URL: standin.url,
      GITHUB_APP_ID: LOCAL_GITHUB.appId,
      GITHUB_APP_PRIVATE_KEY: privateKeyPem,
    },
    close: async () => {
      await git.close();
      await standin.close();
    },
  };
}
