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
  ...over,
});

describe('Heartbeat and leases: the loop', () => {
  it('names the jobs of each wake reason', () => {
    expect(jobsFor('tick')).toEqual(['follow']);
    expect(jobsFor('cancel-poll')).toEqual(['cancels']);
    expect(jobsFor('cancel-nudge')).toEqual(['cancels']);
    expect(jobsFor('heartbeat')).toEqual(['heartbeat', 'adopt', 'scan']);
    expect(jobsFor('slot-freed')).toEqual(['scan']);
  });

  it('never overlaps a job with itself, and runs it again with every wake that came meanwhile', async () => {
    let running = 0;
    let most = 0;
    const batches: string[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const loop = createLoop(
      handlers({
        scan: async (wakes) => {
          running++;
          most = Math.max(most, running);
          batches.push(wakes.map((w) => (w.reason === 'slot-freed' ? w.workerId : w.reason)));
          if (batches.length === 1) await gate;
          running--;
        },
      }),
      silentLogger,
    );
    const first = loop.wake({ reason: 'heartbeat' });
    const second = loop.wake({ reason: 'slot-freed', workerId: 'w1' });
    const third = loop.wake({ reason: 'slot-freed', workerId: 'w2' });
    release();
    await Promise.all([first, second, third]);
    expect(most).toBe(1);
    expect(batches).toEqual([['heartbeat'], ['w1', 'w2']]);
  });

  it('a cancel nudge during the periodic poll never stops the poll: the next poll still reads every run', async () => {
    const batches: string[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const loop = createLoop(
      handlers({
        cancels: async (wakes) => {
          batches.push(wakes.map((w) => (w.reason === 'cancel-nudge' ? w.runId : w.reason)));
          if (batches.length === 1) await gate;
        },
      }),
      silentLogger,
    );
    const nudge = loop.wake({ reason: 'cancel-nudge', runId: 'r1' });
    const poll = loop.wake({ reason: 'cancel-poll' });
    release();
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
