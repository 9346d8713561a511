// The run directory (NIGHTSHIFT_HOME/runs/<runId>): launch spec, raw log, exit status and the saved tail offset.
import { constants } from 'node:fs';
import { open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RUN_FILES } from './runner/files.mjs';
import { applyChunk, type ExitStatus, emptyStreamState, type StreamState } from './stream.js';

// One plain-JS list, so the runner (bare `node`, no TypeScript) and the agent cannot disagree on a name.
export { RUN_FILES };

export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface TailState {
  offset: number;
  stream: StreamState;
}

export function runDirOf(home: string, runId: string): string {
  return join(home, 'runs', runId);
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value), { mode: 0o600 });
  await rename(tmp, path);
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export const readLaunch = (dir: string) => readJson<LaunchSpec>(join(dir, RUN_FILES.launch));
export const readExit = (dir: string) => readJson<ExitStatus & { at?: string }>(join(dir, RUN_FILES.exit));
export const readPids = (dir: string) =>
  readJson<{ runner?: number; worker?: number }>(join(dir, RUN_FILES.pids));

/** The saved tail; throws when tail.json is not one (truncated by a power loss, say). */
export async function readTail(dir: string): Promise<TailState> {
  const saved = await readJson<TailState>(join(dir, RUN_FILES.tail));
  if (saved === null) return { offset: 0, stream: emptyStreamState() };
  const ok =
    typeof saved === 'object' &&
    Number.isSafeInteger(saved.offset) &&
    saved.offset >= 0 &&
    typeof saved.stream === 'object' &&
    saved.stream !== null &&
    Array.isArray(saved.stream.assistantIds) &&
    typeof saved.stream.usage === 'object' &&
    saved.stream.usage !== null;
  if (!ok) throw new Error('not a saved tail state');
  return saved;
}

const MAX_READ_BYTES = 4 * 1024 * 1024;

/**
 * Reads the log from the saved offset, applies whole lines, and saves offset and state together, so an
 * agent that restarts resumes exactly where the saved state ends. Returns whether anything was read.
 */
export async function advanceTail(dir: string, tail: TailState): Promise<boolean> {
  const path = join(dir, RUN_FILES.stream);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (size <= tail.offset) return false;
  const handle = await open(path, 'r');
  let advanced = false;
  try {
    while (tail.offset < size) {
      const length = Math.min(size - tail.offset, MAX_READ_BYTES);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, tail.offset);
      const chunk = buffer.subarray(0, bytesRead);
      let used = applyChunk(tail.stream, chunk);
      // A single line longer than the read window: skip it rather than stall.
      if (used === 0 && bytesRead === MAX_READ_BYTES) {
        tail.stream.skippedLines++;
        used = bytesRead;
      }
      if (used === 0) break;
      tail.offset += used;
      advanced = true;
    }
  } finally {
    await handle.close();
  }
  if (advanced) await writeJsonAtomic(join(dir, RUN_FILES.tail), tail);
  return advanced;
}

/** After the worker exited: a last line without a newline still counts. */
export async function finishTail(dir: string, tail: TailState): Promise<void> {
  await advanceTail(dir, tail);
  const path = join(dir, RUN_FILES.stream);
  try {
    const rest = (await readFile(path)).subarray(tail.offset);
    if (rest.length > 0) {
      applyChunk(tail.stream, Buffer.concat([rest, Buffer.from('\n')]));
      tail.offset += rest.length;
      await writeJsonAtomic(join(dir, RUN_FILES.tail), tail);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * The last `maxBytes` of a regular file as text (a partial first character dropped), or null when the path
 * is missing or not a regular file. Opened non-blocking, so a FIFO put there never stalls the agent, and
 * checked on the open handle; only the tail is read, so a huge file costs no more than maxBytes.
 */
export async function readFileTail(path: string, maxBytes: number): Promise<string | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    if (!(await stat(path)).isFile()) return null;
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const s = await handle.stat();
    if (!s.isFile()) return null;
    const start = Math.max(0, s.size - maxBytes);
    const buffer = Buffer.alloc(s.size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    let bytes = buffer.subarray(0, bytesRead);
    // Cut inside a UTF-8 character: drop its continuation bytes.
    if (start > 0) while (bytes.length > 0 && ((bytes[0] ?? 0) & 0xc0) === 0x80) bytes = bytes.subarray(1);
    return bytes.toString('utf8');
  } finally {
    await handle.close();
  }
}

export type ExitRecord = NonNullable<Awaited<ReturnType<typeof readExit>>>;

/** exit.json, or why it cannot be read (a power loss can leave it truncated): the path and the error. */
export async function readExitStatus(
  dir: string,
): Promise<{ exit: ExitRecord | null; unreadable: string | null }> {
  try {
    return { exit: await readExit(dir), unreadable: null };
  } catch (error) {
    return {
      exit: null,
      unreadable: `${join(dir, RUN_FILES.exit)} (${error instanceof Error ? error.message : String(error)})`,
    };
  }
}
