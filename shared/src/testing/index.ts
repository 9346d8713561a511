// Test helpers on the real emulators: per-file projects, clients, polling, temp folders.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Firestore, Settings } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, describe, inject } from 'vitest';
import type * as z from 'zod';
import { resetFirestore } from '../dev/emulators.js';
import { type Collections, collections, createFirestore } from '../firestore.js';
import { createPubSub, ensureTopology } from '../pubsub.js';
import { type Run, RunSchema } from '../run.js';
import './context.js';
import { EMULATOR_TAG } from './tag.js';

export { describeUnless, MISSING_TAG } from './needs.js';
export { type CutMode, startTcpProxy, type TcpProxy } from './tcp-proxy.js';
export { EMULATOR_TAG };
export const emulators = inject('emulators');

/**
 * A describe block that needs the emulators. It runs wherever the Google Cloud SDK is installed; where it
 * is missing, its tests are skipped and the skip reporter counts them in one loud line.
 */
export function describeEmulators(name: string, fn: () => void): void {
  describe.skipIf(emulators === null)(`${name} ${EMULATOR_TAG}`, fn);
}

/** A fresh project id: each test file (or test) gets its own Firestore and Pub/Sub namespace. */
export function testProjectId(): string {
  return `t-${randomBytes(6).toString('hex')}`;
}

export interface TestEnv {
  projectId: string;
  db: Firestore;
  pubsub: PubSub;
  cols: Collections;
  /** Deletes every document of this project. */
  reset(): Promise<void>;
}

/**
 * Clients on a fresh project with the command topology created; closed after the file's tests.
 * Call it in a beforeAll of a describeEmulators block; its clients are closed after the file (onFileEnd).
 */
export async function useTestEnv(): Promise<TestEnv> {
  const hosts = emulators;
  if (!hosts) throw new Error('useTestEnv needs the emulators: call it inside describeEmulators');
  const projectId = testProjectId();
  const db = createFirestore(projectId);
  const pubsub = createPubSub(projectId);
  await ensureTopology(pubsub);
  onFileEnd(async () => {
    await db.terminate();
    await pubsub.close();
  });
  return {
    projectId,
    db,
    pubsub,
    cols: collections(db),
    reset: () => resetFirestore(hosts.firestoreHost, projectId),
  };
}

/**
 * A Firestore client on `projectId` that talks to `host` (a proxy in front of the emulator) instead of the
 * emulator itself. The client lets FIRESTORE_EMULATOR_HOST win over any host in its settings and reads it
 * only when constructed, so the variable is swapped for that one synchronous call.
 */
export function createFirestoreVia(host: string, projectId: string, settings: Settings = {}): Firestore {
  const saved = process.env.FIRESTORE_EMULATOR_HOST;
  process.env.FIRESTORE_EMULATOR_HOST = host;
  try {
    return createFirestore(projectId, settings);
  } finally {
    if (saved === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
    else process.env.FIRESTORE_EMULATOR_HOST = saved;
  }
}

/** Polls until `check` returns a value other than undefined/false, or fails naming what it waited for. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 10_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A temporary folder removed after the file's tests. */
export async function tempDir(prefix = 'nightshift-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onFileEnd(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Cleanups that run after the test file, newest first (agents stop before their clients close). Vitest
 * never runs a hook registered from inside a test or a beforeAll, which is where helpers are called, so
 * one hook is registered when this module is loaded (while the file is collected) and runs them all:
 * before it, clients were never closed and temp folders and tmux sockets piled up in /tmp.
 */
const fileEnd: Array<() => unknown> = [];
export function onFileEnd(cleanup: () => unknown): void {
  fileEnd.push(cleanup);
}
afterAll(async () => {
  while (fileEnd.length > 0) {
    const cleanup = fileEnd.pop() as () => unknown;
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`test cleanup failed: ${(error as Error).message}\n`);
    }
  }
});

/** A stored run for tests: a queued API run with its required fields filled, then the given ones. */
export function testRun(fields: Partial<z.input<typeof RunSchema>> & { id: string; workerId: string }): Run {
  const at = new Date().toISOString();
  return RunSchema.parse({
    trigger: { type: 'api' },
    prompt: 'p',
    model: 'sonnet',
    checkout: {
      repo: null,
      workdir: '/nonexistent/test-workdir',
      roadmapPath: 'docs/roadmap.md',
      progressPath: 'PROGRESS.md',
    },
    maxDurationMinutes: 60,
    status: 'queued',
    createdAt: at,
    updatedAt: at,
    ...fields,
  });
}
