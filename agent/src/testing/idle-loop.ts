// The idle stop's whole loop through `npm start` itself (not a timed test, about a minute a cycle: `npm run idle-loop -w agent`): the VM stopped while idle, started for a run, its agent takes the run and stops the VM again.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSeededOrigin, freePort, gcloudAvailable } from '@nightshift/shared/dev';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** 3 s of idle time; the stop then comes within two heartbeats (15 s each, the agent's default). */
const IDLE_MINUTES = '0.05';
const CYCLES = 2;
/** Longest the stack may take to come up (two emulators on two cores). */
const STACK_TIMEOUT_MS = 90_000;
/** Longest one cycle may take: VM start (1.5 s), agent boot, the run, idle time, two heartbeats, VM stop. */
const CYCLE_TIMEOUT_MS = 120_000;
const FAKE_WORKER = join(REPO_ROOT, 'agent/src/testing/fake-claude.mjs');
/** The stand-in VM of `npm start` (shared/src/dev/local-stack.ts LOCAL_VM). */
const LOCAL_VM_NAME = 'nightshift-local';

interface VmView {
  status: string | null;
  agent: { state: string; alive: boolean } | null;
  lastStart: { at: string; reason: string; by: string } | null;
  lastStop: { at: string; reason: string; by: string; operation: string | null; error: string | null } | null;
  costThisMonth: { hours: number };
}

async function main(): Promise<number> {
  if (!gcloudAvailable()) {
    process.stderr.write('idle loop: needs the Google Cloud SDK (the emulators)\n');
    return 1;
  }
  const root = await mkdtemp(join(tmpdir(), 'nightshift-idle-loop-'));
  const t0 = Date.now();
  const say = (line: string) =>
    process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${line}\n`);
  const port = await freePort();
  const token = `ns_${randomBytes(24).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;
  // `npm start` as a person runs it, with the stand-in worker and a short idle time.
  const stack: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'shared/src/dev/stack.ts')],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        GOOGLE_CLOUD_PROJECT: 'nightshift-idle-loop',
        NIGHTSHIFT_API_TOKENS: token,
        PORT: String(port),
        NIGHTSHIFT_HOME: join(root, 'home'),
        NIGHTSHIFT_WORKER_COMMAND: FAKE_WORKER,
        NIGHTSHIFT_IDLE_MINUTES: IDLE_MINUTES,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((r) => stack.once('exit', () => r()));
  // The stack's own lines about its VM and the agent's idle stop, into the timeline; the rest kept quiet.
  const follow = (stream: NodeJS.ReadableStream | null) => {
    let buffered = '';
    stream?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('[vm]')) say(line);
        const idle = /^\[agent\] (\{.*"message":"(idle stop[^"]*)".*)$/.exec(line);
        if (idle) say(`[agent] ${idle[2]}`);
      }
    });
  };
  follow(stack.stdout);
  follow(stack.stderr);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const vm = async () => (await api<{ vms: VmView[] }>('GET', '/v1/vms')).vms[0] as VmView;
  const until = async <T>(
    what: string,
    check: () => Promise<T | undefined>,
    deadline: number,
  ): Promise<T> => {
    for (;;) {
      if (stack.exitCode !== null || stack.signalCode !== null)
        throw new Error(`npm start exited waiting for ${what}`);
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const statusOf = (v: VmView) => v.status ?? 'unknown';
  try {
    await until(
      'npm start to answer',
      async () => ((await fetch(`${url}/healthz`).catch(() => null))?.ok ? true : undefined),
      Date.now() + STACK_TIMEOUT_MS,
    );
    say(`stack up; ${LOCAL_VM_NAME} is ${statusOf(await vm())}, NIGHTSHIFT_IDLE_MINUTES=${IDLE_MINUTES}`);
    if ((await vm()).status !== 'TERMINATED') throw new Error('the stand-in VM should start stopped');
    const origin = await createSeededOrigin(root, 'loop');
    await api('POST', '/v1/workers', { id: 'loop', repo: { url: origin } });
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const deadline = Date.now() + CYCLE_TIMEOUT_MS;
      const run = await api<{ id: string }>('POST', '/v1/runs', { workerId: 'loop' });
      say(`cycle ${cycle}: run ${run.id} queued`);
      await until(
        'the VM to start',
        async () => ((await vm()).status === 'RUNNING' ? true : undefined),
        deadline,
      );
      say(`cycle ${cycle}: VM RUNNING (${(await vm()).lastStart?.reason})`);
      const done = await until(
        'the run to end',
        async () => {
          const r = await api<{ status: string; error: string | null }>('GET', `/v1/runs/${run.id}`);
          return ['succeeded', 'failed', 'cancelled', 'timed_out', 'lost'].includes(r.status) ? r : undefined;
        },
        deadline,
      );
      say(`cycle ${cycle}: run ${done.status}${done.error ? ` (${done.error})` : ''}`);
      if (done.status !== 'succeeded') throw new Error(`run ${run.id} ended ${done.status}`);
      const stopping = await until(
        'the agent to say stopping',
        async () => {
          const v = await vm();
          return v.agent?.state === 'stopping' || v.status !== 'RUNNING' ? v : undefined;
        },
        deadline,
      );
      say(`cycle ${cycle}: agent says ${stopping.agent?.state}`);
      const stopped = await until(
        'the VM to stop',
        async () => {
          const v = await vm();
          return v.status === 'TERMINATED' ? v : undefined;
        },
        deadline,
      );
      const stop = stopped.lastStop;
      say(
        `cycle ${cycle}: VM TERMINATED; lastStop: ${stop?.reason} by ${stop?.by}, operation ${stop?.operation}, error ${stop?.error}; running time this month ${stopped.costThisMonth.hours} h`,
      );
      if (stop?.by !== LOCAL_VM_NAME || stop.error !== null || !stop.reason.startsWith('idle for'))
        throw new Error(`unexpected lastStop: ${JSON.stringify(stop)}`);
      const agent = (await vm()).agent;
      if (agent?.alive) throw new Error(`the agent still says ${agent.state} on a stopped VM`);
    }
    say(`the whole loop, ${CYCLES} times: OK`);
    return 0;
  } catch (error) {
    say(`FAILED: ${(error as Error).message}`);
    return 1;
  } finally {
    stack.kill('SIGINT'); // npm start's Ctrl-C: everything it started is stopped
    await exited;
    await rm(root, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`idle loop: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
