// The bench's results: regressions against the previous file, the latest file found, and the table.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@nightshift/shared/testing';
import { describe, expect, it } from 'vitest';
import {
  type BenchResult,
  latestResult,
  type Metric,
  regressions,
  resultFileName,
  resultTable,
  saveResult,
} from './results.js';

const metric = (
  value: number | null,
  target: number | null = 100,
  unit = 'ms',
  floor: number | null = null,
): Metric => ({
  name: 'dispatch p50',
  value,
  unit,
  target,
  targetNote: '',
  floor,
});

function result(at: string, metrics: Record<string, Metric>): BenchResult {
  return {
    at,
    machine: { cpus: 2, node: 'v20', loadAverage: [1, 1, 1] },
    options: {},
    floor: { totalMs: 200 },
    metrics,
    stages: [],
  };
}

describe('regressions', () => {
  it('flags a metric more than 20 % higher than before, not one 20 % or less, nor an improvement', () => {
    const before = result('a', { up: metric(100), edge: metric(100), down: metric(100) });
    const now = result('b', { up: metric(121), edge: metric(120), down: metric(50) });
    expect(regressions(before, now)).toEqual([
      { key: 'up', name: 'dispatch p50', previous: 100, current: 121, worseBy: expect.closeTo(0.21, 5) },
    ]);
  });

  it('compares value ÷ floor when both runs measured the floor: a busier machine is no regression', () => {
    const before = result('a', { p50: metric(130, 125, 'ms', 100), mb: metric(120, 122, 'MB', 107) });
    const slower = result('b', { p50: metric(250, 250, 'ms', 200), mb: metric(150, 122, 'MB', 107) });
    expect(regressions(before, slower).map((r) => [r.key, Number(r.worseBy.toFixed(3))])).toEqual([
      ['mb', 0.25],
    ]);
    const worse = result('c', { p50: metric(200, 125, 'ms', 100), mb: metric(120, 122, 'MB', 107) });
    expect(regressions(before, worse).map((r) => r.key)).toEqual(['p50']);
  });

  it('skips metrics new or gone, without a value, or whose unit changed', () => {
    const before = result('a', { gone: metric(1), none: metric(null), unit: metric(10, 100, 'ms') });
    const now = result('b', { added: metric(500), none: metric(900), unit: metric(900, 100, 'MB') });
    expect(regressions(before, now)).toEqual([]);
  });
});

describe('result files', () => {
  it('finds the newest file other than the one just written; none in an empty or missing folder', async () => {
    const dir = await tempDir('nightshift-bench-results-');
    expect(await latestResult(join(dir, 'missing'))).toBeNull();
    const older = result('2026-11-30T10:00:00.000Z', { a: metric(1) });
    const newer = result('2026-12-01T09:00:00.000Z', { a: metric(2) });
    await saveResult(dir, newer);
    await saveResult(dir, older);
    await writeFile(join(dir, 'notes.txt'), 'not a result');
    expect((await latestResult(dir))?.at).toBe(newer.at);
    expect((await latestResult(dir, resultFileName(newer.at)))?.at).toBe(older.at);
  });

  it('names files so that they sort by time, without colons', () => {
    expect(resultFileName('2026-12-01T09:30:00.123Z')).toBe('2026-12-01T09-30-00-123Z.json');
  });
});

describe('resultTable', () => {
  it('marks each target met or missed, and shows the previous value', () => {
    const previous = result('a', { p50: metric(90) });
    const table = resultTable(result('b', { p50: metric(120), rss: metric(10, null, 'MB') }), previous);
    expect(table).toContain('| dispatch p50 | 120 ms | ≤ 100 ms | **miss** | 90.0 ms |');
    expect(table).toContain('| dispatch p50 | 10.0 MB |  |  |  |');
  });
});
