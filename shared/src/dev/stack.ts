// `npm start`: the local stack. Emulators, topology, then the functions' local server and one agent as children.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPubSub, ensureTopology } from '../pubsub.js';
import { gcloudAvailable, MISSING_SDK_MESSAGE, startEmulators } from './emulators.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The deployables the stack runs, each a TypeScript entry run with tsx; missing ones are skipped. */
const CHILDREN = [
  { name: 'functions', entry: join(root, 'functions/src/local.ts') },
  { name: 'agent', entry: join(root, 'agent/src/main.ts') },
];

function prefixLines(name: string, stream: NodeJS.ReadableStream, out: NodeJS.WritableStream): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) out.write(`[${name}] ${line}\n`);
  });
}

async function main(): Promise<void> {
  if (!gcloudAvailable()) {
    process.stderr.write(`npm start: ${MISSING_SDK_MESSAGE}.\n`);
    process.exit(1);
  }
  const given = process.env;
  const env: Record<string, string | undefined> = {
    ...given,
    GOOGLE_CLOUD_PROJECT: given.GOOGLE_CLOUD_PROJECT || 'nightshift-local',
    NIGHTSHIFT_API_TOKENS: given.NIGHTSHIFT_API_TOKENS || `ns_${randomBytes(24).toString('hex')}`,
    GITHUB_WEBHOOK_SECRET: given.GITHUB_WEBHOOK_SECRET || `whsec_${randomBytes(24).toString('hex')}`,
    NIGHTSHIFT_HOME: given.NIGHTSHIFT_HOME || join(root, '.nightshift'),
    PORT: given.PORT || '8080',
    METADATA_SERVER_DETECTION: 'none',
  };

  // No metadata server off Google Cloud: without this, Google's auth library probes for one and warns.
  process.env.METADATA_SERVER_DETECTION = 'none';
  process.stdout.write('Starting the Pub/Sub and Firestore emulators…\n');
  const emulators = await startEmulators();
  env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  // ensureTopology's client reads the emulator host from the environment, like every Google client.
  process.env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  const pubsub = createPubSub(env.GOOGLE_CLOUD_PROJECT as string);
  await ensureTopology(pubsub);
  await pubsub.close();

  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())),
    );
    await emulators.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  for (const { name, entry } of CHILDREN) {
    if (!existsSync(entry)) continue;
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prefixLines(name, child.stdout, process.stdout);
    prefixLines(name, child.stderr, process.stderr);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`[${name}] exited (${signal ?? code}); stopping the stack\n`);
      void stop(code || 1);
    });
    children.push(child);
  }

  process.stdout.write(
    [
      '',
      'nightshift local stack',
      `  API          http://127.0.0.1:${env.PORT}/v1  (docs: /docs, dashboard: /)`,
      `  token        ${env.NIGHTSHIFT_API_TOKENS?.split(',')[0]}`,
      `  webhook      POST http://127.0.0.1:${env.PORT}/github/webhook  (secret: ${env.GITHUB_WEBHOOK_SECRET})`,
      `  scheduler    POST http://127.0.0.1:${env.PORT}/scheduler/tick`,
      `  Pub/Sub      ${emulators.pubsubHost}   Firestore ${emulators.firestoreHost}   project ${env.GOOGLE_CLOUD_PROJECT}`,
      `  agent home   ${env.NIGHTSHIFT_HOME}   (tmux -L nightshift ls)`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
