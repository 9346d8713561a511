// The pure VM arithmetic: how many VMs to start, running time within a month, which periods to keep.
import { describe, expect, it } from 'vitest';
import { monthStart, runningSeconds, trimPeriods, vmsNeeded } from './vm.js';

describe('vmsNeeded', () => {
  const base = { queuedRuns: 0, freeSlots: 0, comingUpVms: 0, capacityPerVm: 2, startableVms: 3 };
  it.each([
    ['no queued run', {}, 0],
    ['one run, no free slot', { queuedRuns: 1 }, 1],
    ['one run, a free slot', { queuedRuns: 1, freeSlots: 1 }, 0],
    ['three runs: one VM per two runs', { queuedRuns: 3 }, 2],
    ['a VM coming up takes two', { queuedRuns: 3, comingUpVms: 1 }, 1],
    ['never more than can be started', { queuedRuns: 50 }, 3],
    ['none startable', { queuedRuns: 5, startableVms: 0 }, 0],
  ])('%s', (_name, input, expected) => {
    expect(vmsNeeded({ ...base, ...input })).toBe(expected);
  });
});

describe('running time', () => {
  const now = new Date('2026-11-20T12:00:00Z');
  it('counts the part of each period inside the window, an open one until now', () => {
    const periods = [
      { from: '2026-10-31T23:00:00Z', to: '2026-11-01T01:00:00Z' },
      { from: '2026-11-20T11:30:00Z', to: null },
    ];
    expect(runningSeconds(periods, monthStart(now), now)).toBe(3600 + 1800);
  });
  it('starts the month at midnight UTC of its first day', () => {
    expect(monthStart(now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });
  it('keeps last month and this one, and any open period', () => {
    const periods = [
      { from: '2026-09-01T00:00:00Z', to: '2026-09-02T00:00:00Z' },
      { from: '2026-10-05T00:00:00Z', to: '2026-10-05T02:00:00Z' },
      { from: '2026-08-01T00:00:00Z', to: null },
    ];
    expect(trimPeriods(periods, now)).toEqual(periods.slice(1));
  });
});
