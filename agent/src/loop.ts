// The agent's one loop: every wake names its reason; each reason runs its jobs, a job never overlaps itself, and no wake is dropped.
import { errorMessage, type Logger } from './log.js';

/** Why the loop was woken. */
export type Wake =
  /** The tick timer: follow the held runs. */
  | { reason: 'tick' }
  /** The cancel-poll timer: re-read every held run's document. */
  | { reason: 'cancel-poll' }
  /** A run.cancel command for a held run: re-read that one now. */
  | { reason: 'cancel-nudge'; runId: string }
  /**
   * The heartbeat timer (and the start): the idle stop's step and heartbeat and leases, runs of this agent it
   * does not hold, the queue.
   */
  | { reason: 'heartbeat' }
  /** A held run ended: its slot (and its worker) is free for a queued run. */
  | { reason: 'slot-freed'; workerId: string }
  /** The idle stop said `stopping`: the queue is looked at once more before the VM is stopped. */
  | { reason: 'queue-recheck' }
  /** A waiting run this agent holds reached its resumeAt (resume-timer.ts): queue it and claim it. */
  | { reason: 'resume-due'; runId: string };

export type WakeReason = Wake['reason'];

/** The jobs of the loop; each runs alone, with every wake that came for it since its last run. */
export type Job = 'follow' | 'cancels' | 'heartbeat' | 'adopt' | 'scan' | 'resume';

/** Which jobs a wake runs (pure). */
export function jobsFor(reason: WakeReason): readonly Job[] {
  switch (reason) {
    case 'tick':
      return ['follow'];
    case 'cancel-poll':
    case 'cancel-nudge':
      return ['cancels'];
    case 'heartbeat':
      return ['heartbeat', 'adopt', 'scan'];
    case 'slot-freed':
    case 'queue-recheck':
      return ['scan'];
    case 'resume-due':
      return ['resume'];
  }
}

export type JobHandlers = Record<Job, (wakes: readonly Wake[]) => Promise<void>>;

interface Lane {
  pending: { wake: Wake; done: () => void }[];
  running: Promise<void> | null;
}

export interface Loop {
  /** Resolves once every job the wake runs has run with it (at once, or right after a run in progress). */
  wake(wake: Wake): Promise<void>;
  /** No job starts after this; resolves when the jobs running now have ended. */
  stop(): Promise<void>;
}

/**
 * A wake that comes while its job runs is kept, and the job runs once more with every wake kept meanwhile:
 * a nudge never replaces the periodic poll, and a freed slot is never lost behind a scan in progress.
 * Different jobs run side by side, so a slow push in `follow` does not hold up the heartbeat.
 */
export function createLoop(handlers: JobHandlers, log: Logger): Loop {
  const lanes = new Map<Job, Lane>();
  let stopped = false;

  const drain = async (job: Job, lane: Lane) => {
    while (lane.pending.length > 0 && !stopped) {
      const batch = lane.pending.splice(0);
      try {
        await handlers[job](batch.map((p) => p.wake));
      } catch (error) {
        log.error('loop job failed; it runs again on its next wake', { job, error: errorMessage(error) });
      }
      for (const p of batch) p.done();
    }
    lane.running = null;
    // Stopped with wakes left: whoever waits on them is not kept waiting.
    for (const p of lane.pending.splice(0)) p.done();
  };

  return {
    wake(wake) {
      if (stopped) return Promise.resolve();
      const jobs = jobsFor(wake.reason);
      return Promise.all(
        jobs.map(
          (job) =>
            new Promise<void>((done) => {
              let lane = lanes.get(job);
              if (lane === undefined) {
                lane = { pending: [], running: null };
                lanes.set(job, lane);
              }
              lane.pending.push({ wake, done });
              lane.running ??= drain(job, lane);
            }),
        ),
      ).then(() => {});
    },
    async stop() {
      stopped = true;
      await Promise.all([...lanes.values()].map((lane) => lane.running));
    },
  };
}
