// Emulator outages: Firestore frozen (SIGSTOP) 45 s, then Pub/Sub 20 s, while runs are active and new ones are posted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile, scaled, sleep, Tally } from './checks.js';
import { type Answer, type ChaosStack, mapLimit, startChaosStack, TERMINAL } from './harness.js';
import type { Scenario } from './scenario.js';

/**
 * The longest an answer may take while a backend is frozen: the functions' per-call deadline (10 s, for
 * Firestore calls and publishes alike) plus slack for a loaded 2-core machine. Far below the functions' 60 s.
 */
const BOUND_MS = 15_000;
const PROBE_EVERY_MS = 2_000;
const RETRY_FOR_MS = 90_000;
/** Cloud Scheduler's tick, sped up: it republishes runs whose command may have been lost. */
const TICK_EVERY_MS = 30_000;
const LONG_RUNS = 3;
const LONG_SCENARIO = 'slow 75000';
/** What the stand-in worker's `slow` scenario ends with: five turns and five commits. */
const SLOW = { turns: 5, commits: 5 };

interface Probe {
  what: string;
  answer: Answer;
  key?: string;
}

function pidsOf(chaos: ChaosStack, runId: string): number[] {
  try {
    return readFileSync(join(chaos.fakeDir, `${runId}.starts`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function outagePhase(
  chaos: ChaosStack,
  tally: Tally,
  opts: { backend: 'firestore' | 'pubsub'; freezeMs: number; workers: string[]; log: (l: string) => void },
): Promise<void> {
  const { backend, freezeMs, log } = opts;
  const [longWorkers, idleWorkers] = [opts.workers.slice(0, LONG_RUNS), opts.workers.slice(LONG_RUNS)];
  await chaos.setDefaultScenario(LONG_SCENARIO);
  const long = await Promise.all(
    longWorkers.map((workerId) => chaos.ok<{ id: string }>('POST', '/v1/runs', { workerId })),
  );
  const longIds = long.map((r) => r.id);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const snaps = await chaos.db.getAll(...longIds.map((id) => chaos.db.collection('runs').doc(id)));
    if (
      snaps.every((s) => s.get('status') === 'running') &&
      longIds.every((id) => pidsOf(chaos, id).length > 0)
    )
      break;
    await sleep(200);
  }
  await chaos.setDefaultScenario('success');

  const group = chaos.stack.emulators.groups[backend];
  // 0: emulators the stack did not start (borrowed ones); signalling group 0 would stop this process.
  if (!group) throw new Error(`the ${backend} emulator was not started by this stack: it cannot be frozen`);
  const probes: Array<Promise<Probe>> = [];
  const keys: Array<{ key: string; workerId: string }> = [];
  const probe = (what: string, call: Promise<Answer>, key?: string) =>
    probes.push(call.then((answer) => ({ what, answer, ...(key ? { key } : {}) })));
  log(`  freezing ${backend} (process group ${group}) for ${(freezeMs / 1000).toFixed(0)} s`);
  process.kill(-group, 'SIGSTOP');
  const frozenAt = Date.now();
  let i = 0;
  let workersAlive = true;
  try {
    while (Date.now() - frozenAt < freezeMs) {
      const workerId = idleWorkers[i % idleWorkers.length] as string;
      const key = `${backend}-${i}`;
      keys.push({ key, workerId });
      probe(
        `POST /v1/runs (${key})`,
        chaos.api('POST', '/v1/runs', { workerId }, { 'idempotency-key': key }),
        key,
      );
      probe('GET /v1/runs/:id', chaos.api('GET', `/v1/runs/${longIds[0]}`));
      probe('GET /v1/runs', chaos.api('GET', '/v1/runs?limit=5'));
      probe('GET /v1/workers/:id', chaos.api('GET', `/v1/workers/${workerId}`));
      probe('GET /v1/agents', chaos.api('GET', '/v1/agents'));
      probe('GET /healthz', chaos.api('GET', '/healthz'));
      i++;
      await sleep(PROBE_EVERY_MS);
    }
    for (const id of longIds) {
      const pids = pidsOf(chaos, id);
      const ok = pids.length === 1 && pids.every(alive);
      workersAlive &&= ok;
      tally.check(
        ok,
        `${backend} frozen: the worker of run ${id} (pids ${pids.join(',') || 'none'}) is not running at the end of the freeze`,
      );
    }
  } finally {
    process.kill(-group, 'SIGCONT');
  }
  log(`  ${backend} thawed; ${probes.length} calls made while it was frozen`);
  const answered = await Promise.all(probes);
  const ms = answered.map((p) => p.answer.ms);
  const counts = new Map<string, number>();
  for (const { what, answer } of answered) {
    const code = answer.status || 'no answer';
    counts.set(String(code), (counts.get(String(code)) ?? 0) + 1);
    const retryAfter = answer.headers.get('retry-after');
    const fine =
      answer.status !== 0 &&
      answer.ms <= BOUND_MS &&
      (answer.status < 500 || (answer.status === 503 && retryAfter !== null && Number(retryAfter) > 0));
    tally.check(
      fine,
      () =>
        `${backend} frozen: ${what} answered ${answer.status || answer.error} after ${answer.ms.toFixed(0)} ms` +
        (answer.status >= 500 ? ` (Retry-After: ${retryAfter}) ${answer.text.slice(0, 200)}` : ''),
    );
  }
  tally.figures[`${backend} frozen: calls`] =
    `${answered.length} (${[...counts].map(([c, n]) => `${n}× ${c}`).join(', ')})`;
  tally.figures[`${backend} frozen: answer p50 / max`] =
    `${percentile(ms, 50).toFixed(0)} / ${Math.max(...ms).toFixed(0)} ms`;
  tally.figures[`${backend} frozen: workers kept running`] = String(workersAlive);

  // A client that got no 202 retries with the same Idempotency-Key, as the 503 invites.
  const runOfKey = new Map<string, string>();
  for (const { key, answer } of answered) {
    const id = (answer.body as { id?: string } | null)?.id;
    if (key && answer.status === 202 && id) runOfKey.set(key, id);
  }
  const retryUntil = Date.now() + RETRY_FOR_MS;
  let retries = 0;
  for (const { key, workerId } of keys) {
    while (!runOfKey.has(key) && Date.now() < retryUntil) {
      const answer = await chaos.api('POST', '/v1/runs', { workerId }, { 'idempotency-key': key });
      retries++;
      const id = (answer.body as { id?: string } | null)?.id;
      if (answer.status === 202 && id) runOfKey.set(key, id);
      else await sleep(2_000);
    }
    tally.check(
      runOfKey.has(key),
      `${backend}: POST /v1/runs with key ${key} never answered 202, retried for ${RETRY_FOR_MS / 1000} s`,
    );
  }
  tally.figures[`${backend}: retries with the same key`] = retries;

  // Every run catches up: the long ones finish with all their work recorded, the posted ones run once.
  const t0 = Date.now();
  const ids = [...longIds, ...runOfKey.values()];
  const ticker = setInterval(() => void chaos.api('POST', '/scheduler/tick'), TICK_EVERY_MS);
  const runs = await chaos.waitTerminal(ids, 6 * 60_000).finally(() => clearInterval(ticker));
  tally.figures[`${backend}: all runs terminal after the thaw in`] =
    `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  await mapLimit(ids, 6, async (id) => {
    const run = runs.get(id);
    const events = await chaos.events(id);
    const terminal = events.filter((e) => e.type === 'status' && e.to && TERMINAL.has(e.to)).length;
    const starts = chaos.starts(id);
    const isLong = longIds.includes(id);
    const caughtUp = !isLong || (run?.usage.turns === SLOW.turns && run?.commits.length === SLOW.commits);
    tally.check(
      run?.status === 'succeeded' && starts === 1 && terminal === 1 && caughtUp,
      () =>
        `${backend}: ${isLong ? 'active' : 'posted'} run ${id} ended ${run?.status} (${run?.error ?? ''}), launched ${starts} times, ` +
        `${terminal} terminal events, ${run?.usage.turns} turns and ${run?.commits.length} commits recorded`,
    );
  });
  // Nothing doubled: one run per key, and no run of a probed worker beyond those.
  for (const { key } of keys) {
    const snap = await chaos.db.collection('runs').where('trigger.idempotencyKey', '==', key).get();
    tally.check(snap.size === 1, `${backend}: key ${key} has ${snap.size} runs`);
  }
}

export const outage: Scenario = {
  name: 'outage',
  summary:
    'Firestore frozen (SIGSTOP) 45 s, then Pub/Sub 20 s, while runs are active and new ones are posted',
  async run({ scale, log }) {
    const tally = new Tally();
    const chaos = await startChaosStack({ name: 'outage', agents: 2, capacity: 4, log });
    try {
      const workers = await chaos.createWorkers('out', LONG_RUNS + 4);
      await outagePhase(chaos, tally, {
        backend: 'firestore',
        freezeMs: scaled(45_000, scale, 15_000),
        workers,
        log,
      });
      await outagePhase(chaos, tally, {
        backend: 'pubsub',
        freezeMs: scaled(20_000, scale, 15_000),
        workers,
        log,
      });
      return tally;
    } finally {
      await chaos.stop();
    }
  },
};
