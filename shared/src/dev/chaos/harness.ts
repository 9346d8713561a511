// The chaos scenarios' stack: the local stack without its agent, our own agents (killable), the stand-in worker and an API client.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Firestore } from '@google-cloud/firestore';
import { createFirestore } from '../../firestore.js';
import { freePort } from '../emulators.js';
import { createSeededOrigin } from '../git-fixture.js';
import { REPO_ROOT, type Stack, startStack } from '../local-stack.js';
import { type Interval, sleep } from './checks.js';

const exec = promisify(execFile);

export const FAKE_WORKER = join(REPO_ROOT, 'agent/src/testing/fake-claude.mjs');
export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'lost']);
/** The longest any single API call is waited for: past it the call counts as a hang. */
export const CALL_TIMEOUT_MS = 30_000;
const AGENT_READY_TIMEOUT_MS = 60_000;
const LOG_DIR = join(tmpdir(), 'nightshift-chaos-logs');

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
  ms: number;
  /** Set when no answer came (timeout, reset): the status is then 0. */
  error?: string;
}

export interface RunDoc {
  id: string;
  workerId: string;
  status: string;
  agentId: string | null;
  error: string | null;
  usage: { turns: number; costUsd: number; inputTokens: number; outputTokens: number };
  commits: string[];
  trigger: { type: string; issue?: number; idempotencyKey?: string };
  createdAt: string;
}

export interface RunEventDoc {
  type: string;
  at: string;
  from?: string | null;
  to?: string;
  message?: string;
  agentId?: string | null;
}

export interface AgentHandle {
  id: string;
  home: string;
  socket: string;
  child: ChildProcess | null;
}

export interface ChaosStack {
  stack: Stack;
  root: string;
  /** Where the stand-in worker records each run's starts, prompt and scenario. */
  fakeDir: string;
  origin: string;
  agents: AgentHandle[];
  db: Firestore;
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** Like api, but throws unless the answer is 2xx. */
  ok<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
  startAgent(index: number): Promise<void>;
  killAgent(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** The stand-in worker's scenario for every run without its own file ("slow 3000", "success"). */
  setDefaultScenario(scenario: string): Promise<void>;
  createWorkers(prefix: string, count: number): Promise<string[]>;
  /** How many times the stand-in worker was started for the run. */
  starts(runId: string): number;
  events(runId: string): Promise<RunEventDoc[]>;
  /** Polls until every run is terminal or the time is up; returns the last document of each. */
  waitTerminal(runIds: string[], timeoutMs: number): Promise<Map<string, RunDoc>>;
  stop(): Promise<void>;
}

export interface ChaosStackOptions {
  name: string;
  agents: number;
  capacity: number;
  log: (line: string) => void;
}

/** A worker command that is the stand-in worker, told where to record and what to do by default. */
async function writeWorkerWrapper(path: string, fakeDir: string): Promise<void> {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  await writeFile(
    path,
    [
      '#!/bin/sh',
      `FAKE_CLAUDE_DIR=${q(fakeDir)}; export FAKE_CLAUDE_DIR`,
      'if [ ! -f "$FAKE_CLAUDE_DIR/$NIGHTSHIFT_RUN_ID.scenario" ] && [ -f "$FAKE_CLAUDE_DIR/default.scenario" ]; then',
      '  cp "$FAKE_CLAUDE_DIR/default.scenario" "$FAKE_CLAUDE_DIR/$NIGHTSHIFT_RUN_ID.scenario"',
      'fi',
      `exec ${q(process.execPath)} ${q(FAKE_WORKER)} "$@"`,
      '',
    ].join('\n'),
  );
  await chmod(path, 0o755);
}

/** The stacks running now, so a scenario over its time can be stopped from outside it. */
const running = new Set<ChaosStack>();

/** Stops every chaos stack still running (a scenario over its time limit). */
export async function stopAllStacks(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop().catch(() => {})));
}

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const root = await mkdtemp(join(tmpdir(), `ns-chaos-${options.name}-`));
  const fakeDir = join(root, 'fake');
  await mkdir(fakeDir, { recursive: true });
  const wrapper = join(root, 'worker.sh');
  await writeWorkerWrapper(wrapper, fakeDir);
  await writeFile(join(fakeDir, 'default.scenario'), 'success\n');
  // The children's output outlives the scenario's files: it is what explains a wrong outcome.
  await mkdir(LOG_DIR, { recursive: true });
  const logPath = join(LOG_DIR, `${options.name}-${new Date().toISOString().replaceAll(':', '')}.log`);
  const logFile: WriteStream = createWriteStream(logPath);
  options.log(`  stack log: ${logPath}`);

  const stack = await startStack({
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GOOGLE_CLOUD_PROJECT: `chaos-${options.name}`,
      NIGHTSHIFT_API_TOKENS: '',
      PORT: String(await freePort()),
      NIGHTSHIFT_HOME: join(root, 'home-functions'),
      NIGHTSHIFT_WORKER_COMMAND: wrapper,
      NIGHTSHIFT_MAX_WORKERS: String(options.capacity),
      NIGHTSHIFT_LOG_FORMAT: 'json',
    },
    agents: 0,
    out: logFile,
    err: logFile,
  });
  process.env.FIRESTORE_EMULATOR_HOST = stack.emulators.firestoreHost;
  const db = createFirestore(stack.env.GOOGLE_CLOUD_PROJECT as string);
  const baseHeaders = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' };

  const api: ChaosStack['api'] = async (method, path, body, headers = {}) => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${stack.url}${path}`, {
        method,
        headers: { ...baseHeaders, ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
      return { status: res.status, headers: res.headers, body: parsed, text, ms: performance.now() - t0 };
    } catch (error) {
      const e = error as Error & { cause?: Error };
      return {
        status: 0,
        headers: new Headers(),
        body: null,
        text: '',
        ms: performance.now() - t0,
        error: `${e.name}: ${e.message}${e.cause ? ` (${e.cause.message})` : ''}`,
      };
    }
  };
  const ok = async <T>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const answer = await api(method, path, body, headers);
    if (answer.status < 200 || answer.status > 299) {
      throw new Error(`${method} ${path}: ${answer.status || answer.error} ${answer.text.slice(0, 500)}`);
    }
    return answer.body as T;
  };

  const agents: AgentHandle[] = Array.from({ length: options.agents }, (_, i) => ({
    id: `chaos-agent-${i + 1}`,
    home: join(root, `home-agent-${i + 1}`),
    socket: join(root, `tmux-${i + 1}`),
    child: null,
  }));

  const heartbeatAfter = async (agentId: string, since: number) => {
    const deadline = Date.now() + AGENT_READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const snap = await db.collection('agents').doc(agentId).get();
      const startedAt = snap.get('startedAt');
      if (typeof startedAt === 'string' && Date.parse(startedAt) >= since - 1_000) return;
      await sleep(200);
    }
    throw new Error(`agent ${agentId} sent no heartbeat within ${AGENT_READY_TIMEOUT_MS} ms`);
  };

  const startAgent = async (index: number) => {
    const agent = agents[index] as AgentHandle;
    const since = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'agent/src/main.ts')], {
      cwd: REPO_ROOT,
      env: {
        ...stack.env,
        NIGHTSHIFT_AGENT_ID: agent.id,
        NIGHTSHIFT_HOME: agent.home,
        NIGHTSHIFT_TMUX_SOCKET: agent.socket,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = (chunk: Buffer) => logFile.write(`[${agent.id}] ${chunk.toString()}`);
    child.stdout?.on('data', prefix);
    child.stderr?.on('data', prefix);
    agent.child = child;
    await heartbeatAfter(agent.id, since);
  };

  const killAgent = async (index: number, signal: NodeJS.Signals = 'SIGKILL') => {
    const agent = agents[index] as AgentHandle;
    const child = agent.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    agent.child = null;
  };

  for (let i = 0; i < agents.length; i++) await startAgent(i);
  const origin = await createSeededOrigin(root, 'chaos');

  const waitTerminal: ChaosStack['waitTerminal'] = async (runIds, timeoutMs) => {
    const last = new Map<string, RunDoc>();
    const pending = new Set(runIds);
    const deadline = Date.now() + timeoutMs;
    while (pending.size > 0 && Date.now() < deadline) {
      const ids = [...pending];
      // Read from Firestore in pages of 30 ids: the API is what the scenarios probe, not how they wait.
      for (let i = 0; i < ids.length; i += 30) {
        const refs = ids.slice(i, i + 30).map((id) => db.collection('runs').doc(id));
        const snaps = await db.getAll(...refs).catch(() => []);
        for (const snap of snaps) {
          if (!snap.exists) continue;
          const run = snap.data() as RunDoc;
          last.set(snap.id, run);
          if (TERMINAL.has(run.status)) pending.delete(snap.id);
        }
      }
      if (pending.size > 0) await sleep(500);
    }
    return last;
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    running.delete(chaos);
    for (let i = 0; i < agents.length; i++) await killAgent(i, 'SIGTERM').catch(() => {});
    await db.terminate().catch(() => {});
    await stack.stop();
    for (const agent of agents) {
      if (existsSync(agent.socket)) await exec('tmux', ['-S', agent.socket, 'kill-server']).catch(() => {});
    }
    await new Promise((r) => logFile.end(r));
    if (!process.env.CHAOS_KEEP) await rm(root, { recursive: true, force: true }).catch(() => {});
  };

  const chaos: ChaosStack = {
    stack,
    root,
    fakeDir,
    origin,
    agents,
    db,
    api,
    ok,
    startAgent,
    killAgent,
    setDefaultScenario: (scenario) => writeFile(join(fakeDir, 'default.scenario'), `${scenario}\n`),
    createWorkers: async (prefix, count) => {
      const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
      for (const id of ids) await ok('POST', '/v1/workers', { id, repo: { url: origin } });
      return ids;
    },
    starts: (runId) => {
      const file = join(fakeDir, `${runId}.starts`);
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
    },
    events: async (runId) => {
      const snap = await db.collection('runs').doc(runId).collection('events').get();
      return snap.docs.map((d) => d.data() as RunEventDoc).sort((a, b) => a.at.localeCompare(b.at));
    },
    waitTerminal,
    stop,
  };
  running.add(chaos);
  return chaos;
}

/** The [claimed, terminal] interval of a run from its status events (null when it never started). */
export function runInterval(runId: string, workerId: string, events: RunEventDoc[]): Interval | null {
  const start = events.find((e) => e.type === 'status' && e.to === 'starting');
  const end = events.find((e) => e.type === 'status' && e.to !== undefined && TERMINAL.has(e.to));
  if (!start) return null;
  return {
    id: runId,
    group: workerId,
    from: Date.parse(start.at),
    to: end ? Date.parse(end.at) : Number.POSITIVE_INFINITY,
  };
}

/** Runs `task` over `items` with at most `limit` at once, in order of items. */
export async function mapLimit<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
