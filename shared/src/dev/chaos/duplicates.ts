// Duplicates: one run.start published 20 times (at once, while it runs, after it ended) to two agents → one launch.
import { encodeCommand, makeCommand } from '../../command.js';
import { PUBSUB } from '../../names.js';
import { createPubSub } from '../../pubsub.js';
import { scaled, sleep, Tally } from './checks.js';
import { startChaosStack, TERMINAL } from './harness.js';
import type { Scenario } from './scenario.js';

const COPIES = 20;

export const duplicates: Scenario = {
  name: 'duplicates',
  summary: `one run.start published ${COPIES} times to two agents (at once, while running, after the end) → one launch`,
  async run({ scale, log }) {
    const tally = new Tally();
    const trials = scaled(10, scale, 2);
    const chaos = await startChaosStack({ name: 'duplicates', agents: 2, capacity: 4, log });
    const pubsub = createPubSub(chaos.stack.env.GOOGLE_CLOUD_PROJECT as string);
    const topic = pubsub.topic(PUBSUB.commandsTopic);
    try {
      await chaos.setDefaultScenario('slow 2000');
      const workers = await chaos.createWorkers('dup', trials);
      let published = 0;
      const publishCopies = async (data: Buffer, n: number) => {
        await Promise.all(Array.from({ length: n }, () => topic.publishMessage({ data })));
        published += n;
      };
      const trial = async (workerId: string) => {
        const run = await chaos.ok<{ id: string }>('POST', '/v1/runs', { workerId });
        // The same command, byte for byte, as a redelivery would carry it.
        const data = encodeCommand(makeCommand('run.start', run.id));
        await publishCopies(data, 10);
        const statusOf = async () => (await chaos.db.collection('runs').doc(run.id).get()).get('status');
        const deadline = Date.now() + 60_000;
        while ((await statusOf()) !== 'running' && Date.now() < deadline) await sleep(100);
        await publishCopies(data, 5);
        await chaos.waitTerminal([run.id], 120_000);
        await publishCopies(data, COPIES - 15);
        return run.id;
      };
      const runIds = await Promise.all(workers.map(trial));
      // Let the late copies be delivered and handled before judging.
      await sleep(5_000);
      const runs = await chaos.waitTerminal(runIds, 10_000);
      for (const id of runIds) {
        const run = runs.get(id);
        const events = await chaos.events(id);
        const starting = events.filter((e) => e.type === 'status' && e.to === 'starting').length;
        const terminal = events.filter((e) => e.type === 'status' && e.to && TERMINAL.has(e.to)).length;
        const starts = chaos.starts(id);
        tally.check(
          run?.status === 'succeeded' && starts === 1 && starting === 1 && terminal === 1,
          `run ${id}: ${run?.status} (${run?.error ?? ''}), launched ${starts} times, ${starting} starting and ${terminal} terminal events`,
        );
      }
      tally.figures.runs = runIds.length;
      tally.figures['extra copies published'] = published;
      return tally;
    } finally {
      await pubsub.close().catch(() => {});
      await chaos.stop();
    }
  },
};
