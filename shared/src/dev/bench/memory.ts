// Resident memory and CPU of a process, sampled from /proc, and the memory floor process (floor-process.mjs).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPubSub } from '../../pubsub.js';
import { REPO_ROOT } from '../local-stack.js';
import { cpuPercent, cpuTicksOf, median, rssMbOf } from './stats.js';

const FLOOR_PROCESS = join(REPO_ROOT, 'shared/src/dev/bench/floor-process.mjs');
const SAMPLE_MS = 500;

export interface Usage {
  /** Median and largest resident memory over the window, MB. */
  rssMb: number;
  rssMaxMb: number;
  /** Percent of one core over the window. */
  cpuPercent: number;
}

/** Samples `pid` every SAMPLE_MS for `windowMs`: its RSS and its CPU time over the window. */
export async function sampleUsage(pid: number, windowMs: number): Promise<Usage> {
  const ticks = async () => cpuTicksOf(await readFile(`/proc/${pid}/stat`, 'utf8'));
  const rss: number[] = [];
  const t0 = performance.now();
  const ticks0 = await ticks();
  while (performance.now() - t0 < windowMs) {
    rss.push(rssMbOf(await readFile(`/proc/${pid}/status`, 'utf8')));
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
  }
  const ticks1 = await ticks();
  return {
    rssMb: median(rss),
    rssMaxMb: Math.max(...rss),
    cpuPercent: cpuPercent(ticks0, ticks1, performance.now() - t0),
  };
}

/** The floor process, started, settled for `settleMs`, sampled for `windowMs`, stopped. */
export async function measureMemoryFloor(
  project: string,
  settleMs: number,
  windowMs: number,
): Promise<Usage> {
  const pubsub = createPubSub(project);
  const name = `bench-memory-floor-${Date.now().toString(36)}`;
  const [topic] = await pubsub.createTopic(name);
  await topic.createSubscription(name);
  const child = spawn(process.execPath, [FLOOR_PROCESS, project, name], {
    cwd: REPO_ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the memory floor process exited (${code})`)));
    });
    await new Promise((r) => setTimeout(r, settleMs));
    return await sampleUsage(child.pid as number, windowMs);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await topic.delete().catch(() => {});
    await pubsub
      .subscription(name)
      .delete()
      .catch(() => {});
    await pubsub.close();
  }
}
