// The bench's statistics: percentiles and summaries of samples, and CPU use from /proc tick counts.

/** The nearest-rank percentile `p` (0–100) of `values`; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
  };
}

/** The median, the figure each part of the floor is taken as (noise on a shared machine only adds). */
export const median = (values: readonly number[]) => percentile(values, 50);

/** Runs `sample` `n` times one after the other and returns the durations in ms. */
export async function timeEach(n: number, sample: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await sample();
    out.push(performance.now() - t);
  }
  return out;
}

/** utime + stime of a process, in clock ticks, from the text of /proc/<pid>/stat. */
export function cpuTicksOf(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the file are the 12th and 13th after the name.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`not a /proc/<pid>/stat line: ${stat}`);
  return utime + stime;
}

/** Percent of one core used between two tick counts `elapsedMs` apart (`hz` ticks a second). */
export function cpuPercent(ticksBefore: number, ticksAfter: number, elapsedMs: number, hz = 100): number {
  return ((ticksAfter - ticksBefore) / hz / (elapsedMs / 1000)) * 100;
}

/** Resident memory in MB (MiB) from the text of /proc/<pid>/status. */
export function rssMbOf(status: string): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error('no VmRSS line in /proc/<pid>/status');
  return Number(kb) / 1024;
}
