// The idle stop: when an idle agent stops its own VM. The pure decision step by step (idle → stopping → stop), the record of a stop, and the IdleStop that acts on them from the heartbeat.
import { createHash } from 'node:crypto';
import { trimPeriods, type VmAction, type VmRecord, VmRecordSchema, type VmRef } from '@nightshift/shared';
import { errorMessage, type Logger } from './log.js';
import type { Clock } from './options.js';
import type { Store } from './store.js';
import { type AgentTimings, METADATA_TIMEOUT_MS } from './timings.js';
import { KEEPALIVE_SESSION, type Tmux } from './tmux.js';
import { findOwnVm, type OwnVm, ownVm } from './vm.js';

export type IdlePhase =
  | { name: 'busy' }
  /** Nothing held and no session alive since `sinceMs`. */
  | { name: 'idle'; sinceMs: number }
  /** Said `stopping` in its heartbeat; the queue is looked at once more before the VM is stopped. */
  | { name: 'stopping'; sinceMs: number };

export interface IdleFacts {
  /** Runs the agent holds (claimed, running or finishing). */
  heldRuns: number;
  /** Live tmux sessions of runs: a session always keeps the VM up, held or not. */
  liveSessions: number;
  /** A waiting run of this agent resumes soon (within `resumeHoldsVmMs`): a stop and a start would cost more. */
  resumeSoon?: boolean;
  nowMs: number;
  idleMs: number;
}

export type IdleAction =
  | 'none'
  /** Write `state: stopping` in the heartbeat, then scan the queue once. */
  | 'announce-stopping'
  /** The queue scan took nothing: stop the VM. */
  | 'stop-vm';

/**
 * The next phase and what to do. Work (a held run, a live session) always makes it busy again, also
 * after it announced stopping: a run claimed in that moment is taken, not stranded.
 */
export function idleStep(phase: IdlePhase, facts: IdleFacts): { phase: IdlePhase; action: IdleAction } {
  if (facts.heldRuns > 0 || facts.liveSessions > 0 || facts.resumeSoon === true)
    return { phase: { name: 'busy' }, action: 'none' };
  switch (phase.name) {
    case 'busy':
      return { phase: { name: 'idle', sinceMs: facts.nowMs }, action: 'none' };
    case 'idle':
      return facts.nowMs - phase.sinceMs >= facts.idleMs
        ? { phase: { name: 'stopping', sinceMs: facts.nowMs }, action: 'announce-stopping' }
        : { phase, action: 'none' };
    case 'stopping':
      return { phase, action: 'stop-vm' };
  }
}

// ── The record of a stop (vms/<name>) ─────────────────────────────────────────────────────────────

/** `idle for 15 minutes` (NIGHTSHIFT_IDLE_MINUTES as configured; fractions as given). */
export function idleReason(idleMs: number): string {
  const minutes = Number((idleMs / 60_000).toFixed(2));
  return `idle for ${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/**
 * The record with an idle stop in it, written before Compute is asked (the VM may be gone right after):
 * `lastStop`, the open running period ended at the stop, and the start request cleared. A VM started
 * outside nightshift has no open period; it ran at least since its agent started (`runningSince`).
 */
export function withStop(
  current: VmRecord | undefined,
  vm: VmRef,
  stop: VmAction,
  runningSince: string,
): VmRecord {
  const base = current ?? VmRecordSchema.parse({ ...vm, updatedAt: stop.at });
  const periods = trimPeriods(base.periods, new Date(stop.at));
  const open = periods.some((p) => p.to === null);
  return {
    ...base,
    // The start asked for before is over: without this the functions' start debounce would take the
    // stopped VM for one still coming up, and a run queued within it would wait for its tick.
    startRequestedAt: null,
    lastStop: stop,
    periods: open
      ? periods.map((p) => (p.to === null ? { ...p, to: stop.at } : p))
      : [...periods, { from: runningSince < stop.at ? runningSince : stop.at, to: stop.at }],
    updatedAt: stop.at,
  };
}

/**
 * The record once Compute answered the stop recorded at `stopAt`: its operation, or why it refused (then the
 * VM keeps running, and the period ended for the stop is open again). A later stop recorded meanwhile wins.
 */
export function withStopOutcome(
  current: VmRecord | undefined,
  stopAt: string,
  outcome: { operation: string } | { error: string },
  now: string,
): VmRecord | undefined {
  const stop = current?.lastStop;
  if (current === undefined || stop == null || stop.at !== stopAt) return current;
  if ('operation' in outcome)
    return { ...current, lastStop: { ...stop, operation: outcome.operation }, updatedAt: now };
  return {
    ...current,
    lastStop: { ...stop, error: outcome.error },
    periods: current.periods.map((p) => (p.to === stopAt ? { ...p, to: null } : p)),
    updatedAt: now,
  };
}

/** A UUID (Compute's requestId form) made from `text`: the same stop asks with the same id, so a retry is one operation. */
export function requestIdOf(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ── Acting on it ──────────────────────────────────────────────────────────────────────────────────

export interface IdleStopDeps {
  store: Store;
  tmux: Tmux;
  clock: Clock;
  log: Logger;
  timings: Pick<AgentTimings, 'idleStopMs' | 'computeDeadlineMs'>;
}

export interface IdleStopSettings {
  agentId: string;
  /** When the agent started (the VM's running time when no start of it was recorded). */
  agentStartedAt: string;
  /** The Google Cloud project; without it there is nothing to call Compute for. */
  projectId?: string;
  /** NIGHTSHIFT_VM; unset: the metadata server says. */
  vm?: VmRef;
  metadataHost?: string;
  /** false: only `vm` is ever stopped (an agent on the emulators never stops the machine it runs on). */
  vmFromMetadata?: boolean;
  computeApiUrl?: string;
}

/**
 * The idle stop of one agent, stepped on each heartbeat. It never throws: what goes wrong is logged in
 * plain words, and the agent goes back to `running` and tries again after another idle period.
 */
export class IdleStop {
  private phase: IdlePhase = { name: 'busy' };
  /** The own VM: undefined while it is being looked for, null when there is none (the idle stop is off). */
  private vm: OwnVm | null | undefined;
  /** From the decision to stop on: no work is taken. `requested` once Compute accepted the stop. */
  private stop: { atMs: number; stoppingSinceMs: number; requested: boolean } | null = null;

  constructor(
    private readonly deps: IdleStopDeps,
    private readonly settings: IdleStopSettings,
  ) {}

  /** Looks for the own VM once, beside the start (the heartbeats meanwhile do nothing); logs whether the stop is on. */
  begin(): void {
    const { log, timings } = this.deps;
    const off = (why: string) => {
      this.vm = null;
      log.info(`idle stop off: ${why}`);
    };
    const projectId = this.settings.projectId;
    if (timings.idleStopMs === 0) off('NIGHTSHIFT_IDLE_MINUTES is 0');
    else if (projectId === undefined) off('no Google Cloud project configured');
    else if (this.settings.vm === undefined && this.settings.vmFromMetadata === false)
      off('on the emulators, only NIGHTSHIFT_VM is stopped, and it is not set');
    else this.find(projectId, off);
  }

  private find(projectId: string, off: (why: string) => void): void {
    const { log, timings } = this.deps;
    findOwnVm({
      configured: this.settings.vm,
      metadataHost: this.settings.metadataHost,
      timeoutMs: METADATA_TIMEOUT_MS,
    }).then(
      (ref) => {
        if (ref === null)
          return off(
            'no own VM (NIGHTSHIFT_VM is not set and no metadata server answers: not on Google Cloud)',
          );
        this.vm = ownVm(ref, {
          projectId,
          apiUrl: this.settings.computeApiUrl,
          timeoutMs: timings.computeDeadlineMs,
        });
        log.info('idle stop on', { vm: `${ref.zone}/${ref.name}`, after: idleReason(timings.idleStopMs) });
      },
      (error: unknown) => off(`could not tell which VM this is: ${errorMessage(error)}`),
    );
  }

  /** The heartbeat says `stopping`: announced, or the stop under way. */
  get stopping(): boolean {
    return this.phase.name === 'stopping' || this.stop !== null;
  }

  /** The VM is being stopped: the agent claims and adopts nothing. */
  get refusesWork(): boolean {
    return this.stop !== null;
  }

  /** Work came (a run claimed or adopted): busy, also after stopping was announced; the idle time starts over. */
  busy(): void {
    if (this.stop !== null) return;
    if (this.phase.name === 'stopping')
      this.deps.log.info('idle stop: a run came while stopping; staying up');
    this.phase = { name: 'busy' };
  }

  /** The announce did not reach Firestore (nobody heard `stopping`): start over. */
  unannounce(): void {
    if (this.stop === null) this.phase = { name: 'busy' };
  }

  /**
   * One step, on the heartbeat. `heldRuns` is read after the sessions are listed, in the same synchronous
   * stretch as the decision: a claim started before it is counted, one started after it sees `refusesWork`.
   * `resumeSoon`: a resume of this agent is due soon, which keeps the VM up like work (a later one does not:
   * the VM stops, and the tick's start wakes it for the resume).
   */
  async step(heldRuns: () => number, resumeSoon: () => boolean = () => false): Promise<IdleAction> {
    if (this.vm == null) return 'none';
    const { tmux, clock, log, timings } = this.deps;
    if (this.stop !== null) {
      // Compute accepted the stop; the VM goes down (and this agent with it) well before this, normally.
      if (this.stop.requested && clock.now().getTime() - this.stop.atMs >= timings.idleStopMs) {
        log.warn('idle stop: the VM was asked to stop but still runs; taking work again', {
          vm: this.vmName(),
        });
        this.stop = null;
        this.phase = { name: 'busy' };
      }
      return 'none';
    }
    let liveSessions: number;
    try {
      liveSessions = (await tmux.listSessionsOrFail()).filter((s) => s !== KEEPALIVE_SESSION).length;
    } catch (error) {
      log.warn('idle stop: could not list the tmux sessions; the VM stays up', {
        error: errorMessage(error),
      });
      liveSessions = 1;
    }
    const nowMs = clock.now().getTime();
    const next = idleStep(this.phase, {
      heldRuns: heldRuns(),
      liveSessions,
      resumeSoon: resumeSoon(),
      nowMs,
      idleMs: timings.idleStopMs,
    });
    if (this.phase.name === 'stopping' && next.phase.name === 'busy')
      log.info('idle stop: work came while stopping; staying up', { liveSessions });
    if (next.action === 'stop-vm' && this.phase.name === 'stopping')
      this.stop = { atMs: nowMs, stoppingSinceMs: this.phase.sinceMs, requested: false };
    if (next.action === 'announce-stopping')
      log.info('idle stop: idle; saying stopping, looking at the queue once more', {
        vm: this.vmName(),
        reason: idleReason(timings.idleStopMs),
      });
    this.phase = next.phase;
    return next.action;
  }

  /**
   * After a `stop-vm` step: records the stop in `vms/<name>`, then asks Compute to stop the VM. Resolves
   * true once Compute accepted; false when it refused or the record could not be written (the agent is
   * `running` again and tries after another idle period). Never throws.
   */
  async stopVm(): Promise<boolean> {
    const vm = this.vm;
    const stop = this.stop;
    if (vm == null || stop === null) return false;
    const { store, clock, log, timings } = this.deps;
    const at = new Date(stop.atMs).toISOString();
    const reason = idleReason(timings.idleStopMs);
    const action: VmAction = {
      at,
      reason,
      by: this.settings.agentId,
      runId: null,
      operation: null,
      error: null,
    };
    const fields = { vm: this.vmName(), reason };
    try {
      await store.changeVm(vm.vm, (current) =>
        withStop(current, vm.vm, action, this.settings.agentStartedAt),
      );
    } catch (error) {
      log.error(
        'idle stop: could not record the stop; the VM stays up and tries again after another idle period',
        {
          ...fields,
          error: errorMessage(error),
        },
      );
      this.resume();
      return false;
    }
    const outcome = (result: { operation: string } | { error: string }) =>
      store
        .changeVm(vm.vm, (current) => withStopOutcome(current, at, result, clock.now().toISOString()))
        .catch((error: unknown) =>
          log.warn('idle stop: could not record what Compute answered', {
            ...fields,
            error: errorMessage(error),
          }),
        );
    try {
      // The stopping time names the stop: asking again for the same one is the same Compute operation.
      const stoppingSince = new Date(stop.stoppingSinceMs).toISOString();
      const operation = await vm.stop(requestIdOf(`${this.settings.agentId}@${stoppingSince}`));
      stop.requested = true;
      log.info('idle stop: stopping the VM', { ...fields, operation });
      await outcome({ operation });
      return true;
    } catch (error) {
      const message = errorMessage(error);
      log.error('idle stop: could not stop the VM; running again, tries again after another idle period', {
        ...fields,
        error: message,
      });
      await outcome({ error: message });
      this.resume();
      return false;
    }
  }

  private resume(): void {
    this.stop = null;
    this.phase = { name: 'busy' };
  }

  private vmName(): string | undefined {
    return this.vm ? `${this.vm.vm.zone}/${this.vm.vm.name}` : undefined;
  }
}
