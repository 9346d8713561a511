// `npm run bench`: latency, throughput and agent memory of the local stack with the stand-in worker, against targets.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { freePort, gcloudAvailable, MISSING_SDK_MESSAGE } from './emulators.js';
import { createSeededOrigin } from './git-fixture.js';
import { REPO_ROOT, startStack } from './local-stack.js';

/**
 * What the stack must meet on this kind of machine (2 vCPU, like the e2-medium it targets). The stand-in
 * worker does three turns in well under a second, so these measure nightshift, not the model.
 */
const TARGETS = {
  /** POST /v1/runs until an agent has claimed the run (its `starting` event). */
  claimP95Ms: 1_500,
  /** POST /v1/runs until the run is terminal, for a worker that finishes at once. */
  endToEndP95Ms: 5_000,
  /** Runs completed per minute with four workers busy at once. */
  throughputRunsPerMinute: 30,
  /** GET /v1/runs?limit=20. */
  listP95Ms: 250,
  /** Resident memory of the agent process after the runs (it shares the VM with the workers). */
  agentRssMb: 250,
};

const LATENCY_RUNS = 10;
const THROUGHPUT_RUNS = 20;
const WORKERS = 4;
const LIST_CALLS = 50;
const RUN_TIMEOUT_MS = 60_000;

const FAKE_WORKER = join(REPO_ROOT, 'agent/src/testing/fake-claude.mjs');

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function main(): Promise<number> {
  if (!gcloudAvailable()) {
    process.stderr.write(`npm run bench: ${MISSING_SDK_MESSAGE}.\n`);
    return 1;
  }
  const root = await mkdtemp(join(tmpdir(), 'nightshift-bench-'));
  const quiet = new Writable({ write: (_chunk, _enc, done) => done() });
  process.stdout.write('Starting the local stack with the stand-in worker…\n');
  const stack = await startStack({
    env: {
      ...process.env,
      GOOGLE_CLOUD_PROJECT: 'nightshift-bench',
      NIGHTSHIFT_API_TOKENS: '',
      PORT: String(await freePort()),
      NIGHTSHIFT_HOME: join(root, 'home'),
      NIGHTSHIFT_WORKER_COMMAND: FAKE_WORKER,
      NIGHTSHIFT_MAX_WORKERS: String(WORKERS),
      NIGHTSHIFT_AGENT_ID: 'bench',
    },
    out: quiet,
    err: quiet,
  });
  const headers = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  type RunDoc = { id: string; status: string; createdAt: string; error: string | null };
  const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'lost']);

  /** Starts a run and resolves with its timings once it is terminal. */
  const timeRun = async (workerId: string) => {
    const t0 = performance.now();
    const run = await api<RunDoc>('POST', '/v1/runs', { workerId });
    let claimedMs: number | undefined;
    for (;;) {
      const now = performance.now();
      if (now - t0 > RUN_TIMEOUT_MS) throw new Error(`run ${run.id} not finished after ${RUN_TIMEOUT_MS} ms`);
      const current = await api<RunDoc>('GET', `/v1/runs/${run.id}`);
      if (claimedMs === undefined && current.status !== 'queued') claimedMs = now - t0;
      if (TERMINAL.has(current.status)) {
        if (current.status !== 'succeeded')
          throw new Error(`run ${run.id} ended ${current.status}: ${current.error}`);
        return { claimedMs: claimedMs ?? now - t0, endToEndMs: now - t0 };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  try {
    const origin = await createSeededOrigin(root, 'bench');
    for (let i = 0; i < WORKERS; i++) {
      await api('POST', '/v1/workers', { id: `bench-${i}`, repo: { url: origin } });
    }

    // Latency: one run at a time on one worker (the first run also clones).
    await timeRun('bench-0');
    const latency = [];
    for (let i = 0; i < LATENCY_RUNS; i++) latency.push(await timeRun('bench-0'));

    // Throughput: runs spread over the workers, all requested at once; one active run per worker.
    const t0 = performance.now();
    await Promise.all(Array.from({ length: THROUGHPUT_RUNS }, (_, i) => timeRun(`bench-${i % WORKERS}`)));
    const throughputRunsPerMinute = THROUGHPUT_RUNS / ((performance.now() - t0) / 60_000);

    const list = [];
    for (let i = 0; i < LIST_CALLS; i++) {
      const t = performance.now();
      await api('GET', '/v1/runs?limit=20');
      list.push(performance.now() - t);
    }

    const agentPid = stack.children.get('agent')?.pid;
    const status = agentPid ? await readFile(`/proc/${agentPid}/status`, 'utf8').catch(() => '') : '';
    const agentRssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;

    const results = [
      {
        name: 'claim p95 (POST → claimed)',
        value: percentile(
          latency.map((l) => l.claimedMs),
          95,
        ),
        target: TARGETS.claimP95Ms,
        unit: 'ms',
        lower: true,
      },
      {
        name: 'end-to-end p95 (POST → succeeded)',
        value: percentile(
          latency.map((l) => l.endToEndMs),
          95,
        ),
        target: TARGETS.endToEndP95Ms,
        unit: 'ms',
        lower: true,
      },
      {
        name: `throughput (${WORKERS} workers)`,
        value: throughputRunsPerMinute,
        target: TARGETS.throughputRunsPerMinute,
        unit: 'runs/min',
        lower: false,
      },
      {
        name: 'GET /v1/runs p95',
        value: percentile(list, 95),
        target: TARGETS.listP95Ms,
        unit: 'ms',
        lower: true,
      },
      { name: 'agent RSS', value: agentRssMb, target: TARGETS.agentRssMb, unit: 'MB', lower: true },
    ];
    process.stdout.write(
      `\nclaim p50 ${percentile(
        latency.map((l) => l.claimedMs),
        50,
      ).toFixed(0)} ms, end-to-end p50 ${percentile(
        latency.map((l) => l.endToEndMs),
        50,
      ).toFixed(0)} ms, list p50 ${percentile(list, 50).toFixed(0)} ms\n\n`,
    );
    let missed = 0;
    for (const r of results) {
      const ok = Number.isFinite(r.value) && (r.lower ? r.value <= r.target : r.value >= r.target);
      if (!ok) missed++;
      process.stdout.write(
        `${ok ? 'ok  ' : 'MISS'}  ${r.name.padEnd(36)} ${r.value.toFixed(1).padStart(8)} ${r.unit.padEnd(8)} target ${r.lower ? '≤' : '≥'} ${r.target}\n`,
      );
    }
    process.stdout.write(missed === 0 ? '\nAll targets met.\n' : `\n${missed} target(s) missed.\n`);
    return missed === 0 ? 0 : 1;
  } finally {
    await stack.stop();
    // No tmux kill-server: the socket is the real agent's too; the bench's sessions end with their runs.
    await rm(root, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`npm run bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
