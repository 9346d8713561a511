// The bench's statistics: percentiles, summaries and the /proc readings it bases CPU and memory on.
import { describe, expect, it } from 'vitest';
import { cpuPercent, cpuTicksOf, percentile, rssMbOf, summarize } from './stats.js';

describe('percentile', () => {
  it('is the nearest rank: p50 of 1..100 is 50, p99 is 99, p100 the largest', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
  });

  it('of few values: p99 of three is the largest, p50 the middle; none gives NaN', () => {
    expect(percentile([30, 10, 20], 99)).toBe(30);
    expect(percentile([30, 10, 20], 50)).toBe(20);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarize counts and leaves the input in its order', () => {
    const values = [5, 1, 3];
    expect(summarize(values)).toEqual({ n: 3, p50: 3, p90: 5, p99: 5, max: 5 });
    expect(values).toEqual([5, 1, 3]);
  });
});

describe('/proc readings', () => {
  it('reads utime + stime after a command name with spaces and parentheses', () => {
    const stat =
      '4242 (node (bench) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 123 456 789';
    expect(cpuTicksOf(stat)).toBe(300);
    expect(() => cpuTicksOf('garbage')).toThrow(/not a \/proc/);
  });

  it('turns ticks into percent of a core: 50 ticks in 5 s at 100 Hz is 10 %', () => {
    expect(cpuPercent(1_000, 1_050, 5_000)).toBeCloseTo(10);
  });

  it('reads VmRSS in MB', () => {
    expect(rssMbOf('Name:\tnode\nVmRSS:\t  102400 kB\nThreads: 11\n')).toBe(100);
    expect(() => rssMbOf('Name:\tnode\n')).toThrow(/VmRSS/);
  });
});
