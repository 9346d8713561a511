// The bench's results: one JSON file per run under bench/results/, compared with the previous one, and the table printed.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';

/** Worse by more than this fraction than the previous file: flagged as a regression. */
export const REGRESSION_FRACTION = 0.2;

export const MetricSchema = z.object({
  /** What the row says, e.g. "dispatch p50 (POST → worker started)". */
  name: z.string(),
  value: z.number().nullable(),
  unit: z.string(),
  /** The bound it must stay at or below (every target of the bench is an upper bound); null: shown only. */
  target: z.number().nullable(),
  /** How the target was made, e.g. "1.25 × floor 212 ms". */
  targetNote: z.string().default(''),
  /**
   * The floor measured in the same run that the target is made from (ms or MB), if any: two runs are then
   * compared by value ÷ floor, so a busier machine (a higher floor) is not taken for a regression.
   */
  floor: z.number().nullable().default(null),
});
export type Metric = z.infer<typeof MetricSchema>;

export const BenchResultSchema = z.object({
  at: z.string(),
  machine: z.object({ cpus: z.number(), node: z.string(), loadAverage: z.array(z.number()) }),
  options: z.record(z.string(), z.unknown()),
  /** Each part of the floor (ms or MB) as measured in this run. */
  floor: z.record(z.string(), z.number()),
  /** Metrics by key; the key is what two files are compared by. */
  metrics: z.record(z.string(), MetricSchema),
  /** The dispatch path's stages: p50 and p99 per stage, beside its part of the floor. */
  stages: z.array(
    z.object({
      stage: z.string(),
      p50: z.number(),
      p99: z.number(),
      floor: z.number().nullable(),
      floorPart: z.string(),
    }),
  ),
});
export type BenchResult = z.infer<typeof BenchResultSchema>;

export const metOf = (m: Metric): boolean | null =>
  m.target === null ? null : m.value !== null && Number.isFinite(m.value) && m.value <= m.target;

export interface Regression {
  key: string;
  name: string;
  previous: number;
  current: number;
  /** current / previous − 1 (each ÷ its floor when both have one) */
  worseBy: number;
}

/**
 * Metrics more than REGRESSION_FRACTION worse (higher) than in `previous`, by key: by value ÷ floor when
 * both runs measured the metric's floor, else by value. Metrics missing on either side, or without a
 * value, are not compared; neither are those whose unit changed.
 */
export function regressions(previous: BenchResult, current: BenchResult): Regression[] {
  const out: Regression[] = [];
  for (const [key, now] of Object.entries(current.metrics)) {
    const before = previous.metrics[key];
    if (before === undefined || before.unit !== now.unit) continue;
    if (before.value === null || now.value === null || before.value <= 0) continue;
    const relative = before.floor !== null && now.floor !== null && before.floor > 0 && now.floor > 0;
    const worseBy = relative
      ? now.value / now.floor! / (before.value / before.floor!) - 1
      : now.value / before.value - 1;
    if (worseBy > REGRESSION_FRACTION)
      out.push({ key, name: now.name, previous: before.value, current: now.value, worseBy });
  }
  return out;
}

/** A file name that sorts by time: 2026-12-01T09-30-00-000Z.json */
export const resultFileName = (at: string) => `${at.replaceAll(':', '-').replaceAll('.', '-')}.json`;

/** The newest result file in `dir` other than `except`, parsed; null when there is none (or it is unreadable). */
export async function latestResult(dir: string, except?: string): Promise<BenchResult | null> {
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.json') && n !== except)
    .sort();
  const last = names.at(-1);
  if (last === undefined) return null;
  const parsed = BenchResultSchema.safeParse(JSON.parse(await readFile(join(dir, last), 'utf8')));
  return parsed.success ? parsed.data : null;
}

export async function saveResult(dir: string, result: BenchResult): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, resultFileName(result.at));
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

const fmt = (v: number | null, unit: string) =>
  v === null || !Number.isFinite(v)
    ? '—'
    : `${v >= 100 || unit === 'writes' ? v.toFixed(0) : v.toFixed(1)} ${unit}`;

/** The results as a Markdown table (printed, and pasted into the README). */
export function resultTable(result: BenchResult, previous: BenchResult | null): string {
  const rows = ['| metric | value | target | | previous |', '| --- | ---: | ---: | --- | ---: |'];
  for (const [key, m] of Object.entries(result.metrics)) {
    const met = metOf(m);
    const before = previous?.metrics[key];
    rows.push(
      `| ${m.name} | ${fmt(m.value, m.unit)} | ${m.target === null ? '' : `≤ ${fmt(m.target, m.unit)}`}${m.targetNote ? ` (${m.targetNote})` : ''} | ${met === null ? '' : met ? 'ok' : '**miss**'} | ${before ? fmt(before.value, before.unit) : ''} |`,
    );
  }
  return rows.join('\n');
}

/** The dispatch stages beside their parts of the floor. */
export function stageTable(result: BenchResult): string {
  const rows = ['| stage | p50 | p99 | floor part |', '| --- | ---: | ---: | --- |'];
  for (const s of result.stages) {
    rows.push(
      `| ${s.stage} | ${fmt(s.p50, 'ms')} | ${fmt(s.p99, 'ms')} | ${s.floor === null ? '—' : `${fmt(s.floor, 'ms')} (${s.floorPart})`} |`,
    );
  }
  return rows.join('\n');
}
