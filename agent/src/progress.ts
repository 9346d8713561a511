// Progress: usage and the progress text (PROGRESS.md's tail, else the last assistant text) written to the run, at most once per interval.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Progress, Run } from '@nightshift/shared';
import type { HeldRun } from './lifecycle.js';
import type { Clock } from './options.js';
import { readFileTail } from './rundir.js';
import type { Store } from './store.js';
import { keepEnd } from './stream.js';
import { type AgentTimings, PROGRESS_WINDOW_GROWTH, PROGRESS_WRITE_MAX_INTERVAL_MS } from './timings.js';

export const PROGRESS_TEXT_MAX_CHARS = 4_000;
/** How much of the end of PROGRESS.md is read (more than PROGRESS_TEXT_MAX_CHARS characters of any UTF-8). */
export const PROGRESS_READ_BYTES = 64 * 1024;

export interface ProgressDeps {
  store: Store;
  clock: Clock;
  timings: Pick<AgentTimings, 'progressWriteMs' | 'leaseMs'>;
}

/**
 * The gap before the progress write after `writes` earlier ones (timings.ts: the window widens from
 * `baseMs` by PROGRESS_WINDOW_GROWTH each write, up to PROGRESS_WRITE_MAX_INTERVAL_MS); 0 before the first.
 */
export function progressGapMs(writes: number, baseMs: number): number {
  if (writes === 0) return 0;
  const max = Math.max(baseMs, PROGRESS_WRITE_MAX_INTERVAL_MS);
  return Math.min(max, baseMs * PROGRESS_WINDOW_GROWTH ** (writes - 1));
}

/** Progress writes made so far for each watched run (kept here: only the progress writer counts them). */
const writesOf = new WeakMap<HeldRun['progress'], number>();

/** The run's progress file (its checkout's `progressPath`, inside the workspace unless absolute). */
export function progressFileOf(held: Pick<HeldRun, 'workspace' | 'checkout'>): string | null {
  if (held.workspace === null) return null;
  return resolve(held.workspace, held.checkout.progressPath);
}

/** Notices new text and usage; writes them when something changed and the interval has passed (or `force`). */
export async function writeProgress(deps: ProgressDeps, held: HeldRun, force: boolean): Promise<void> {
  const { store, clock } = deps;
  const watch = held.progress;
  const stream = held.tail.stream;
  if (stream.textVersion !== watch.textVersion && stream.lastText !== null) {
    watch.textVersion = stream.textVersion;
    watch.text = stream.lastText;
    watch.dirty = true;
  }
  const file = progressFileOf(held);
  if (file !== null) {
    try {
      const s = await stat(file);
      const stamp = `${s.size}:${s.mtimeMs}`;
      if (s.isFile() && stamp !== watch.fileStamp) {
        watch.fileStamp = stamp;
        const text = await readFileTail(file, PROGRESS_READ_BYTES);
        if (text !== null) {
          watch.text = keepEnd(text, PROGRESS_TEXT_MAX_CHARS);
          watch.dirty = true;
        }
      }
    } catch {
      // no PROGRESS.md yet
    }
  }
  const usageChanged = JSON.stringify(stream.usage) !== JSON.stringify(held.run.usage);
  if (!force && !watch.dirty && !usageChanged) return;
  const nowMs = clock.now().getTime();
  const writes = writesOf.get(watch) ?? 0;
  if (!force && nowMs - watch.lastWriteMs < progressGapMs(writes, deps.timings.progressWriteMs)) return;
  // The lease rides along: the heartbeat leaves a lease renewed since its last beat alone (one write fewer).
  const patch: Partial<Run> = {
    usage: { ...stream.usage },
    leaseExpiresAt: new Date(nowMs + deps.timings.leaseMs).toISOString(),
  };
  if (watch.text !== null)
    patch.progress = {
      text: keepEnd(watch.text, PROGRESS_TEXT_MAX_CHARS),
      updatedAt: clock.now().toISOString(),
    };
  watch.lastWriteMs = nowMs;
  writesOf.set(watch, writes + 1);
  await store.update(held.runId, patch);
  held.recorded(patch);
  watch.dirty = false;
}

/** The progress recorded with the terminal status: the file's tail, else the last assistant text. */
export async function finalProgress(clock: Clock, held: HeldRun): Promise<Progress | null> {
  const file = progressFileOf(held);
  let text: string | null = null;
  if (file !== null) text = await readFileTail(file, PROGRESS_READ_BYTES).catch(() => null);
  text ??= held.tail.stream.lastText;
  return text === null
    ? held.run.progress
    : { text: keepEnd(text, PROGRESS_TEXT_MAX_CHARS), updatedAt: clock.now().toISOString() };
}
