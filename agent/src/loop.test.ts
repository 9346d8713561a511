// The loop's wake reasons and its rules: a job never overlaps itself, and no wake is dropped.
import { describe, expect, it } from 'vitest';
import { silentLogger } from './log.js';
import { createLoop, type Job, jobsFor, type Wake } from './loop.js';

const idle = () => Promise.resolve();
const handlers = (over: Partial<Record<Job, (wakes: readonly Wake[]) => Promise<void>>>) => ({
  follow: idle,
  cancels: idle,
  heartbeat: idle,
  adopt: idle,
  scan: idle,
  resume: idle,
  ...over,
});

/** A promise the test releases: holds the first run of a job while more wakes arrive. */
function gate(): { wait: Promise<void>; release: () => void } {
  let release: () => void = () => {};
  const wait = new Promise<void>((r) => {
    release = r;
  });
  return { wait, release };
}

const label = (w: Wake) =>
  w.reason === 'slot-freed' ? w.workerId : w.reason === 'cancel-nudge' ? w.runId : w.reason;

describe('Heartbeat and leases: the loop', () => {
  it('names the jobs of each wake reason', () => {
    expect(jobsFor('tick')).toEqual(['follow']);
    expect(jobsFor('cancel-poll')).toEqual(['cancels']);
    expect(jobsFor('cancel-nudge')).toEqual(['cancels']);
    expect(jobsFor('heartbeat')).toEqual(['heartbeat', 'adopt', 'scan']);
    expect(jobsFor('slot-freed')).toEqual(['scan']);
    expect(jobsFor('resume-due')).toEqual(['resume']);
  });

  it('never overlaps a job with itself, and runs it again with every wake that came meanwhile', async () => {
    let running = 0;
    let most = 0;
    const batches: string[][] = [];
    const first = gate();
    const loop = createLoop(
      handlers({
        scan: async (wakes) => {
          running++;
          most = Math.max(most, running);
          batches.push(wakes.map(label));
          if (batches.length === 1) await first.wait;
          running--;
        },
      }),
      silentLogger,
    );
    const wakes = [
      loop.wake({ reason: 'heartbeat' }),
      loop.wake({ reason: 'slot-freed', workerId: 'w1' }),
      loop.wake({ reason: 'slot-freed', workerId: 'w2' }),
    ];
    first.release();
    await Promise.all(wakes);
    expect(most).toBe(1);
    expect(batches).toEqual([['heartbeat'], ['w1', 'w2']]);
  });

  it('a nudge never pauses the periodic poll: a poll due during a nudge runs after it, and so does the next', async () => {
    const batches: string[][] = [];
    const first = gate();
    const loop = createLoop(
      handlers({
        cancels: async (wakes) => {
          batches.push(wakes.map(label));
          if (batches.length === 1) await first.wait;
        },
      }),
      silentLogger,
    );
    const nudge = loop.wake({ reason: 'cancel-nudge', runId: 'r1' });
    const poll = loop.wake({ reason: 'cancel-poll' });
    first.release();
    await Promise.all([nudge, poll]);
    await loop.wake({ reason: 'cancel-poll' });
    expect(batches).toEqual([['r1'], ['cancel-poll'], ['cancel-poll']]);
  });

  it('keeps going after a job throws, and starts nothing once stopped', async () => {
    let calls = 0;
    const loop = createLoop(
      handlers({
        follow: async () => {
          calls++;
          throw new Error('boom');
        },
      }),
      silentLogger,
    );
    await loop.wake({ reason: 'tick' });
    await loop.wake({ reason: 'tick' });
    expect(calls).toBe(2);
    await loop.stop();
    await loop.wake({ reason: 'tick' });
    expect(calls).toBe(2);
  });
});
