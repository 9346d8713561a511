// Test harness of the agent: real git repositories, a per-file tmux socket, the fake claude, agents on the emulators.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  autopilotOf,
  COLLECTIONS,
  checkoutOf,
  commandsTopic,
  makeCommand,
  publishCommand,
  type Run,
  type RunStatus,
  type Worker,
  WorkerSchema,
} from '@nightshift/shared';
import { createSeededOrigin } from '@nightshift/shared/dev';
import { onFileEnd, type TestEnv, tempDir, testRun, useTestEnv, waitFor } from '@nightshift/shared/testing';
import { Agent } from '../agent.js';
import { silentLogger } from '../log.js';
import { type AgentOptionsInput, compileAgentOptions } from '../options.js';
import type { AgentTimings } from '../timings.js';
import { createTmux, type Tmux } from '../tmux.js';

const exec = promisify(execFile);
export const FAKE_CLAUDE = join(dirname(fileURLToPath(import.meta.url)), 'fake-claude.mjs');

/** Short timings so tests finish quickly on two cores. */
export const TEST_TIMINGS: AgentTimings = {
  tickMs: 100,
  cancelPollMs: 250,
  heartbeatMs: 1_000,
  leaseMs: 5_000,
  progressWriteMs: 300,
  resultExitGraceMs: 1_000,
  stopEscalationMs: 500,
  firestoreDeadlineMs: 5_000,
  publishDeadlineMs: 5_000,
  resubscribeMs: 500,
  minuteMs: 60_000,
  // Off: no agent of the other tests stops a VM (idle.test.ts turns it on with a stand-in VM).
  idleStopMs: 0,
  computeDeadlineMs: 5_000,
  limitMarginMs: 300,
  limitFallbackMs: 5 * 60 * 60_000,
  holderGoneMs: 30 * 60_000,
  resumeHoldsVmMs: 15 * 60_000,
};

export type Scenario =
  | 'success'
  | 'is_error'
  | 'exit_nonzero'
  | 'no_result'
  | 'huge_result'
  | 'refuse_root'
  | 'hang_after_result'
  | 'slow'
  | 'slow_no_result'
  | 'dirty'
  | 'replay'
  | 'rate_limit'
  | 'rate_limit_always'
  | 'limit_text'
  | 'trailers'
  | 'blocked'
  | 'stall'
  | 'tick'
  | 'spend'
  | 'hang_before_session'
  | 'hang_after_init';

export interface AgentTest {
  env: TestEnv;
  root: string;
  home: string;
  fakeDir: string;
  tmux: Tmux;
  startAgent(overrides?: Partial<AgentOptionsInput>): Promise<Agent>;
  makeRepo(name: string): Promise<string>;
  createWorker(id: string, fields?: Partial<Worker>): Promise<Worker>;
  createRun(workerId: string, fields?: Partial<Run>): Promise<Run>;
  publish(type: 'run.start' | 'run.cancel', runId: string): Promise<void>;
  scenario(runId: string, name: Scenario, arg?: number | string): Promise<void>;
  waitStatus(runId: string, statuses: readonly RunStatus[], timeoutMs?: number): Promise<Run>;
  events(runId: string): Promise<string[]>;
  /** Waits until the worker's lock is gone: the agent releases it just after the terminal status. */
  lockReleased(workerId: string): Promise<true>;
}

export const git = async (cwd: string, ...args: string[]) => (await exec('git', args, { cwd })).stdout.trim();

let runCounter = 0;
export const newRunId = () => `run-${Date.now().toString(36)}-${(runCounter++).toString(36)}`;

/** Call in a beforeAll inside describeEmulators. Agents are stopped and the tmux server killed after the file. */
export async function setupAgentTest(): Promise<AgentTest> {
  const env = await useTestEnv();
  const root = await tempDir('nightshift-agent-');
  const home = join(root, 'home');
  const fakeDir = join(root, 'fake');
  await mkdir(fakeDir, { recursive: true });
  const tmux = createTmux(`ns-test-${randomBytes(4).toString('hex')}`);
  const agents: Agent[] = [];
  onFileEnd(async () => {
    for (const agent of agents) await agent.stop().catch(() => {});
    await tmux.killServer();
  });
  const now = () => new Date().toISOString();

  const t: AgentTest = {
    env,
    root,
    home,
    fakeDir,
    tmux,
    async startAgent(overrides = {}) {
      const agent = new Agent(
        compileAgentOptions({
          agentId: 'agent-test',
          home,
          workerCommand: FAKE_CLAUDE,
          capacity: 2,
          db: env.db,
          pubsub: env.pubsub,
          tmux,
          timings: TEST_TIMINGS,
          logger: silentLogger,
          workerEnv: { FAKE_CLAUDE_DIR: fakeDir },
          ...overrides,
        }),
      );
      agents.push(agent);
      await agent.start();
      return agent;
    },
    makeRepo: (name) => createSeededOrigin(root, name),
    async createWorker(id, fields = {}) {
      const worker = WorkerSchema.parse({
        id,
        repo:
          fields.workdir || fields.repo
            ? undefined
            : { url: await t.makeRepo(id), branch: 'main', push: false },
        createdAt: now(),
        updatedAt: now(),
        ...fields,
      });
      await env.cols.workers.doc(id).set(worker);
      return worker;
    },
    async createRun(workerId, fields = {}) {
      const worker = (await env.cols.workers.doc(workerId).get()).data();
      const run = testRun({
        id: newRunId(),
        workerId,
        prompt: 'Read docs/roadmap.md and begin work.',
        ...(worker ? { checkout: checkoutOf(worker), autopilot: autopilotOf(worker) } : {}),
        ...fields,
      });
      await env.cols.runs.doc(run.id).set(run);
      return run;
    },
    async publish(type, runId) {
      await publishCommand(commandsTopic(env.pubsub), makeCommand(type, runId));
    },
    async scenario(runId, name, arg) {
      await writeFile(join(fakeDir, `${runId}.scenario`), arg === undefined ? name : `${name} ${arg}`);
    },
    waitStatus(runId, statuses, timeoutMs = 20_000) {
      return waitFor(
        `run ${runId} to be ${statuses.join(' or ')}`,
        async () => {
          const run = (await env.cols.runs.doc(runId).get()).data();
          return run && statuses.includes(run.status) ? run : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      );
    },
    lockReleased(workerId) {
      return waitFor(`the lock of worker ${workerId} to be released`, async () =>
        (await env.db.collection(COLLECTIONS.workerLocks).doc(workerId).get()).exists ? undefined : true,
      );
    },
    async events(runId) {
      const snap = await env.cols.runEvents(runId).orderBy('at').get();
      return snap.docs.map((d) => {
        const e = d.data();
        return e.type === 'status' ? `${e.from ?? ''}->${e.to}` : e.type;
      });
    },
  };
  return t;
}
