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
  const [usage] = await sampleUsages([pid], windowMs);
  return usage as Usage;
}

/**
 * Samples every pid of `pids` in turn, every SAMPLE_MS for `windowMs`: each one's RSS (median and largest)
 * and its CPU time over the same window. Interleaved, so that processes compared with each other see the
 * same moments of the machine's load.
 */
export async function sampleUsages(pids: readonly number[], windowMs: number): Promise<Usage[]> {
  const ticks = async (pid: number) => cpuTicksOf(await readFile(`/proc/${pid}/stat`, 'utf8'));
  const rss: number[][] = pids.map(() => []);
  const t0 = performance.now();
  const ticks0 = await Promise.all(pids.map(ticks));
  while (performance.now() - t0 < windowMs) {
    for (const [i, pid] of pids.entries()) {
      rss[i]?.push(rssMbOf(await readFile(`/proc/${pid}/status`, 'utf8')));
    }
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
  }
  const ticks1 = await Promise.all(pids.map(ticks));
  const elapsed = performance.now() - t0;
  return pids.map((_, i) => ({
    rssMb: median(rss[i] ?? []),
    rssMaxMb: Math.max(...(rss[i] ?? [])),
    cpuPercent: cpuPercent(ticks0[i] as number, ticks1[i] as number, elapsed),
  }));
}

export interface MemoryFloor {
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the floor process with `nodeFlags` (the agent's: the young generation's cap and the source maps
 * change a process's idle RSS by 10 MB and more, so the floor runs with the very flags the agent runs
 * with) and resolves once it has read once and opened its streaming pull. The caller samples it beside
 * the agent (sampleUsages) and stops it.
 */
export async function startMemoryFloor(project: string, nodeFlags: readonly string[]): Promise<MemoryFloor> {
  const pubsub = createPubSub(project);
  const name = `bench-memory-floor-${Date.now().toString(36)}`;
  const [topic] = await pubsub.createTopic(name);
  await topic.createSubscription(name);
  const child = spawn(process.execPath, [...nodeFlags, FLOOR_PROCESS, project, name], {
    cwd: REPO_ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await topic.delete().catch(() => {});
    await pubsub
      .subscription(name)
      .delete()
      .catch(() => {});
    await pubsub.close();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the memory floor process exited (${code})`)));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid as number, stop };
}
