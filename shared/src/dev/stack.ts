// `npm start`: the local stack in the foreground, with what to call printed, until Ctrl-C.
import { gcloudAvailable, MISSING_SDK_MESSAGE } from './emulators.js';
import { LOCAL_VM, startStack } from './local-stack.js';

/** How long `npm start` waits before starting a dead agent again (the VM's unit: RestartSec=5). */
const AGENT_RESTART_MS = 5_000;

async function main(): Promise<void> {
  if (!gcloudAvailable()) {
    process.stderr.write(`npm start: ${MISSING_SDK_MESSAGE}.\n`);
    process.exit(1);
  }
  process.stdout.write(
    'Starting the Pub/Sub and Firestore emulators, the functions and a stand-in VM for the agent…\n',
  );
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  const stop = async (code: number) => {
    await stack?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  // A GitHub of its own (API stand-in, App, git server) unless one is configured: then that one is used.
  const github = !(process.env.GITHUB_APP_ID || process.env.GITHUB_TOKEN || process.env.GITHUB_API_URL);
  stack = await startStack({
    env: process.env,
    vm: true,
    github,
    // Like the VM's systemd unit (RestartSec=5): a dead agent comes back and takes charge of its runs.
    restartAgentMs: AGENT_RESTART_MS,
    onChildExit: (name, code, signal) => {
      process.stderr.write(`[${name}] exited (${signal ?? code}); stopping the stack\n`);
      void stop(code || 1);
    },
  });
  const { env, emulators, url, token, compute } = stack;
  const gh = stack.github;
  process.stdout.write(
    [
      '',
      'nightshift local stack',
      `  API          ${url}/v1  (docs: ${url}/docs, dashboard: ${url}/)`,
      `  token        ${token}`,
      `  webhook      POST ${url}/github/webhook  (secret: ${env.GITHUB_WEBHOOK_SECRET})`,
      `  scheduler    POST ${url}/scheduler/tick`,
      `  Pub/Sub      ${emulators.pubsubHost}   Firestore ${emulators.firestoreHost}   project ${env.GOOGLE_CLOUD_PROJECT}`,
      `  agent home   ${env.NIGHTSHIFT_HOME}   (tmux -L nightshift ls; tmux -L nightshift attach -t <session>)`,
      `  VM           ${LOCAL_VM.zone}/${LOCAL_VM.name} on a Compute stand-in (${compute?.url}): stopped until a run`,
      '               waits; GET /v1/vms shows it, and its agent starts and stops with it',
      `  worker       ${env.NIGHTSHIFT_WORKER_COMMAND || 'claude'}`,
      `  git          ${gitCredentialsOf(env)}`,
      ...(gh
        ? [
            `  GitHub       a stand-in at ${gh.standin.url} with the App ${env.GITHUB_APP_ID} installed on ${gh.repo}`,
            `               (${gh.repoUrl}); people: ${gh.owner.login} (OWNER), ${gh.stranger.login} (NONE)`,
            '               try a follow-up: README, "Try a follow-up locally" (npm run dev:webhook)',
          ]
        : []),
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

/** Which git credentials the agent got from the environment (names only, never a value). */
function gitCredentialsOf(env: Record<string, string | undefined>): string {
  const given = [
    env.NIGHTSHIFT_GIT_TOKEN ? 'NIGHTSHIFT_GIT_TOKEN' : '',
    env.NIGHTSHIFT_GIT_TOKENS ? 'NIGHTSHIFT_GIT_TOKENS' : '',
    env.GITHUB_APP_ID
      ? `the GitHub App ${env.GITHUB_APP_ID} (${env.GITHUB_API_URL || 'https://api.github.com'})`
      : '',
  ].filter((s) => s !== '');
  return given.length > 0
    ? `credentials: ${given.join(', ')} (README, Private repositories)`
    : 'no credential: your own git setup (README, Private repositories)';
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
