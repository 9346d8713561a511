// The agent: a small coordinator that holds runs and wires commands, timers and the loop to the modules of each concern.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentState, Command, Run } from '@nightshift/shared';
import { claimQueued, queueCandidates } from './claim.js';
import { finishRun } from './finish.js';
import type { GitAuth } from './git-auth/credentials.js';
import { type AgentSelf, beat, pollCancels } from './heartbeat.js';
import { IdleStop } from './idle.js';
import { type Launcher, launchRun } from './launch.js';
import { HeldRun } from './lifecycle.js';
import { errorMessage, type Logger } from './log.js';
import { createLoop, type Loop, type Wake } from './loop.js';
import type { AgentOptions, Clock } from './options.js';
import { writeProgress } from './progress.js';
import { adoptRun } from './reconcile.js';
import { ResumeTimers, resumeDue } from './resume-timer.js';
import { createStore, type Store } from './store.js';
import { createSubscriber, type Settle, type Subscriber } from './subscriber.js';
import { superviseRun, watchExit } from './supervise.js';
import { type AgentTimings, STARTUP_READ_ATTEMPTS } from './timings.js';
import type { Tmux } from './tmux.js';

export type ClaimResult = 'claimed' | 'ignored' | 'busy' | 'held' | 'pinned' | 'full' | 'unknown';

/** The narrow collaborators each module receives (a module takes only the ones it names). */
interface Deps {
  store: Store;
  tmux: Tmux;
  clock: Clock;
  log: Logger;
  timings: AgentTimings;
  home: string;
  launcher: Launcher;
  gitAuth: GitAuth;
}

export class Agent {
  private readonly store: Store;
  private readonly held = new Map<string, HeldRun>();
  /** Launches running beside the loop (a clone may take minutes); stop() lets them finish their writes. */
  private readonly launching = new Set<Promise<void>>();
  /** Runs being claimed or adopted: concurrent copies of their commands leave them alone. */
  private readonly claiming = new Set<string>();
  /** The exit.json watch of each held run's directory (supervise.ts): a worker's exit wakes the tick at once. */
  private readonly exitWatches = new Map<string, () => void>();
  private readonly deps: Deps;
  private readonly log: Logger;
  private readonly loop: Loop;
  private readonly self: AgentSelf;
  private subscriber: Subscriber | null = null;
  private timers: NodeJS.Timeout[] = [];
  /** `running` until stop(); the heartbeat says `stopping` while the idle stop is under way (agentState()). */
  private state: 'running' | 'stopped' = 'running';
  private readonly idle: IdleStop;
  /** A timer per waiting run this agent holds, at its resumeAt (resume-timer.ts). */
  private readonly resumes: ResumeTimers;

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.logger;
    this.store = createStore({
      db: opts.db,
      pubsub: opts.pubsub,
      agentId: opts.agentId,
      deadlineMs: opts.timings.firestoreDeadlineMs,
      publishDeadlineMs: opts.timings.publishDeadlineMs,
      clock: opts.clock,
      log: opts.logger,
    });
    this.deps = {
      store: this.store,
      tmux: opts.tmux,
      clock: opts.clock,
      log: opts.logger,
      timings: opts.timings,
      home: opts.home,
      gitAuth: opts.gitAuth,
      launcher: {
        workerCommand: opts.workerCommand,
        workerEnv: opts.workerEnv,
        nodePath: opts.nodePath,
        runnerPath: opts.runnerPath,
      },
    };
    this.self = {
      id: opts.agentId,
      version: opts.version,
      host: opts.host,
      capacity: opts.capacity,
      startedAt: opts.clock.now().toISOString(),
    };
    this.idle = new IdleStop(this.deps, {
      agentId: opts.agentId,
      agentStartedAt: this.self.startedAt,
      projectId: opts.projectId,
      vm: opts.vm,
      metadataHost: opts.metadataHost,
      vmFromMetadata: opts.vmFromMetadata,
      computeApiUrl: opts.computeApiUrl,
    });
    this.resumes = new ResumeTimers(
      this.deps,
      (runId) => void this.loop.wake({ reason: 'resume-due', runId }),
    );
    this.loop = createLoop(
      {
        follow: () => this.follow(),
        cancels: (wakes) => this.pollCancels(wakes),
        heartbeat: () => this.heartbeat(),
        adopt: () => this.adoptOrphans(),
        scan: (wakes) => this.scanQueue(wakes),
        resume: (wakes) => this.resumeDue(wakes),
      },
      this.log,
    );
  }

  /** Reconciles the runs this agent holds, then starts pulling and the timers. */
  async start(): Promise<void> {
    await mkdir(join(this.opts.home, 'runs'), { recursive: true });
    this.idle.begin();
    await this.adoptEach(await this.ownActiveRunsAtStart());
    await this.resumes.armOwn();
    await this.loop.wake({ reason: 'tick' });
    const t = this.opts.timings;
    this.subscriber = createSubscriber({
      pubsub: this.opts.pubsub,
      capacity: this.opts.capacity,
      logger: this.log,
      resubscribeMs: t.resubscribeMs,
      handle: (command) => this.handle(command),
    });
    this.subscriber.open();
    const every = (ms: number, wake: Wake) =>
      this.timers.push(setInterval(() => void this.loop.wake(wake), ms));
    every(t.tickMs, { reason: 'tick' });
    every(t.cancelPollMs, { reason: 'cancel-poll' });
    every(t.heartbeatMs, { reason: 'heartbeat' });
    await this.loop.wake({ reason: 'heartbeat' });
    this.log.info('agent started', { agentId: this.opts.agentId, capacity: this.opts.capacity });
  }

  /**
   * The runs to take charge of before pulling any new one (capacity counts them). The first Firestore call
   * of a process also opens its channel, which a busy VM can take past one deadline: a few tries with a
   * pause, each failure logged, before the start gives up (systemd then starts the agent again).
   */
  private async ownActiveRunsAtStart(): Promise<Run[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.store.ownActiveRuns();
      } catch (error) {
        if (attempt >= STARTUP_READ_ATTEMPTS) throw error;
        this.log.warn('could not read the runs this agent holds; trying again', {
          attempt,
          of: STARTUP_READ_ATTEMPTS,
          error: errorMessage(error),
        });
        await new Promise((resolve) => setTimeout(resolve, this.opts.timings.resubscribeMs));
      }
    }
  }

  /** Stops pulling and the timers; workers keep running in tmux. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.resumes.stop();
    for (const runId of [...this.exitWatches.keys()]) this.unwatch(runId);
    await this.subscriber?.close();
    await this.loop.stop();
    // A launch under way finishes its writes (or misses their deadlines) before the agent says it stopped,
    // so nothing of it lands on a closed client after.
    if (this.launching.size > 0)
      await Promise.race([
        Promise.allSettled([...this.launching]),
        new Promise((resolve) => setTimeout(resolve, this.opts.timings.firestoreDeadlineMs).unref()),
      ]);
    await this.beat();
    this.log.info('agent stopped; workers keep running', { running: [...this.held.keys()] });
  }

  /** Wakes the loop as its timers do (tests drive the steps with it, their timers set far apart). */
  wake(wake: Wake): Promise<void> {
    return this.loop.wake(wake);
  }

  // ── Messages ────────────────────────────────────────────────────────────────────────────────

  async handle(command: Command): Promise<Settle> {
    if (command.type === 'run.cancel') {
      if (this.held.has(command.runId))
        await this.loop.wake({ reason: 'cancel-nudge', runId: command.runId });
      return 'ack';
    }
    const result = await this.claim(command.runId);
    this.log.info('run.start handled', { runId: command.runId, commandId: command.commandId, result });
    return 'ack';
  }

  /** Claims a queued run (claim.ts); a run of this agent that it does not hold is taken charge of instead. */
  async claim(runId: string): Promise<ClaimResult> {
    if (this.claiming.has(runId) || this.held.has(runId)) return 'ignored';
    if (!this.takesWork()) return 'full';
    if (this.held.size + this.claiming.size >= this.opts.capacity) return 'full';
    this.claiming.add(runId);
    try {
      const got = await claimQueued(this.deps, runId);
      switch (got.kind) {
        case 'claimed':
          this.hold(new HeldRun(got.run, this.opts.home, this.log), true);
          return 'claimed';
        case 'ours':
          // An earlier claim of it whose write landed after its deadline.
          this.log.warn('a command for a run of this agent it does not hold; taking it over', { runId });
          await this.adopt(got.run);
          return this.held.has(runId) ? 'claimed' : 'ignored';
        default:
          return got.kind;
      }
    } finally {
      this.claiming.delete(runId);
    }
  }

  private hold(held: HeldRun, launch: boolean): void {
    this.held.set(held.runId, held);
    this.idle.busy();
    // The launch (a clone may take minutes) runs beside the loop; the run is `preparing` meanwhile.
    const watchDir = () => {
      if (this.held.get(held.runId) !== held || this.state === 'stopped') return;
      this.exitWatches.set(
        held.runId,
        watchExit(held.dir, () => void this.loop.wake({ reason: 'tick' })),
      );
    };
    if (launch) {
      // launchRun settles every failure into the run itself; the catch only keeps a surprise from going unseen.
      const launching: Promise<void> = launchRun(this.deps, held)
        .then(watchDir)
        .catch((error: unknown) =>
          held.log.error('launch ended unexpectedly', { error: errorMessage(error) }),
        )
        .finally(() => this.launching.delete(launching));
      this.launching.add(launching);
    } else watchDir();
  }

  private unwatch(runId: string): void {
    this.exitWatches.get(runId)?.();
    this.exitWatches.delete(runId);
  }

  /** Claims and adoptions are taken until stop(), and while stopping was only announced (Idle stop). */
  private takesWork(): boolean {
    return this.state === 'running' && !this.idle.refusesWork;
  }

  // ── Heartbeat and the idle stop ─────────────────────────────────────────────────────────────

  private agentState(): AgentState {
    if (this.state === 'stopped') return 'stopped';
    return this.idle.stopping ? 'stopping' : 'running';
  }

  private beat(): Promise<boolean> {
    return beat(this.deps, this.self, this.agentState(), [...this.held.values()]);
  }

  /**
   * The heartbeat job: the idle stop's step first, so the document written says what it decided. After
   * saying `stopping` the queue is scanned once more (a run queued in that moment is claimed, which makes
   * the agent busy again); the step after that stops the VM if nothing came.
   */
  private async heartbeat(): Promise<void> {
    const action =
      this.state === 'running'
        ? await this.idle.step(
            () => this.held.size + this.claiming.size,
            () => this.resumes.holdsVm(),
          )
        : 'none';
    const written = await this.beat();
    if (action === 'announce-stopping') {
      // Nobody heard `stopping` unless the document landed: start over rather than stop unannounced.
      if (written) await this.loop.wake({ reason: 'queue-recheck' });
      else this.idle.unannounce();
    } else if (action === 'stop-vm' && !(await this.idle.stopVm()) && this.state === 'running') {
      await this.beat(); // `running` again at once: the functions count it as capacity
    }
  }

  // ── Following (the tick) ────────────────────────────────────────────────────────────────────

  /** One pass over the held runs: supervise, write progress, finish. */
  private async follow(): Promise<void> {
    for (const held of [...this.held.values()]) {
      try {
        await this.step(held);
      } catch (error) {
        held.log.warn('run step failed; retrying next tick', { error: errorMessage(error) });
      }
    }
  }

  private async step(held: HeldRun): Promise<void> {
    if (held.phase.name === 'preparing') return;
    if (held.phase.name !== 'finishing' && !(await superviseRun(this.deps, held)))
      return writeProgress(this.deps, held, false);
    await finishRun(this.deps, held);
    const pause = held.phase.name === 'finishing' ? held.phase.outcome.pause : null;
    if (pause?.resumeAt) this.resumes.arm({ id: held.runId, resumeAt: pause.resumeAt });
    this.held.delete(held.runId);
    this.unwatch(held.runId);
    void this.loop.wake({ reason: 'slot-freed', workerId: held.workerId });
  }

  // ── Cancel notice ───────────────────────────────────────────────────────────────────────────

  private pollCancels(wakes: readonly Wake[]): Promise<void> {
    // The periodic poll reads every held run; nudges alone read only theirs.
    const nudged = new Set(wakes.flatMap((w) => (w.reason === 'cancel-nudge' ? [w.runId] : [])));
    const all = wakes.some((w) => w.reason === 'cancel-poll');
    const runs = [...this.held.values()].filter((h) => all || nudged.has(h.runId));
    return pollCancels(this.deps, runs);
  }

  // ── Queue scan ──────────────────────────────────────────────────────────────────────────────

  /** Claims queued runs while there is room: a freed worker's first, then any, oldest first. */
  private async scanQueue(wakes: readonly Wake[]): Promise<void> {
    if (!this.takesWork() || this.held.size >= this.opts.capacity) return;
    const preferWorker = wakes.flatMap((w) => (w.reason === 'slot-freed' ? [w.workerId] : []))[0];
    try {
      const heldWorkers = new Set([...this.held.values()].map((h) => h.workerId));
      for (const run of queueCandidates(await this.store.queuedRuns(), { heldWorkers, preferWorker })) {
        if (this.held.size >= this.opts.capacity) break;
        const got = await this.claim(run.id);
        if (got === 'claimed') this.log.info('claimed a waiting run', { runId: run.id });
        // The account's usage limit holds every run alike: one look per scan is enough.
        if (got === 'held') break;
      }
    } catch (error) {
      this.log.warn('queue scan failed', { error: errorMessage(error) });
    }
  }

  // ── Resumes on time ─────────────────────────────────────────────────────────────────────────

  /** A resume timer fired: the tick's move `waiting → queued` (whoever is first), then this agent claims it. */
  private async resumeDue(wakes: readonly Wake[]): Promise<void> {
    for (const runId of new Set(wakes.flatMap((w) => (w.reason === 'resume-due' ? [w.runId] : [])))) {
      try {
        const done = await resumeDue(this.deps, runId);
        const claimed = done === 'not-due' || done === 'unknown' ? 'ignored' : await this.claim(runId);
        this.log.info('resume due', { runId, done, claimed });
        if (done === 'not-due')
          this.resumes.arm((await this.store.run(runId)).data() ?? { id: runId, resumeAt: null });
      } catch (error) {
        // The scheduler tick is the backstop: it queues the run and publishes its run.start.
        this.log.warn('could not resume a waiting run on time; the scheduler tick will', {
          runId,
          error: errorMessage(error),
        });
      }
    }
  }

  // ── Restart ─────────────────────────────────────────────────────────────────────────────────

  /**
   * On each heartbeat: a run recorded as this agent's that it does not hold is taken charge of. That is a
   * claim whose `queued → starting` write landed after its deadline (the claim threw, the command was
   * nacked, and its redelivery sees `starting`), which would otherwise stay `starting`, unheld, with the
   * worker locked, until the agent restarts.
   */
  private async adoptOrphans(): Promise<void> {
    if (!this.takesWork()) return;
    try {
      const orphans = (await this.store.ownActiveRuns()).filter(
        (r) => !this.held.has(r.id) && !this.claiming.has(r.id),
      );
      if (orphans.length === 0) return;
      this.log.warn('found runs of this agent it does not hold; taking them over', {
        runIds: orphans.map((r) => r.id),
      });
      await this.adoptEach(orphans);
    } catch (error) {
      this.log.warn('could not look for runs of this agent it does not hold', { error: errorMessage(error) });
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

  private async adopt(run: Run): Promise<void> {
    const { held, launch } = await adoptRun(this.deps, run);
    this.hold(held, launch);
  }
}
