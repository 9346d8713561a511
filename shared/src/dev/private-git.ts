// `npx tsx shared/src/dev/private-git.ts`: a private git server and a GitHub App stand-in on loopback, to try private repositories with `npm start`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomToken, startGitHttpServer } from './git-http-server.js';
import { makeAppKey, startGitHubStandin } from './github-standin.js';
import { REPO_ROOT } from './local-stack.js';

const APP_ID = '1';

async function main(): Promise<void> {
  const port = Number(process.env.PRIVATE_GIT_PORT || 8095);
  const dir = join(REPO_ROOT, '.nightshift', 'private-git');
  await mkdir(dir, { recursive: true });
  const token = process.env.NIGHTSHIFT_GIT_TOKEN || randomToken('ns_git_');
  const { privateKeyPem, publicKey } = makeAppKey();
  const keyFile = join(dir, 'app-key.pem');
  await writeFile(keyFile, privateKeyPem, { mode: 0o600 });
  const standin = await startGitHubStandin({
    appId: APP_ID,
    publicKey,
    installations: [
      { id: 1, owner: 'acme', repos: ['blog'], permissions: { contents: 'write', pull_requests: 'write' } },
    ],
    port: port + 1,
  });
  const server = await startGitHttpServer({
    root: join(dir, `served-${Date.now()}`),
    port,
    check: (user, password, repoPath) => {
      const [owner = '', name = ''] = repoPath.replace(/\.git$/, '').split('/');
      return (user === 'x-access-token' && password === token) || standin.accepts(password, owner, name);
    },
  });
  const { url } = await server.createRepo('acme', 'blog');
  process.stdout.write(
    [
      `private repository  ${url}   (HTTP Basic only: git clone without a credential is refused)`,
      '',
      'the token source:',
      `  NIGHTSHIFT_GIT_TOKEN=${token} npm start`,
      'the GitHub App source (this stand-in mints installation tokens the server takes):',
      `  GITHUB_APP_ID=${APP_ID} GITHUB_APP_PRIVATE_KEY="$(cat ${keyFile})" GITHUB_API_URL=${standin.url} npm start`,
      '  and give the worker "credential": "github-app" (the repository is not on the API\'s host)',
      '',
      'Ctrl-C stops it; every request is printed here.',
      '',
    ].join('\n'),
  );
  let shown = 0;
  setInterval(() => {
    for (const r of server.requests.slice(shown))
      process.stdout.write(`[git] ${r.method} ${r.path} ${r.status}${r.user ? ` (as ${r.user})` : ''}\n`);
    shown = server.requests.length;
  }, 500);
  const stop = async () => {
    await server.close();
    await standin.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`private-git: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
