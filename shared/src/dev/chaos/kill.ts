// Agent kill -9 while a run is `starting` and while `running`, restarted after 3 s: true status, usage once, one terminal event.
import { scaled, sleep, Tally } from './checks.js';
import { type ChaosStack, startChaosStack, TERMINAL } from './harness.js';
import type { Scenario } from './scenario.js';

const DOWN_MS = 3_000;
const ATTEMPTS_PER_TRIAL = 4;
/** What the stand-in worker's `slow` scenario reports: five turns, whatever its length. */
const SLOW_USAGE = { turns: 5, costUsd: 0.0625, inputTokens: 575, outputTokens: 100 };

type Phase = 'starting' | 'running';

/** Resolves with the status the run was seen in first at or past `phase` (listened to, not polled). */
function whenStatus(chaos: ChaosStack, runId: string, phase: Phase): Promise<string> {
  return new Promise((resolve, reject) => {
    const order = ['queued', 'starting', 'running'];
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`run ${runId} never reached ${phase}`));
    }, 60_000);
    const unsubscribe = chaos.db
      .collection('runs')
      .doc(runId)
      .onSnapshot((snap) => {
        const status = snap.get('status') as string | undefined;
        if (status === undefined) return;
        if (status === phase || TERMINAL.has(status) || order.indexOf(status) > order.indexOf(phase)) {
          clearTimeout(timer);
          unsubscribe();
          resolve(status);
        }
      }, reject);
  });
}

export const kill: Scenario = {
  name: 'kill',
  summary: `agent kill -9 while a run is starting and while running, restarted after ${DOWN_MS / 1000} s`,
  async run({ scale, log }) {
    const tally = new Tally();
    const perPhase = scaled(10, scale, 1);
    const chaos = await startChaosStack({ name: 'kill', agents: 1, capacity: 4, log });
    let missed = 0;
    try {
      const workers = await chaos.createWorkers('kill', 4);
      // Warm the workspaces, so `starting` is as short as it usually is (a fetch, not a clone).
      const warm = await Promise.all(
        workers.map((workerId) => chaos.ok<{ id: string }>('POST', '/v1/runs', { workerId })),
      );
      await chaos.waitTerminal(
        warm.map((r) => r.id),
        120_000,
      );
      let n = 0;
      const judge = async (runId: string, label: string) => {
        const [run] = (await chaos.waitTerminal([runId], 1_000)).values();
        const events = await chaos.events(runId);
        const terminal = events.filter((e) => e.type === 'status' && e.to && TERMINAL.has(e.to));
        const starts = chaos.starts(runId);
        const usage = run?.usage;
        const usageOk =
          usage !== undefined &&
          usage.turns === SLOW_USAGE.turns &&
          usage.inputTokens === SLOW_USAGE.inputTokens &&
          usage.outputTokens === SLOW_USAGE.outputTokens &&
          Math.abs(usage.costUsd - SLOW_USAGE.costUsd) < 1e-9;
        tally.check(
          run?.status === 'succeeded' && starts === 1 && terminal.length === 1 && usageOk,
          () =>
            `${label}: run ${runId} ended ${run?.status} (${run?.error ?? ''}), launched ${starts} times, ` +
            `${terminal.length} terminal events (${terminal.map((e) => e.to).join(', ')}), usage ${JSON.stringify(usage)} (expected ${JSON.stringify(SLOW_USAGE)})`,
        );
      };
      for (const phase of ['starting', 'running'] as const) {
        for (let t = 0; t < perPhase; t++) {
          // Half the workers end while the agent is down, half after it is back.
          await chaos.setDefaultScenario(t % 2 === 0 ? 'slow 1500' : 'slow 10000');
          let landed = false;
          for (let attempt = 0; attempt < ATTEMPTS_PER_TRIAL && !landed; attempt++) {
            const workerId = workers[n++ % workers.length] as string;
            const run = await chaos.ok<{ id: string }>('POST', '/v1/runs', { workerId });
            const seen = await whenStatus(chaos, run.id, phase);
            if (seen !== phase) {
              missed++;
              await chaos.waitTerminal([run.id], 120_000);
              continue;
            }
            await chaos.killAgent(0, 'SIGKILL');
            const after = (await chaos.db.collection('runs').doc(run.id).get()).get('status') as string;
            landed = after === phase;
            if (!landed) missed++;
            await sleep(DOWN_MS);
            await chaos.startAgent(0);
            await chaos.waitTerminal([run.id], 120_000);
            // Every killed run is judged, also one whose status moved on before the kill took effect.
            await judge(run.id, `killed while ${after}`);
          }
          if (!landed)
            tally.check(false, `no kill landed while a run was ${phase} in ${ATTEMPTS_PER_TRIAL} attempts`);
        }
      }
      tally.figures['kills per phase'] = perPhase;
      tally.figures['kills that landed after the run moved on (judged too, and retried)'] = missed;
      return tally;
    } finally {
      await chaos.stop();
    }
  },
};
