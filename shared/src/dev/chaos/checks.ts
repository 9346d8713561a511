// The chaos scenarios' pure parts: the tally of tried and wrong outcomes, the overlap checker, a seeded random source.

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What one scenario found: how many outcomes it judged, and a line for every wrong one. */
export class Tally {
  tried = 0;
  readonly wrong: string[] = [];
  /** Extra figures printed beside tried / wrong (durations, latencies, counts). */
  readonly figures: Record<string, string | number> = {};

  /** Judges one outcome: right when `ok`, else recorded with its details. */
  check(ok: boolean, detail: string | (() => string)): boolean {
    this.tried++;
    if (!ok) this.wrong.push(typeof detail === 'function' ? detail() : detail);
    return ok;
  }
}

/** One run's time on its worker: from its claim to its terminal status (Infinity: never ended). */
export interface Interval {
  id: string;
  /** What may not run twice at once (the worker). */
  group: string;
  from: number;
  to: number;
}

/**
 * Every pair of intervals of the same group that overlap in time (touching ends do not: a run may be
 * claimed in the same millisecond its predecessor ended).
 */
export function findOverlaps(intervals: readonly Interval[]): Array<[Interval, Interval]> {
  const byGroup = new Map<string, Interval[]>();
  for (const interval of intervals) {
    const list = byGroup.get(interval.group) ?? [];
    list.push(interval);
    byGroup.set(interval.group, list);
  }
  const overlaps: Array<[Interval, Interval]> = [];
  for (const list of byGroup.values()) {
    const sorted = [...list].sort((a, b) => a.from - b.from || a.to - b.to);
    // A worker has a handful of runs: every pair is compared, each pair reported once, earlier one first.
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const [a, b] = [sorted[i] as Interval, sorted[j] as Interval];
        if (b.from < a.to) overlaps.push([a, b]);
      }
    }
  }
  return overlaps;
}

/** Mulberry32: a small, fast, seeded source of numbers in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

/** A count scaled by --scale, never below `min`. */
export function scaled(count: number, scale: number, min = 1): number {
  return Math.max(min, Math.round(count * scale));
}
