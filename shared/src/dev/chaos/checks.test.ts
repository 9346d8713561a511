// The chaos scenarios' judges: the overlap checker, the tally and the seeded random source.
import { describe, expect, it } from 'vitest';
import { findOverlaps, type Interval, percentile, scaled, seededRandom, Tally } from './checks.js';

const iv = (id: string, group: string, from: number, to: number): Interval => ({ id, group, from, to });

describe('findOverlaps', () => {
  it('finds two runs of one worker at once, and none across workers or for back-to-back runs', () => {
    const overlaps = findOverlaps([
      iv('a', 'w1', 0, 10),
      iv('b', 'w1', 10, 20), // starts as a ends: fine
      iv('c', 'w1', 15, 30), // inside b
      iv('d', 'w2', 0, 100), // another worker
      iv('e', 'w2', 100, 101),
    ]);
    expect(overlaps.map(([x, y]) => `${x.id}<>${y.id}`)).toEqual(['b<>c']);
  });

  it('reports every pair, also a run that never ended against all after it', () => {
    const overlaps = findOverlaps([
      iv('late', 'w', 50, 60),
      iv('open', 'w', 0, Number.POSITIVE_INFINITY),
      iv('mid', 'w', 20, 30),
    ]);
    expect(overlaps.map(([x, y]) => `${x.id}<>${y.id}`)).toEqual(['open<>mid', 'open<>late']);
  });

  it('finds nothing in an empty list', () => {
    expect(findOverlaps([])).toEqual([]);
  });
});

describe('Tally', () => {
  it('counts every judged outcome and keeps the details of the wrong ones only', () => {
    const tally = new Tally();
    expect(tally.check(true, 'not kept')).toBe(true);
    expect(tally.check(false, () => 'kept')).toBe(false);
    expect(tally.tried).toBe(2);
    expect(tally.wrong).toEqual(['kept']);
  });
});

describe('seededRandom', () => {
  it('gives the same sequence for a seed and another for another seed, within [0, 1)', () => {
    const take = (seed: number) => Array.from({ length: 50 }, seededRandom(seed));
    expect(take(7)).toEqual(take(7));
    expect(take(7)).not.toEqual(take(8));
    expect(take(7).every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('percentile and scaled', () => {
  it('reads the nearest rank and scales counts with a floor', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 100)).toBe(5);
    expect(scaled(300, 0.2)).toBe(60);
    expect(scaled(10, 0.01, 2)).toBe(2);
  });
});
