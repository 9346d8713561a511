// The agent: claims runs from commands, launches and follows them, stops and finishes them, reconciles on start.
import { mkdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { type AgentState, type Command, isTerminal, type Progress, type Run } from '@nightshift/shared';
import {
  decideOutcome,
  type HeldRun,
  newProgressWatch,
  type Outcome,
  type StopReason,
  withPushFailure,
} from './lifecycle.js';
import { errorMessage, type Logger } from './log.js';
import {
  advanceTail,
  finishTail,
  type LaunchSpec,
  RUN_FILES,
  readExit,
  readFileTail,
  readLaunch,
  readPids,
  readTail,
  runDirOf,
  writeJsonAtomic,
} from './rundir.js';
import { createStore, type Store, withDeadline } from './store.js';
import { emptyStreamState, truncate } from './stream.js';
import { createSubscriber, type Settle, type Subscriber } from './subscriber.js';
import type { AgentTimings } from './timings.js';
import { sessionNameOf, type Tmux } from './tmux.js';
import { commitsSince, prepareWorkspace, pushBranch } from './workspace.js';

export const RUNNER_PATH = join(dirname(fileURLToPath(import.meta.url)), 'runner', 'runner.mjs');
const PROGRESS_TEXT_MAX = 4_000;
/** How much of the end of PROGRESS.md is read (more than PROGRESS_TEXT_MAX characters of any UTF-8). */
const PROGRESS_READ_BYTES = 64 * 1024;
/** A run document holds at most 1 MiB (and the prompt may take 400 KB of it): a longer result keeps its end. */
const RESULT_TEXT_MAX = 100_000;

export interface AgentOptions {
  agentId: string;
  home: string;
  workerCommand: string;
  capacity: number;
  db: Firestore;
  pubsub: PubSub;
  tmux: Tmux;
  timings: AgentTimings;
  logger: Logger;
  now?: () => Date;
  /** Extra environment for the worker (tests point the fake claude at its folder with it). */
  workerEnv?: Record<string, string>;
  version?: string;
  host?: string;
  nodePath?: string;
  runnerPath?: string;
}

export type ClaimResult = 'claimed' | 'ignored' | 'busy' | 'full' | 'unknown';

export class Agent {
  readonly store: Store;
  readonly held = new Map<string, HeldRun>();
  private readonly claiming = new Set<string>();
  private readonly now: () => Date;
  private readonly log: Logger;
  private subscriber: Subscriber | null = null;
  private timers: NodeJS.Timeout[] = [];
  private ticking = false;
  private polling = false;
  private scanning = false;
  private adopting = false;
  private state: AgentState = 'running';
  private readonly startedAt: string;

  constructor(private readonly opts: AgentOptions) {
    this.now = opts.now ?? (() => new Date());
    this.log = opts.logger;
    this.store = createStore(opts.db, opts.agentId, opts.timings.firestoreDeadlineMs, this.now);
    this.startedAt = this.now().toISOString();
  }

  private ms(): number {
    return this.now().getTime();
  }

  /** Reconciles the runs this agent holds, then starts pulling and the timers. */
  async start(): Promise<void> {
    await mkdir(join(this.opts.home, 'runs'), { recursive: true });
    await this.reconcile();
    const t = this.opts.timings;
    this.subscriber = createSubscriber({
      pubsub: this.opts.pubsub,
      capacity: this.opts.capacity,
      logger: this.log,
      resubscribeMs: t.resubscribeMs,
      handle: (command) => this.handle(command),
    });
    this.subscriber.open();
    this.timers.push(setInterval(() => void this.tick(), t.tickMs));
    this.timers.push(setInterval(() => void this.pollHeld(), t.cancelPollMs));
    this.timers.push(setInterval(() => void this.heartbeat(), t.heartbeatMs));
    await this.heartbeat();
    void this.scanQueue();
    this.log.info('agent started', { agentId: this.opts.agentId, capacity: this.opts.capacity });
  }

  /** Stops pulling and the timers; workers keep running in tmux. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.subscriber?.close();
    await this.heartbeat();
    this.log.info('agent stopped; workers keep running', { running: [...this.held.keys()] });
  }

  // ── Messages ────────────────────────────────────────────────────────────────────────────────

  async handle(command: Command): Promise<Settle> {
    if (command.type === 'run.cancel') {
      if (this.held.has(command.runId)) await this.pollHeld([command.runId]);
      return 'ack';
    }
    const result = await this.claim(command.runId);
    this.log.info('run.start handled', { runId: command.runId, commandId: command.commandId, result });
    return 'ack';
  }

  /** Claims a queued run: worker lock with create(), then queued → starting under a precondition. */
  async claim(runId: string): Promise<ClaimResult> {
    if (this.claiming.has(runId) || this.held.has(runId)) return 'ignored';
    if (this.state !== 'running') return 'full';
    if (this.held.size + this.claiming.size >= this.opts.capacity) return 'full';
    this.claiming.add(runId);
    try {
      const snap = await this.store.run(runId);
      const run = snap.exists ? snap.data() : undefined;
      if (run === undefined) return 'unknown';
      if (run.agentId === this.opts.agentId && (run.status === 'starting' || run.status === 'running')) {
        // Ours but not held: an earlier claim of it whose write landed after its deadline.
        this.log.warn('a command for a run of this agent it does not hold; taking it over', { runId });
        await this.adopt(run);
        return this.held.has(runId) ? 'claimed' : 'ignored';
      }
      if (run.status !== 'queued') return 'ignored';
      if (!(await this.lockWorker(run))) return 'busy';
      const session = sessionNameOf(run.workerId, run.id);
      const moved = await this.store.move(runId, 'starting', {
        patch: {
          agentId: this.opts.agentId,
          session,
          leaseExpiresAt: new Date(this.ms() + this.opts.timings.leaseMs).toISOString(),
        },
        reason: `claimed by agent ${this.opts.agentId}`,
        expect: ['queued'],
        snapshot: snap,
      });
      if (!moved.ok) {
        if (moved.current && isTerminal(moved.current.status)) {
          await this.store.releaseLock(run.workerId, runId);
        }
        return 'ignored';
      }
      const held = this.newHeld(moved.run);
      this.held.set(runId, held);
      void this.launch(held);
      return 'claimed';
    } finally {
      this.claiming.delete(runId);
    }
  }

  private async lockWorker(run: Run): Promise<boolean> {
    const lock = {
      workerId: run.workerId,
      runId: run.id,
      agentId: this.opts.agentId,
      createdAt: this.now().toISOString(),
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.store.createLock(lock)) return true;
      const existing = await this.store.readLock(run.workerId);
      const holder = existing.data();
      if (holder === undefined) continue; // released meanwhile: try again
      if (holder.runId === run.id) return true; // an earlier, half-done claim of this run
      const other = await this.store.run(holder.runId);
      const otherRun = other.data();
      if (otherRun !== undefined && !isTerminal(otherRun.status)) return false;
      this.log.warn('removing a stale worker lock', { workerId: run.workerId, staleRunId: holder.runId });
      await this.store.deleteLockIfUnchanged(existing);
    }
    return false;
  }

  /** Claims queued runs while there is room: the given worker's first, then any, oldest first. */
  async scanQueue(preferWorker?: string): Promise<void> {
    if (this.scanning || this.state !== 'running') return;
    this.scanning = true;
    try {
      if (this.held.size >= this.opts.capacity) return;
      const snap = await this.deadline(
        'queue scan',
        this.store.cols.runs.where('status', '==', 'queued').limit(100).get(),
      );
      const queued = snap.docs
        .map((d) => d.data())
        .sort(
          (a, b) =>
            Number(b.workerId === preferWorker) - Number(a.workerId === preferWorker) ||
            a.createdAt.localeCompare(b.createdAt),
        );
      const tried = new Set<string>();
      for (const run of queued) {
        if (this.held.size >= this.opts.capacity) break;
        if (tried.has(run.workerId) || [...this.held.values()].some((h) => h.workerId === run.workerId))
          continue;
        tried.add(run.workerId);
        const result = await this.claim(run.id);
        if (result === 'claimed') this.log.info('claimed a waiting run', { runId: run.id });
      }
    } catch (error) {
      this.log.warn('queue scan failed', { error: errorMessage(error) });
    } finally {
      this.scanning = false;
    }
  }

  private newHeld(run: Run): HeldRun {
    return {
      runId: run.id,
      workerId: run.workerId,
      session: run.session ?? sessionNameOf(run.workerId, run.id),
      dir: runDirOf(this.opts.home, run.id),
      run,
      worker: null,
      workspace: null,
      startCommit: run.startCommit,
      runningWritten: run.status === 'running',
      launched: false,
      deadlineMs: null,
      tail: { offset: 0, stream: emptyStreamState() },
      resultSeenAtMs: null,
      cancelReason: run.cancelRequestedAt ? (run.cancelReason ?? 'cancel requested') : null,
      phase: { name: 'preparing' },
      progress: newProgressWatch(),
      push: null,
    };
  }

  // ── Launch ──────────────────────────────────────────────────────────────────────────────────

  private async launch(held: HeldRun): Promise<void> {
    const { runId } = held;
    let stage = 'worker';
    try {
      const workerSnap = await this.deadline('read worker', this.store.cols.workers.doc(held.workerId).get());
      const worker = workerSnap.data();
      if (worker === undefined) throw new Error(`worker ${held.workerId} does not exist`);
      held.worker = worker;
      stage = 'workspace';
      const prepared = await prepareWorkspace(this.opts.home, worker, held.run.workBranch);
      held.workspace = prepared.dir;
      held.startCommit = prepared.startCommit;
      for (const note of prepared.notes) await this.store.note(runId, note).catch(() => {});
      if (held.cancelReason !== null) {
        held.phase = {
          name: 'finishing',
          outcome: { status: 'cancelled', error: held.cancelReason, exitCode: null, note: null },
        };
        return;
      }
      stage = 'launch';
      await mkdir(held.dir, { recursive: true });
      const spec: LaunchSpec = {
        command: this.opts.workerCommand,
        args: workerArgs(held.run),
        cwd: prepared.dir,
        env: { ...this.opts.workerEnv, NIGHTSHIFT_RUN_ID: runId, NIGHTSHIFT_RUN_DIR: held.dir },
      };
      await writeJsonAtomic(join(held.dir, RUN_FILES.launch), spec);
      await this.opts.tmux.newSession(held.session, held.dir, [
        this.opts.nodePath ?? process.execPath,
        this.opts.runnerPath ?? RUNNER_PATH,
        held.dir,
      ]);
      held.launched = true;
      const startedAt = this.now();
      held.deadlineMs = startedAt.getTime() + held.run.maxDurationMinutes * this.opts.timings.minuteMs;
      held.phase = { name: 'running' };
      this.log.info('worker launched', { runId, session: held.session });
      await this.markRunning(held, startedAt.toISOString()).catch((error: unknown) =>
        this.log.warn('could not write running yet; retrying', { runId, error: errorMessage(error) }),
      );
    } catch (error) {
      this.log.error('run could not start', { runId, stage, error: errorMessage(error) });
      held.phase = {
        name: 'finishing',
        outcome: { status: 'failed', error: `${stage}: ${errorMessage(error)}`, exitCode: null, note: null },
      };
    }
  }

  private async markRunning(held: HeldRun, startedAt: string): Promise<void> {
    if (held.runningWritten) return;
    const moved = await this.store.move(held.runId, 'running', {
      patch: { startedAt, session: held.session, startCommit: held.startCommit },
      reason: `worker launched in tmux session ${held.session}`,
      expect: ['starting'],
    });
    if (moved.ok) held.run = moved.run;
    // Written, or someone else moved it on (the finish will find out which).
    held.runningWritten = true;
  }

  // ── Following ───────────────────────────────────────────────────────────────────────────────

  /** One pass over the held runs: tail, decide, stop, write progress, finish. Never overlaps itself. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const held of [...this.held.values()]) {
        try {
          await this.step(held);
        } catch (error) {
          this.log.warn('run step failed; retrying next tick', {
            runId: held.runId,
            error: errorMessage(error),
          });
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  private async step(held: HeldRun): Promise<void> {
    const phase = held.phase;
    if (phase.name === 'preparing') return;
    if (phase.name === 'finishing') return this.finish(held, phase.outcome);
    if (!held.runningWritten) await this.markRunning(held, this.now().toISOString());

    await advanceTail(held.dir, held.tail);
    if (held.tail.stream.result !== null && held.resultSeenAtMs === null) held.resultSeenAtMs = this.ms();
    const { exit } = await this.readExitOf(held);
    if (exit !== null) {
      await finishTail(held.dir, held.tail);
      held.phase = { name: 'finishing', outcome: decideOutcome(held, exit) };
      return this.finish(held, held.phase.outcome);
    }
    if (!(await this.opts.tmux.hasSession(held.session))) {
      const late = await this.readExitOf(held); // the runner may have written it as the session closed
      await finishTail(held.dir, held.tail);
      const outcome: Outcome =
        late.exit !== null
          ? decideOutcome(held, late.exit)
          : late.unreadable !== null
            ? unreadableExit(late.unreadable)
            : phase.name === 'stopping' && phase.step === 'killed'
              ? decideOutcome(held, null)
              : {
                  status: 'lost',
                  error: `tmux session ${held.session} is gone without an exit status (VM rebooted or session killed)`,
                  exitCode: null,
                  note: null,
                };
      held.phase = { name: 'finishing', outcome };
      return this.finish(held, outcome);
    }

    const now = this.ms();
    const t = this.opts.timings;
    if (held.phase.name === 'running') {
      if (held.cancelReason !== null) await this.beginStop(held, 'cancel');
      else if (held.deadlineMs !== null && now >= held.deadlineMs) await this.beginStop(held, 'timeout');
      else if (held.resultSeenAtMs !== null && now - held.resultSeenAtMs >= t.resultExitGraceMs) {
        await this.beginStop(held, 'result_hang');
      }
    } else if (held.phase.name === 'stopping') {
      const stopping = held.phase;
      const elapsed = now - stopping.sinceMs;
      if (stopping.step === 'interrupted' && elapsed >= t.stopEscalationMs) {
        stopping.step = 'terminated';
        await this.signalWorker(held, 'SIGTERM');
      } else if (stopping.step === 'terminated' && elapsed >= 2 * t.stopEscalationMs) {
        stopping.step = 'killed';
        await this.signalWorker(held, 'SIGKILL');
        await this.opts.tmux.killSession(held.session);
      }
    }
    await this.writeProgress(held, false);
  }

  private async beginStop(held: HeldRun, reason: StopReason): Promise<void> {
    this.log.info('stopping worker', { runId: held.runId, reason });
    held.phase = { name: 'stopping', reason, sinceMs: this.ms(), step: 'interrupted' };
    await this.signalWorker(held, 'SIGINT');
  }

  private async signalWorker(held: HeldRun, signal: NodeJS.Signals): Promise<void> {
    const pids = await readPids(held.dir).catch(() => null); // unreadable: the session kill still comes
    try {
      if (pids?.worker) process.kill(-pids.worker, signal);
      else if (pids?.runner) process.kill(pids.runner, signal);
    } catch {
      // already gone
    }
  }

  private async writeProgress(held: HeldRun, force: boolean): Promise<void> {
    const watch = held.progress;
    const stream = held.tail.stream;
    if (stream.textVersion !== watch.textVersion && stream.lastText !== null) {
      watch.textVersion = stream.textVersion;
      watch.text = stream.lastText;
      watch.dirty = true;
    }
    const file = this.progressFile(held);
    if (file !== null) {
      try {
        const s = await stat(file);
        const stamp = `${s.size}:${s.mtimeMs}`;
        if (s.isFile() && stamp !== watch.fileStamp) {
          watch.fileStamp = stamp;
          const text = await readFileTail(file, PROGRESS_READ_BYTES);
          if (text !== null) {
            watch.text = truncate(text, PROGRESS_TEXT_MAX);
            watch.dirty = true;
          }
        }
      } catch {
        // no PROGRESS.md yet
      }
    }
    const usageChanged = JSON.stringify(stream.usage) !== JSON.stringify(held.run.usage);
    if (!force && !watch.dirty && !usageChanged) return;
    if (!force && this.ms() - watch.lastWriteMs < this.opts.timings.progressWriteMs) return;
    const patch: Partial<Run> = { usage: { ...stream.usage } };
    if (watch.text !== null)
      patch.progress = { text: truncate(watch.text, PROGRESS_TEXT_MAX), updatedAt: this.now().toISOString() };
    watch.lastWriteMs = this.ms();
    await this.store.update(held.runId, patch);
    held.run = { ...held.run, ...patch };
    watch.dirty = false;
  }

  private progressFile(held: HeldRun): string | null {
    if (held.workspace === null) return null;
    return resolve(held.workspace, held.worker?.progressPath ?? 'PROGRESS.md');
  }

  private async finalProgress(held: HeldRun): Promise<Progress | null> {
    const file = this.progressFile(held);
    let text: string | null = null;
    if (file !== null) text = await readFileTail(file, PROGRESS_READ_BYTES).catch(() => null);
    text ??= held.tail.stream.lastText;
    return text === null
      ? held.run.progress
      : { text: truncate(text, PROGRESS_TEXT_MAX), updatedAt: this.now().toISOString() };
  }

  // ── Finish ──────────────────────────────────────────────────────────────────────────────────

  private async finish(held: HeldRun, finalOutcome: Outcome): Promise<void> {
    let outcome = finalOutcome;
    const { runId } = held;
    const commits = held.workspace ? await commitsSince(held.workspace, held.startCommit) : [];
    const repo = held.worker?.repo;
    if (repo?.push && held.workspace && commits.length > 0 && held.push === null) {
      // The run's own branch when it has one (its commits were made there), else the worker's branch.
      // held.run comes from the run document, so an agent that adopted the run after a restart pushes
      // the same branch.
      const branch = held.run.workBranch ?? repo.branch;
      held.push = { branch, failure: null };
      try {
        await pushBranch(held.workspace, branch);
      } catch (error) {
        held.push.failure = `pushing ${branch} failed (${errorMessage(error)}); the run's ${commits.length} commit(s) are kept in ${held.workspace}`;
      }
    }
    // The owner asked for the commits on the remote: a run that did not deliver them has not succeeded.
    if (held.push?.failure) outcome = withPushFailure(outcome, held.push.failure);
    const pushedBranch = held.push !== null && held.push.failure === null ? held.push.branch : null;
    if (held.launched && !held.runningWritten) await this.markRunning(held, this.now().toISOString());
    const result = held.tail.stream.result;
    const moved = await this.store.move(runId, outcome.status, {
      patch: {
        finishedAt: this.now().toISOString(),
        exitCode: outcome.exitCode,
        usage: { ...held.tail.stream.usage },
        commits,
        pushedBranch,
        result: result?.text == null ? null : truncate(result.text, RESULT_TEXT_MAX),
        error: outcome.error,
        progress: await this.finalProgress(held),
        leaseExpiresAt: null,
      },
      reason: outcome.error,
      expect: ['starting', 'running'],
    });
    if (!moved.ok)
      this.log.warn('final status not written', { runId, status: outcome.status, why: moved.why });
    if (outcome.note) await this.store.note(runId, outcome.note).catch(() => {});
    await this.opts.tmux.killSession(held.session);
    await this.store.releaseLock(held.workerId, runId);
    this.held.delete(runId);
    this.log.info('run finished', { runId, status: outcome.status, error: outcome.error });
    void this.scanQueue(held.workerId);
  }

  // ── Cancel notice, heartbeat, leases ────────────────────────────────────────────────────────

  /** Re-reads held runs' documents: a cancel request becomes a stop within CANCEL_NOTICE_MS. */
  async pollHeld(only?: string[]): Promise<void> {
    const ids = only ?? [...this.held.keys()];
    if (ids.length === 0 || (this.polling && only === undefined)) return;
    // Only the periodic poll holds the flag: a nudge that set it would never clear it, and the poll
    // would stop for good.
    if (only === undefined) this.polling = true;
    try {
      const refs = ids.map((id) => this.store.cols.runs.doc(id));
      const snaps = await this.deadline('read held runs', this.opts.db.getAll(...refs));
      for (const snap of snaps) {
        const run = snap.data() as Run | undefined;
        const held = run ? this.held.get(run.id) : undefined;
        if (!run || !held) continue;
        if (run.cancelRequestedAt !== null && held.cancelReason === null) {
          held.cancelReason = run.cancelReason ?? 'cancel requested';
          this.log.info('cancel requested', { runId: run.id, reason: held.cancelReason });
          if (held.phase.name === 'running') await this.beginStop(held, 'cancel');
        }
      }
    } catch (error) {
      this.log.warn('could not read held runs', { error: errorMessage(error) });
    } finally {
      if (only === undefined) this.polling = false;
    }
  }

  async heartbeat(): Promise<void> {
    const at = this.now();
    try {
      await this.deadline(
        'heartbeat',
        this.store.cols.agents.doc(this.opts.agentId).set({
          id: this.opts.agentId,
          version: this.opts.version ?? '0.1.0',
          host: this.opts.host ?? hostname(),
          state: this.state,
          capacity: this.opts.capacity,
          running: [...this.held.keys()],
          startedAt: this.startedAt,
          heartbeatAt: at.toISOString(),
        }),
      );
      const lease = new Date(at.getTime() + this.opts.timings.leaseMs).toISOString();
      for (const held of this.held.values()) {
        if (held.phase.name === 'finishing') continue;
        await this.store.renewLease(held.runId, lease);
      }
    } catch (error) {
      this.log.warn('heartbeat failed; retrying next time', { error: errorMessage(error) });
    }
    if (this.state === 'running') {
      await this.adoptOrphans();
      void this.scanQueue();
    }
  }

  private deadline<T>(what: string, p: Promise<T>): Promise<T> {
    return withDeadline(what, this.opts.timings.firestoreDeadlineMs, p);
  }

  // ── Restart ─────────────────────────────────────────────────────────────────────────────────

  /** The runs Firestore records as this agent's and not yet ended. */
  private ownRuns(): Promise<Run[]> {
    return this.deadline(
      'read own runs',
      this.store.cols.runs
        .where('agentId', '==', this.opts.agentId)
        .where('status', 'in', ['starting', 'running'])
        .get(),
    ).then((snap) => snap.docs.map((d) => d.data()));
  }

  /** At start: takes charge of every run recorded as this agent's (see adopt()), then one tick. */
  async reconcile(): Promise<void> {
    await this.adoptEach(await this.ownRuns());
    await this.tick();
  }

  /**
   * On each heartbeat: a run recorded as this agent's that it does not hold is taken charge of. That is a
   * claim whose `queued → starting` write landed after its deadline (the claim threw, the command was
   * nacked, and its redelivery sees `starting`), which would otherwise stay `starting`, unheld, with the
   * worker locked, until the agent restarts.
   */
  async adoptOrphans(): Promise<void> {
    if (this.adopting || this.state !== 'running') return;
    this.adopting = true;
    try {
      const orphans = (await this.ownRuns()).filter((r) => !this.held.has(r.id) && !this.claiming.has(r.id));
      if (orphans.length > 0) {
        this.log.warn('found runs of this agent it does not hold; taking them over', {
          runIds: orphans.map((r) => r.id),
        });
        await this.adoptEach(orphans);
      }
    } catch (error) {
      this.log.warn('could not look for runs of this agent it does not hold', { error: errorMessage(error) });
    } finally {
      this.adopting = false;
    }
  }

  /** adopt() for each run, on its fresh document; the claim marker keeps a concurrent claim of it out. */
  private async adoptEach(runs: Run[]): Promise<void> {
    for (const listed of runs) {
      const runId = listed.id;
      if (this.held.has(runId) || this.claiming.has(runId)) continue;
      this.claiming.add(runId);
      try {
        // Re-read: the listed document may be older than a finish of the run that ended it meanwhile.
        const run = (await this.store.run(runId)).data();
        if (run?.agentId !== this.opts.agentId || (run.status !== 'starting' && run.status !== 'running'))
          continue;
        await this.adopt(run);
      } catch (error) {
        // Not held: the next heartbeat's scan tries it again.
        this.log.error('could not take charge of a run; retrying on the next heartbeat', {
          runId,
          error: errorMessage(error),
        });
      } finally {
        this.claiming.delete(runId);
      }
    }
  }

  /**
   * Takes charge of a run of this agent that it does not hold: a live session is adopted, a session that
   * ended is finished from exit.json, a `starting` run never launched is launched (its claim took the
   * worker lock for it, and nothing ran), and a launched run whose session is gone is `lost`.
   */
  private async adopt(run: Run): Promise<void> {
    const held = this.newHeld(run);
    const notes: string[] = [];
    try {
      held.tail = await readTail(held.dir);
    } catch (error) {
      // Usage is rebuilt from the log itself (assistant messages deduplicated by id, the result's totals
      // replacing the sums) and written as absolute values: reading it again from its start counts nothing
      // twice, it only costs the reread.
      held.tail = { offset: 0, stream: emptyStreamState() };
      notes.push(
        `${RUN_FILES.tail} was unreadable (${errorMessage(error)}); the log is read again from its start`,
      );
    }
    let launch: LaunchSpec | null = null;
    let launchUnreadable = false;
    try {
      launch = await readLaunch(held.dir);
    } catch (error) {
      // Written before the session is made: the run got at least that far.
      launchUnreadable = true;
      notes.push(
        `${RUN_FILES.launch} is unreadable (${errorMessage(error)}); the worker's workspace is assumed`,
      );
    }
    held.worker =
      (await this.deadline('read worker', this.store.cols.workers.doc(run.workerId).get())).data() ?? null;
    for (const note of notes) this.log.warn('run directory file unreadable', { runId: run.id, note });
    const noteAll = () => {
      for (const note of notes) void this.store.note(run.id, note).catch(() => {});
    };
    if (launch === null && !launchUnreadable) {
      if (run.status === 'starting') {
        if (!(await this.lockWorker(run))) {
          held.phase = {
            name: 'finishing',
            outcome: {
              status: 'failed',
              error: `worker ${run.workerId} is held by another run; this run was claimed but never launched`,
              exitCode: null,
              note: null,
            },
          };
          this.held.set(run.id, held);
          return;
        }
        this.held.set(run.id, held);
        this.log.warn('run was claimed but never launched; launching it', { runId: run.id });
        void this.launch(held);
        return;
      }
      held.phase = {
        name: 'finishing',
        outcome: {
          status: 'lost',
          error: `the run is running but its run directory ${held.dir} has no ${RUN_FILES.launch}`,
          exitCode: null,
          note: null,
        },
      };
      this.held.set(run.id, held);
      this.log.warn('run has no launch spec', { runId: run.id });
      return;
    }
    held.launched = true;
    held.workspace = launch?.cwd ?? this.workspaceOf(held);
    const started = run.startedAt ? Date.parse(run.startedAt) : this.ms();
    held.deadlineMs = started + run.maxDurationMinutes * this.opts.timings.minuteMs;
    held.phase = { name: 'running' };
    const { exit, unreadable } = await this.readExitOf(held);
    const alive = await this.opts.tmux.hasSession(held.session);
    if (exit === null && alive) {
      // (An unreadable exit.json beside a live session is judged when the session ends.)
      if (held.tail.stream.result !== null) held.resultSeenAtMs = this.ms();
      this.log.info('adopted a live run', { runId: run.id, offset: held.tail.offset });
    } else if (exit !== null) {
      await finishTail(held.dir, held.tail);
      held.phase = { name: 'finishing', outcome: decideOutcome(held, exit) };
      this.log.info('run ended while the agent did not hold it', { runId: run.id });
    } else if (unreadable !== null) {
      await finishTail(held.dir, held.tail);
      held.phase = { name: 'finishing', outcome: unreadableExit(unreadable) };
      this.log.warn('run ended with an unreadable exit status', { runId: run.id, why: unreadable });
    } else {
      held.phase = {
        name: 'finishing',
        outcome: {
          status: 'lost',
          error: `tmux session ${held.session} is gone without an exit status (VM rebooted or session killed)`,
          exitCode: null,
          note: null,
        },
      };
      this.log.warn('run lost', { runId: run.id });
    }
    this.held.set(run.id, held);
    noteAll();
  }

  /** exit.json, or why it cannot be read (a power loss can leave it truncated). */
  private async readExitOf(held: HeldRun): Promise<{ exit: ExitRecord | null; unreadable: string | null }> {
    try {
      return { exit: await readExit(held.dir), unreadable: null };
    } catch (error) {
      return { exit: null, unreadable: `${join(held.dir, RUN_FILES.exit)} (${errorMessage(error)})` };
    }
  }

  /** Where prepareWorkspace() put the worker's checkout, for a run whose launch.json cannot be read. */
  private workspaceOf(held: HeldRun): string | null {
    if (held.worker === null) return null;
    return held.worker.workdir ?? join(this.opts.home, 'workspaces', held.workerId);
  }
}

type ExitRecord = NonNullable<Awaited<ReturnType<typeof readExit>>>;

/** A worker that ended (exit.json was written) but whose exit status cannot be read: its ending is unknown. */
function unreadableExit(why: string): Outcome {
  return {
    status: 'lost',
    error: `the worker ended, but its exit status file is unreadable: ${why}`,
    exitCode: null,
    note: null,
  };
}

/** The worker's argv: the prompt travels as one argument, never through a shell or tmux. */
export function workerArgs(run: Pick<Run, 'prompt' | 'model' | 'maxTurns' | 'maxBudgetUsd'>): string[] {
  const args = [
    '-p',
    run.prompt,
    '--model',
    run.model,
    '--dangerously-skip-permissions',
    '--output-format',
    'stream-json',
    '--verbose',
  ];
  if (run.maxTurns !== null) args.push('--max-turns', String(run.maxTurns));
  if (run.maxBudgetUsd !== null) args.push('--max-budget-usd', String(run.maxBudgetUsd));
  return args;
}
