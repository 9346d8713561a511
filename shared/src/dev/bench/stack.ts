// The bench's stack: the emulators, the api and reactor functions and the agent, each run from the build's bundles by plain node.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPubSub, ensureTopology } from '../../pubsub.js';
import { build } from '../build.js';
import { type Emulators, freePort, startEmulators } from '../emulators.js';
import { REPO_ROOT } from '../local-stack.js';

export const FAKE_WORKER = join(REPO_ROOT, 'agent/src/testing/fake-claude.mjs');
export const COUNT_WRITES = join(REPO_ROOT, 'shared/src/dev/bench/count-writes.mjs');
export const FUNCTIONS_FRAMEWORK = join(
  REPO_ROOT,
  'node_modules/@google-cloud/functions-framework/build/src/main.js',
);
const READY_TIMEOUT_MS = 60_000;

export interface BenchStack {
  root: string;
  env: Record<string, string>;
  emulators: Emulators;
  url: string;
  token: string;
  /** Where the stand-in worker writes its files (scenarios, markers). */
  fakeDir: string;
  /** NIGHTSHIFT_HOME of the agent: runs/<id> are the run directories. */
  home: string;
  tmuxSocket: string;
  writesLog: string;
  agent: ChildProcess;
  functionsDir: string;
  /** Sets the scenario every run gets unless it has its own file (`bench <ms> [rate]`). */
  setDefaultScenario(line: string): Promise<void>;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  root: string;
  capacity: number;
  /** Extra node flags of the agent (V8 flags under test). */
  agentNodeFlags: string[];
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));

/**
 * The worker command: a shell wrapper that hands the stand-in its folder (the runner passes a worker only
 * an allow-list of variables) and the default scenario, then execs it, so its pid and start are the worker's.
 */
async function writeWorkerWrapper(root: string, fakeDir: string): Promise<string> {
  const path = join(root, 'worker.sh');
  await writeFile(
    path,
    [
      '#!/bin/sh',
      `d='${fakeDir}'`,
      // Builtins only: no fork before the worker starts.
      'if [ ! -f "$d/$NIGHTSHIFT_RUN_ID.scenario" ] && [ -f "$d/default.scenario" ]; then',
      '  read -r s < "$d/default.scenario"; echo "$s" > "$d/$NIGHTSHIFT_RUN_ID.scenario"',
      'fi',
      `FAKE_CLAUDE_DIR="$d" exec '${process.execPath}' '${FAKE_WORKER}' "$@"`,
      '',
    ].join('\n'),
  );
  await chmod(path, 0o755);
  return path;
}

export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const { root } = options;
  const built = await build();
  const fakeDir = join(root, 'fake');
  const home = join(root, 'home');
  await mkdir(fakeDir, { recursive: true });
  const writesLog = join(root, 'writes.jsonl');
  const emulators = await startEmulators();
  const project = 'nightshift-bench';
  const token = `ns_${randomBytes(24).toString('hex')}`;
  const [apiPort, reactorPort] = [await freePort(), await freePort()];
  const tmuxSocket = `nightshift-bench-${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    GOOGLE_CLOUD_PROJECT: project,
    PUBSUB_EMULATOR_HOST: emulators.pubsubHost,
    FIRESTORE_EMULATOR_HOST: emulators.firestoreHost,
    METADATA_SERVER_DETECTION: 'none',
    NIGHTSHIFT_LOG_FORMAT: 'json',
    BENCH_WRITES_LOG: writesLog,
  };
  // The bench's own clients (floor, topology) find the emulators as every Google client does.
  Object.assign(process.env, {
    PUBSUB_EMULATOR_HOST: emulators.pubsubHost,
    FIRESTORE_EMULATOR_HOST: emulators.firestoreHost,
    METADATA_SERVER_DETECTION: 'none',
  });
  const pubsub = createPubSub(project);
  await ensureTopology(pubsub, { reactorPushEndpoint: `http://127.0.0.1:${reactorPort}/` });
  await pubsub.close();

  const children: ChildProcess[] = [];
  const spawnLogged = (name: string, args: string[], childEnv: Record<string, string>) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(root, `${name}.log`));
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.push(child);
    return child;
  };
  const functionsIndex = join(built.functions.dir, 'index.js');
  const fn = (target: string, port: number) =>
    spawnLogged(
      target,
      ['--import', COUNT_WRITES, FUNCTIONS_FRAMEWORK, `--port=${port}`, `--source=${built.functions.dir}`],
      {
        ...env,
        FUNCTION_TARGET: target,
        NIGHTSHIFT_API_TOKENS: token,
        BENCH_PROCESS: target,
        BENCH_WRITES_FROM: functionsIndex,
      },
    );
  fn('api', apiPort);
  fn('reactor', reactorPort);
  const agent = spawnLogged(
    'agent',
    [...options.agentNodeFlags, '--import', COUNT_WRITES, join(built.agent.dir, 'main.js')],
    {
      ...env,
      NIGHTSHIFT_HOME: home,
      NIGHTSHIFT_TMUX_SOCKET: tmuxSocket,
      NIGHTSHIFT_WORKER_COMMAND: await writeWorkerWrapper(root, fakeDir),
      NIGHTSHIFT_MAX_WORKERS: String(options.capacity),
      NIGHTSHIFT_AGENT_ID: 'bench',
      NIGHTSHIFT_IDLE_MINUTES: '0',
      BENCH_PROCESS: 'agent',
      BENCH_WRITES_FROM: join(built.agent.dir, 'main.js'),
    },
  );

  const stop = async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map(exited));
    // The bench's own tmux server (its sessions end with their runs; whatever is left goes with it).
    await new Promise((r) =>
      spawn('tmux', ['-L', tmuxSocket, 'kill-server'], { stdio: 'ignore' }).on('close', r),
    );
    await emulators.stop();
  };
  const url = `http://127.0.0.1:${apiPort}`;
  try {
    await waitReady(url, token, children);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message} (the logs are in ${root})`);
  }
  return {
    root,
    env,
    emulators,
    url,
    token,
    fakeDir,
    home,
    tmuxSocket,
    writesLog,
    agent,
    functionsDir: built.functions.dir,
    setDefaultScenario: (line) => writeFile(join(fakeDir, 'default.scenario'), `${line}\n`),
    stop,
  };
}

async function waitReady(url: string, token: string, children: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
    if (dead) throw new Error(`a process of the bench's stack exited (${dead.spawnargs.slice(-1)[0]})`);
    try {
      const res = await fetch(`${url}/v1/agents`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { agents?: Array<{ alive?: boolean }> };
      if (body.agents?.some((a) => a.alive)) return;
      last = 'the API answers, no agent heartbeat yet';
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the bench's stack was not ready within ${READY_TIMEOUT_MS} ms: ${last}`);
}
