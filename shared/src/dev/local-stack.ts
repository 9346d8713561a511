// The local stack as a library: emulators, topology, the functions' local server (with the reactor) and one agent, started and stopped as one.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPubSub, ensureTopology } from '../pubsub.js';
import { agentNodeFlags } from './agent-flags.js';
import { type ComputeStandin, startComputeStandin } from './compute-standin.js';
import { type EmulatorHosts, type Emulators, startEmulators } from './emulators.js';
import { type LocalGitHub, startLocalGitHub } from './local-github.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The deployables the stack runs, each a TypeScript entry run with tsx; missing ones are skipped. */
const CHILDREN = [
  { name: 'functions', entry: join(REPO_ROOT, 'functions/src/local.ts') },
  { name: 'agent', entry: join(REPO_ROOT, 'agent/src/main.ts') },
] as const;

export const STACK_READY_TIMEOUT_MS = 60_000;

/** The local stand-in VM of `npm start`: its start and stop start and stop the local agent. */
export const LOCAL_VM = { zone: 'local-dev1-a', name: 'nightshift-local' } as const;
/** How long the stand-in VM takes to boot and to stop (Compute takes longer; long enough to be seen). */
const LOCAL_VM_TRANSITION_MS = 1_500;

export interface StackOptions {
  /** The environment the stack starts from (variables of DESIGN.md); unset ones get local defaults. */
  env: Record<string, string | undefined>;
  /** Where the children's output goes, each line prefixed with its name. */
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  /** Called when a child exits on its own (the stack is then stopped by the caller); not for a restarted agent. */
  onChildExit?: (name: string, code: number | null, signal: NodeJS.Signals | null) => void;
  /**
   * Start a dead agent again after this many ms, as systemd's `Restart=always` does on the VM (the unit's
   * RestartSec is 5 s), with a log line; the agent then takes charge of its runs (resuming interrupted ones).
   * Undefined: an agent that dies is reported to onChildExit like any child.
   */
  restartAgentMs?: number;
  /**
   * Run the agent on a stand-in VM (a local Compute REST API): stopped at first, started by the functions
   * when a run waits, and its agent started and stopped with it. Without it the agent runs from the start.
   */
  vm?: boolean;
  /** Emulators already running (the tests' global pair): used as they are, and left running by stop(). */
  emulators?: EmulatorHosts;
  /**
   * How many agents the stack starts itself (default 1); 0 starts none, for a caller that runs its own
   * (the chaos scenarios kill and restart theirs). Ignored with `vm`, whose VM starts its one agent.
   */
  agents?: 0 | 1;
  /**
   * Start a GitHub of its own (local-github.ts: the API stand-in, an App made for it, a private git server
   * with `acme/blog`) and point the functions and the agent at it (GITHUB_API_URL, GITHUB_APP_ID,
   * GITHUB_APP_PRIVATE_KEY). What a delivery needs is written to `<NIGHTSHIFT_HOME>/github/standin.json`.
   */
  github?: boolean;
}

export interface Stack {
  env: Record<string, string | undefined>;
  emulators: Emulators;
  /** http://127.0.0.1:<PORT> */
  url: string;
  token: string;
  children: Map<string, ChildProcess>;
  /** The Compute stand-in, when the agent runs on a stand-in VM. */
  compute: ComputeStandin | null;
  /** The local GitHub, when asked for (`github`). */
  github: LocalGitHub | null;
  stop(): Promise<void>;
}

function prefixLines(name: string, stream: NodeJS.ReadableStream, out: NodeJS.WritableStream): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) out.write(`[${name}] ${line}\n`);
  });
}

/** Starts everything and resolves once the API answers and the agent has sent a heartbeat. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const given = options.env;
  const env: Record<string, string | undefined> = {
    ...given,
    GOOGLE_CLOUD_PROJECT: given.GOOGLE_CLOUD_PROJECT || 'nightshift-local',
    NIGHTSHIFT_API_TOKENS: given.NIGHTSHIFT_API_TOKENS || `ns_${randomBytes(24).toString('hex')}`,
    GITHUB_WEBHOOK_SECRET: given.GITHUB_WEBHOOK_SECRET || `whsec_${randomBytes(24).toString('hex')}`,
    NIGHTSHIFT_HOME: given.NIGHTSHIFT_HOME || join(REPO_ROOT, '.nightshift'),
    PORT: given.PORT || '8080',
    // Read by a person at the console; NIGHTSHIFT_LOG_FORMAT=json keeps Cloud Logging's lines.
    NIGHTSHIFT_LOG_FORMAT: given.NIGHTSHIFT_LOG_FORMAT || 'pretty',
    // Notification sinks on this machine (http://127.0.0.1:…) are fine here, never in the cloud.
    NIGHTSHIFT_ALLOW_LOOPBACK_SINKS: given.NIGHTSHIFT_ALLOW_LOOPBACK_SINKS || '1',
    // No metadata server off Google Cloud: without this, Google's auth library probes for one and warns.
    METADATA_SERVER_DETECTION: 'none',
  };
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;

  const emulators: Emulators = options.emulators
    ? // Borrowed emulators: not this stack's to stop or freeze (group 0 says so).
      { ...options.emulators, groups: { pubsub: 0, firestore: 0 }, stop: async () => {} }
    : await startEmulators();
  env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  // ensureTopology's client reads the emulator host from the environment, like every Google client.
  process.env.METADATA_SERVER_DETECTION = 'none';
  process.env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  const pubsub = createPubSub(env.GOOGLE_CLOUD_PROJECT as string);
  // The emulator pushes run.status events to the local server's reactor, as Pub/Sub does in the cloud.
  await ensureTopology(pubsub, { reactorPushEndpoint: `http://127.0.0.1:${env.PORT}/reactor` });
  await pubsub.close();

  const github = options.github ? await startGitHubFor(env) : null;

  const children = new Map<string, ChildProcess>();
  let stopping = false;
  let compute: ComputeStandin | null = null;
  /** Children stopped on purpose (the stand-in VM stopping): their exit is not the stack failing. */
  const stoppedOnPurpose = new Set<ChildProcess>();
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const child of children.values()) child.kill('SIGTERM');
    await Promise.all([...children.values()].map(exited));
    await compute?.close();
    await github?.close();
    await emulators.stop();
  };

  const spawnChild = (name: string, entry: string, childEnv: Record<string, string | undefined>) => {
    // The agent with the node flags of its systemd unit, as on the VM.
    const flags = name === 'agent' ? agentNodeFlags() : [];
    const child = spawn(process.execPath, [...flags, '--import', 'tsx', entry], {
      cwd: REPO_ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prefixLines(name, child.stdout, out);
    prefixLines(name, child.stderr, err);
    child.on('exit', (code, signal) => {
      if (stopping || stoppedOnPurpose.has(child)) return;
      const restartMs = options.restartAgentMs;
      if (name === 'agent' && restartMs !== undefined) {
        err.write(
          `[stack] agent exited (${signal ?? `code ${code}`}); restarting it in ${restartMs} ms, as systemd (Restart=always) does on the VM\n`,
        );
        setTimeout(() => {
          // Not while stopping, and not when its VM was stopped meanwhile (its next start starts an agent).
          if (stopping || children.get('agent') !== child) return;
          spawnChild(name, entry, childEnv);
        }, restartMs).unref();
        return;
      }
      options.onChildExit?.(name, code, signal);
    });
    children.set(name, child);
    return child;
  };

  // The agent's git credentials (NIGHTSHIFT_GIT_TOKEN[S], GITHUB_APP_*, GITHUB_API_URL) reach it from the
  // environment as given; the functions need only the App's (they comment and open pull requests).
  const { NIGHTSHIFT_GIT_TOKEN: _token, NIGHTSHIFT_GIT_TOKENS: _tokens, ...functionsEnv } = env;
  const agentEnv = { ...env };
  if (options.vm) {
    const agentEntry = CHILDREN.find((c) => c.name === 'agent')?.entry as string;
    compute = await startComputeStandin({
      project: env.GOOGLE_CLOUD_PROJECT as string,
      instances: [{ ...LOCAL_VM }],
      stagingMs: LOCAL_VM_TRANSITION_MS,
      stoppingMs: LOCAL_VM_TRANSITION_MS,
      onRunning: () => {
        if (stopping) return;
        out.write(`[vm] ${LOCAL_VM.name} is RUNNING: starting its agent\n`);
        spawnChild('agent', agentEntry, agentEnv);
      },
      onStopping: async () => {
        const agent = children.get('agent');
        out.write(`[vm] ${LOCAL_VM.name} is STOPPING: stopping its agent\n`);
        if (!agent) return;
        stoppedOnPurpose.add(agent);
        agent.kill('SIGTERM');
        await exited(agent);
        children.delete('agent');
      },
    });
    Object.assign(functionsEnv, {
      NIGHTSHIFT_VMS: `${LOCAL_VM.zone}/${LOCAL_VM.name}`,
      NIGHTSHIFT_WORKERS_PER_VM: env.NIGHTSHIFT_MAX_WORKERS || '2',
      COMPUTE_API_URL: compute.url,
    });
    Object.assign(agentEnv, {
      NIGHTSHIFT_AGENT_ID: LOCAL_VM.name,
      NIGHTSHIFT_VM: `${LOCAL_VM.zone}/${LOCAL_VM.name}`,
      COMPUTE_API_URL: compute.url,
    });
  }

  for (const { name, entry } of CHILDREN) {
    if (!existsSync(entry)) continue;
    if (name === 'agent' && options.vm) continue; // started by its VM
    if (name === 'agent' && options.agents === 0) continue; // the caller runs its own
    spawnChild(name, entry, name === 'agent' ? agentEnv : functionsEnv);
  }

  const url = `http://127.0.0.1:${env.PORT}`;
  const token = (env.NIGHTSHIFT_API_TOKENS as string).split(',')[0]?.trim() as string;
  try {
    await waitReady(url, token, children.has('agent'));
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, emulators, url, token, children, compute, github, stop };
}

/** What `npm run dev:webhook` reads to post deliveries and act as the stand-in's people. */
export const standinInfoPath = (home: string) => join(home, 'github', 'standin.json');

/** Starts the local GitHub in `<home>/github` (afresh: its state lives in memory), sets its variables in `env`. */
async function startGitHubFor(env: Record<string, string | undefined>): Promise<LocalGitHub> {
  const dir = join(env.NIGHTSHIFT_HOME as string, 'github');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const github = await startLocalGitHub(dir);
  Object.assign(env, github.env);
  const info = {
    webhookUrl: `http://127.0.0.1:${env.PORT}/github/webhook`,
    secret: env.GITHUB_WEBHOOK_SECRET,
    apiUrl: github.standin.url,
    repo: github.repo,
    repoUrl: github.repoUrl,
    installationId: github.installationId,
    owner: github.owner,
    stranger: github.stranger,
  };
  await writeFile(standinInfoPath(env.NIGHTSHIFT_HOME as string), `${JSON.stringify(info, null, 2)}\n`, {
    mode: 0o600,
  });
  return github;
}

async function waitReady(url: string, token: string, withAgent: boolean): Promise<void> {
  const deadline = Date.now() + STACK_READY_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const health = await fetch(`${url}/healthz`);
      if (health.ok && !withAgent) return;
      if (health.ok) {
        const res = await fetch(`${url}/v1/agents`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { agents?: Array<{ alive?: boolean }> };
        if (body.agents?.some((a) => a.alive)) return;
        last = 'the API answers, no agent heartbeat yet';
      }
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the local stack was not ready within ${STACK_READY_TIMEOUT_MS} ms: ${last}`);
}
