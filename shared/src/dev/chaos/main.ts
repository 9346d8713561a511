// `npm run chaos`: the reliability scenarios (load, duplicates, kill -9, outages, bad input) on a loopback stack; non-zero exit when anything is wrong.
import { parseArgs } from 'node:util';
import { gcloudAvailable, MISSING_SDK_MESSAGE } from '../emulators.js';
import { badInput } from './bad-input.js';
import { duplicates } from './duplicates.js';
import { stopAllStacks } from './harness.js';
import { kill } from './kill.js';
import { load } from './load.js';
import { outage } from './outage.js';
import type { Scenario } from './scenario.js';

const SCENARIOS: Scenario[] = [load, duplicates, kill, outage, badInput];
/** Every detail line of a scenario's wrong outcomes is printed up to this many; the count is always exact. */
const MAX_DETAILS = 50;
/** The longest one full scenario may take (the slowest takes about 8 minutes here); scaled with --scale. */
const SCENARIO_LIMIT_MS = 25 * 60_000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      scale: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  const names = SCENARIOS.map((s) => s.name);
  if (values.help) {
    process.stdout.write(
      `npm run chaos [-- --only <${names.join('|')}> … --scale <0..1> --seed <n>]\n` +
        SCENARIOS.map((s) => `  ${s.name.padEnd(11)} ${s.summary}\n`).join(''),
    );
    return 0;
  }
  const only = (values.only ?? []).flatMap((o) => o.split(','));
  const unknown = only.filter((o) => !names.includes(o));
  if (unknown.length > 0) {
    process.stderr.write(
      `npm run chaos: unknown scenario ${unknown.join(', ')} (expected ${names.join(', ')})\n`,
    );
    return 2;
  }
  const scale = Number(values.scale);
  const seed = Number(values.seed);
  if (!(scale > 0 && scale <= 10) || !Number.isInteger(seed)) {
    process.stderr.write('npm run chaos: --scale must be a number in (0, 10], --seed a whole number\n');
    return 2;
  }
  if (!gcloudAvailable()) {
    process.stderr.write(`npm run chaos: ${MISSING_SDK_MESSAGE}.\n`);
    return 1;
  }
  const chosen = only.length > 0 ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const rows: Array<{ name: string; tried: number; wrong: number; seconds: number; error?: string }> = [];
  for (const scenario of chosen) {
    log(`\n== ${scenario.name}: ${scenario.summary} (scale ${scale}, seed ${seed})`);
    const t0 = performance.now();
    try {
      const limitMs = SCENARIO_LIMIT_MS * Math.max(0.2, Math.min(1, scale));
      let timer: NodeJS.Timeout | undefined;
      const overTime = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void stopAllStacks().finally(() =>
            reject(new Error(`not finished within ${(limitMs / 60_000).toFixed(0)} minutes: stopped`)),
          );
        }, limitMs);
      });
      const tally = await Promise.race([scenario.run({ scale, seed, log }), overTime]).finally(() =>
        clearTimeout(timer),
      );
      const seconds = (performance.now() - t0) / 1000;
      for (const [key, value] of Object.entries(tally.figures)) log(`  ${key}: ${value}`);
      for (const detail of tally.wrong.slice(0, MAX_DETAILS)) log(`  WRONG ${detail}`);
      if (tally.wrong.length > MAX_DETAILS) log(`  … and ${tally.wrong.length - MAX_DETAILS} more`);
      log(
        `  ${scenario.name}: ${tally.tried} tried / ${tally.wrong.length} wrong in ${seconds.toFixed(0)} s`,
      );
      rows.push({ name: scenario.name, tried: tally.tried, wrong: tally.wrong.length, seconds });
    } catch (error) {
      const seconds = (performance.now() - t0) / 1000;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`  ${scenario.name}: could not finish: ${message}`);
      rows.push({ name: scenario.name, tried: 0, wrong: 1, seconds, error: message });
    }
  }
  log('\nscenario     tried  wrong  seconds');
  for (const r of rows) {
    log(
      `${r.name.padEnd(12)} ${String(r.tried).padStart(5)}  ${String(r.wrong).padStart(5)}  ${r.seconds.toFixed(0).padStart(7)}${r.error ? '  (did not finish)' : ''}`,
    );
  }
  const wrong = rows.reduce((n, r) => n + r.wrong, 0);
  log(wrong === 0 ? '\nNothing wrong.' : `\n${wrong} wrong outcome(s).`);
  return wrong === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`npm run chaos: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
