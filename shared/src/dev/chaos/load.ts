// Load: 300 runs over 30 workers posted 30 at a time to two agents; each terminal, launched once, none overlapping on its worker.
import { findOverlaps, type Interval, scaled, Tally } from './checks.js';
import { mapLimit, type RunDoc, runInterval, startChaosStack } from './harness.js';
import type { Scenario } from './scenario.js';

export const load: Scenario = {
  name: 'load',
  summary: '300 runs over 30 workers, posted 30 at a time, two agents of 4 slots',
  async run({ scale, log }) {
    const tally = new Tally();
    const workerCount = scaled(30, scale, 2);
    const batches = Math.max(1, Math.round(scaled(300, scale, 2) / workerCount));
    const chaos = await startChaosStack({ name: 'load', agents: 2, capacity: 4, log });
    try {
      const workers = await chaos.createWorkers('load', workerCount);
      const t0 = performance.now();
      const runIds: string[] = [];
      for (let b = 0; b < batches; b++) {
        const answers = await Promise.all(
          workers.map((workerId) => chaos.api('POST', '/v1/runs', { workerId })),
        );
        for (const [i, answer] of answers.entries()) {
          const id = (answer.body as { id?: string } | null)?.id;
          if (
            tally.check(
              answer.status === 202 && typeof id === 'string',
              () =>
                `batch ${b} POST /v1/runs for ${workers[i]}: ${answer.status || answer.error} ${answer.text.slice(0, 300)}`,
            )
          )
            runIds.push(id as string);
        }
      }
      const postedMs = performance.now() - t0;
      log(`  posted ${runIds.length} runs in ${(postedMs / 1000).toFixed(1)} s; waiting for them to end`);
      const runs = await chaos.waitTerminal(runIds, Math.max(180_000, runIds.length * 3_000));
      const doneMs = performance.now() - t0;

      const intervals: Interval[] = [];
      const byAgent = new Map<string, number>();
      await mapLimit(runIds, 8, async (id) => {
        const run = runs.get(id) as RunDoc | undefined;
        tally.check(
          run?.status === 'succeeded',
          () => `run ${id} (${run?.workerId}) ended ${run?.status ?? 'unknown'}: ${run?.error ?? ''}`,
        );
        const starts = chaos.starts(id);
        tally.check(starts === 1, `run ${id} launched ${starts} times`);
        const events = await chaos.events(id);
        const terminal = events.filter(
          (e) =>
            e.type === 'status' &&
            e.to &&
            ['succeeded', 'failed', 'cancelled', 'timed_out', 'lost'].includes(e.to),
        );
        tally.check(terminal.length === 1, `run ${id} has ${terminal.length} terminal status events`);
        const interval = runInterval(id, run?.workerId ?? '?', events);
        if (interval) intervals.push(interval);
        if (run?.agentId) byAgent.set(run.agentId, (byAgent.get(run.agentId) ?? 0) + 1);
      });
      const overlaps = findOverlaps(intervals);
      for (const workerId of workers) {
        const mine = overlaps.filter(([a]) => a.group === workerId);
        tally.check(
          mine.length === 0,
          () =>
            `worker ${workerId}: ${mine.map(([a, b]) => `${a.id} [${new Date(a.from).toISOString()}–${new Date(a.to).toISOString()}] overlaps ${b.id} from ${new Date(b.from).toISOString()}`).join('; ')}`,
        );
      }
      const queued = await chaos.ok<{ runs: unknown[] }>('GET', '/v1/runs?status=queued&limit=100');
      tally.check(queued.runs.length === 0, `${queued.runs.length} runs still queued at the end`);

      tally.figures.runs = runIds.length;
      tally.figures.workers = workerCount;
      tally.figures['all terminal after'] = `${(doneMs / 1000).toFixed(1)} s`;
      tally.figures.throughput = `${(runIds.length / (doneMs / 60_000)).toFixed(1)} runs/min`;
      tally.figures['runs per agent'] = [...byAgent].map(([a, n]) => `${a}: ${n}`).join(', ');
      return tally;
    } finally {
      await chaos.stop();
    }
  },
};
