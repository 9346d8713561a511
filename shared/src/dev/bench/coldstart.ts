// Cold start of each bundled function: its import time beside the library floor, and the first request to a fresh api.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { FUNCTION_ENTRY_POINTS } from '../../names.js';
import { freePort } from '../emulators.js';
import { FUNCTIONS_FRAMEWORK } from './stack.js';
import { median } from './stats.js';

const exec = promisify(execFile);

/**
 * Imports `what` in a fresh node beside the bundle, functions-framework already loaded (the runtime loads it
 * first, then imports the function): prints the import's milliseconds.
 */
const PROBE = `
await import('@google-cloud/functions-framework');
const t = performance.now();
const cpu = process.cpuUsage();
if (process.argv[1] === 'floor') { await import('@google-cloud/firestore'); await import('@google-cloud/pubsub'); }
else await import('./index.js');
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ wall: performance.now() - t, cpu: (used.user + used.system) / 1000 }));`;

/** An import's wall time and the CPU time it took (less swayed by other processes on a shared machine). */
interface Import {
  wall: number;
  cpu: number;
}

async function importMs(dir: string, env: Record<string, string>, what: string): Promise<Import> {
  const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', PROBE, what], {
    cwd: dir,
    env: { ...env, ...(what === 'floor' ? {} : { FUNCTION_TARGET: what }) },
  });
  return JSON.parse(stdout) as Import;
}

export interface ColdStart {
  libraryFloorMs: number;
  libraryFloorCpuMs: number;
  importMs: Record<string, number>;
  importCpuMs: Record<string, number>;
  /** From the request sent to a just-started api to its answer. */
  apiFirstRequestMs: number;
}

/** Medians over `rounds` rounds; each round imports the floor and every function once, in turn (rotated). */
export async function measureColdStart(opts: {
  functionsDir: string;
  env: Record<string, string>;
  token: string;
  rounds: number;
}): Promise<ColdStart> {
  const samples: Record<string, Import[]> = { floor: [] };
  for (const name of FUNCTION_ENTRY_POINTS) samples[name] = [];
  const med = (what: string, key: keyof Import) => median((samples[what] ?? []).map((s) => s[key]));
  const order = ['floor', ...FUNCTION_ENTRY_POINTS];
  for (let i = 0; i < opts.rounds; i++) {
    // Each round starts one further along, so no import always runs first (right after the cold-start
    // phase begins, or after the same neighbour) and the floor is not favoured or hurt by its place.
    for (let j = 0; j < order.length; j++) {
      const what = order[(i + j) % order.length] as string;
      samples[what]?.push(await importMs(opts.functionsDir, opts.env, what));
    }
  }
  const first: number[] = [];
  for (let i = 0; i < opts.rounds; i++) first.push(await firstRequestMs(opts));
  return {
    libraryFloorMs: med('floor', 'wall'),
    libraryFloorCpuMs: med('floor', 'cpu'),
    importMs: Object.fromEntries(FUNCTION_ENTRY_POINTS.map((n) => [n, med(n, 'wall')])),
    importCpuMs: Object.fromEntries(FUNCTION_ENTRY_POINTS.map((n) => [n, med(n, 'cpu')])),
    apiFirstRequestMs: median(first),
  };
}

/** Starts functions-framework serving api from the bundle, and times its first answer to GET /v1/workers. */
async function firstRequestMs(opts: { functionsDir: string; env: Record<string, string>; token: string }) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [FUNCTIONS_FRAMEWORK, `--port=${port}`, `--source=${opts.functionsDir}`],
    {
      env: { ...opts.env, FUNCTION_TARGET: 'api', NIGHTSHIFT_API_TOKENS: opts.token },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('Serving function')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`functions-framework exited (${code})`)));
    });
    // The server listens right after it says so; the first connection may beat it by a hair.
    for (let attempt = 0; ; attempt++) {
      const t = performance.now();
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/workers`, {
          headers: { authorization: `Bearer ${opts.token}` },
        });
        if (!res.ok) throw new Error(`GET /v1/workers: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
        return performance.now() - t;
      } catch (error) {
        if (attempt >= 20 || !String((error as Error).cause ?? error).includes('ECONNREFUSED')) throw error;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}
