// Chains end to end: the local stack's agent and reactor together on the emulators (real tmux, real git, the stand-in worker) run a roadmap of three items as exactly three chained runs, and a run without a commit stops the chain.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collections, createFirestore } from '../firestore.js';
import type { Run } from '../run.js';
import { describeEmulators, emulators, tempDir, testProjectId, waitFor } from '../testing/index.js';
import { WorkerSchema } from '../worker.js';
import { freePort } from './emulators.js';
import { type Stack, startStack } from './local-stack.js';
import { writeStandinWorker } from './standin-worker.js';

const exec = promisify(execFile);
const git = (cwd: string, ...args: string[]) => exec('git', args, { cwd });

/** A bare origin whose roadmap has three unchecked items. */
async function roadmapOrigin(root: string, name: string): Promise<string> {
  const origin = join(root, 'origins', `${name}.git`);
  const seed = join(root, 'seeds', name);
  await mkdir(join(seed, 'docs'), { recursive: true });
  await mkdir(join(root, 'origins'), { recursive: true });
  await git(root, 'init', '-q', '--bare', '-b', 'main', origin);
  await git(seed, 'init', '-q', '-b', 'main');
  await writeFile(
    join(seed, 'docs', 'roadmap.md'),
    '# Roadmap\n\n- [ ] the first item\n- [ ] the second item\n- [ ] the third item\n',
  );
  await writeFile(join(seed, 'PROGRESS.md'), '# Progress\n');
  await git(seed, 'add', '.');
  await git(seed, '-c', 'user.name=Seed', '-c', 'user.email=seed@example.com', 'commit', '-q', '-m', 'seed');
  await git(seed, 'push', '-q', origin, 'main');
  return origin;
}

describeEmulators('Chains: an agent and the reactor together', () => {
  let stack: Stack;
  let root: string;
  let cols: ReturnType<typeof collections>;
  let logs = '';

  beforeAll(async () => {
    root = await tempDir('nightshift-chain-');
    const projectId = testProjectId();
    const sink = new (await import('node:stream')).Writable({
      write(chunk, _enc, done) {
        logs = (logs + chunk.toString()).slice(-30_000);
        done();
      },
    });
    stack = await startStack({
      emulators: emulators ?? undefined,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GOOGLE_CLOUD_PROJECT: projectId,
        PORT: String(await freePort()),
        NIGHTSHIFT_HOME: join(root, 'home'),
        NIGHTSHIFT_WORKER_COMMAND: await writeStandinWorker(root),
        NIGHTSHIFT_TMUX_SOCKET: `ns-chain-${process.pid}`,
        NIGHTSHIFT_AGENT_ID: 'chain-agent',
        NIGHTSHIFT_MAX_WORKERS: '2',
        NIGHTSHIFT_LOG_FORMAT: 'json',
      },
      out: sink,
      err: sink,
    });
    cols = collections(createFirestore(projectId));
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await exec('tmux', ['-L', `ns-chain-${process.pid}`, 'kill-server']).catch(() => {});
  });

  async function addWorker(id: string, prompt: string): Promise<void> {
    const at = new Date().toISOString();
    const worker = WorkerSchema.parse({
      id,
      repo: { url: await roadmapOrigin(root, id), branch: 'main', push: false },
      prompt,
      chain: { enabled: true, maxRunsPerDay: 10 },
      createdAt: at,
      updatedAt: at,
    });
    await cols.workers.doc(worker.id).set(worker);
  }

  async function startRun(workerId: string): Promise<string> {
    const res = await fetch(`${stack.url}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workerId }),
    });
    expect(res.status, await res.clone().text()).toBe(202);
    return ((await res.json()) as Run).id;
  }

  const runsOf = async (workerId: string): Promise<Run[]> =>
    (await cols.runs.where('workerId', '==', workerId).get()).docs
      .map((d) => d.data())
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const notesOf = async (runId: string): Promise<string[]> =>
    (await cols.runEvents(runId).orderBy('at').get()).docs.flatMap((d) => {
      const e = d.data();
      return e.type === 'note' ? [e.message] : [];
    });
  /** Waits for the chain's stop note on some run of the worker: the reactor's last word. */
  const chainStopped = (workerId: string) =>
    waitFor(
      `the chain of ${workerId} to stop`,
      async () => {
        for (const run of await runsOf(workerId)) {
          const note = (await notesOf(run.id)).find((n) => n.startsWith('chain stopped: '));
          if (note) return { run, note };
        }
        return undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- stack log ---\n${logs}`);
    });

  describe('a roadmap of three items', () => {
    it('runs exactly three chained runs, one item and one commit each, and stops with "roadmap done" on the last', async () => {
      await addWorker('three', 'Work on the roadmap.\nnightshift-scenario: tick');
      const first = await startRun('three');
      const stopped = await chainStopped('three');
      // Nothing comes after the stop (a redelivered event would queue nothing either).
      await new Promise((r) => setTimeout(r, 2_000));
      const runs = await runsOf('three');
      expect(runs.map((r) => r.id)).toEqual([first, `chain-${first}`, `chain-chain-${first}`]);
      expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(runs.map((r) => r.commits.length)).toEqual([1, 1, 1]);
      expect(runs.map((r) => r.roadmapOpen)).toEqual([2, 1, 0]);
      expect(runs.map((r) => r.trigger)).toEqual([
        { type: 'api' },
        { type: 'chain', previousRunId: first },
        { type: 'chain', previousRunId: `chain-${first}` },
      ]);
      expect(runs.map((r) => r.parentRunId)).toEqual([null, first, `chain-${first}`]);
      expect(stopped.run.id).toBe(`chain-chain-${first}`);
      expect(stopped.note).toBe(
        'chain stopped: the roadmap is done: no open item in docs/roadmap.md or docs/TASKS.md',
      );
      // The one stop note, on the last run only.
      for (const run of runs.slice(0, 2))
        expect((await notesOf(run.id)).filter((n) => n.startsWith('chain stopped'))).toEqual([]);
      const roadmap = await readFile(join(root, 'home', 'workspaces', 'three', 'docs', 'roadmap.md'), 'utf8');
      expect(roadmap.match(/^- \[x\]/gm)).toHaveLength(3);
      for (const run of runs) expect(roadmap).toContain(`(run ${run.id})`);
    }, 180_000);
  });

  describe('a run that makes no commit', () => {
    it('stops the chain with the reason on that run', async () => {
      // The first run ticks (from the prompt of its own); the chained run's stand-in commits nothing.
      await addWorker('idle', 'Work on the roadmap.');
      const res = await fetch(`${stack.url}/v1/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ workerId: 'idle', prompt: 'Work on the roadmap.\nnightshift-scenario: tick' }),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      const first = ((await res.json()) as Run).id;
      await writeFile(join(root, 'fake', `chain-${first}.scenario`), 'tick none');
      const stopped = await chainStopped('idle');
      await new Promise((r) => setTimeout(r, 2_000));
      const runs = await runsOf('idle');
      expect(runs.map((r) => r.id)).toEqual([first, `chain-${first}`]);
      expect(runs.map((r) => [r.status, r.commits.length, r.roadmapOpen])).toEqual([
        ['succeeded', 1, 2],
        ['succeeded', 0, 2],
      ]);
      expect(stopped.run.id).toBe(`chain-${first}`);
      expect(stopped.note).toBe('chain stopped: the run made no commit');
    }, 180_000);
  });
});
