// The agent's timings, each with its unit in its name; shared ones come from @nightshift/shared.
import {
  AGENT_HEARTBEAT_INTERVAL_MS,
  CANCEL_NOTICE_MS,
  PROGRESS_WRITE_INTERVAL_MS,
  RESULT_EXIT_GRACE_MS,
  RUN_LEASE_MS,
  STOP_ESCALATION_MS,
} from '@nightshift/shared';
import * as z from 'zod';

const durationMs = z.number().int().positive();

export const AgentTimingsSchema = z.object({
  /** How often held runs are tailed and checked. */
  tickMs: durationMs,
  /** How often the documents of held runs are re-read for a cancel request (below CANCEL_NOTICE_MS). */
  cancelPollMs: durationMs,
  heartbeatMs: durationMs,
  leaseMs: durationMs,
  progressWriteMs: durationMs,
  resultExitGraceMs: durationMs,
  stopEscalationMs: durationMs,
  /** Deadline of each Firestore call. */
  firestoreDeadlineMs: durationMs,
  /** Deadline of publishing a run.status event (a lost one is the scheduler tick's to find). */
  publishDeadlineMs: durationMs,
  /** Pause before reopening the subscription after a stream error. */
  resubscribeMs: durationMs,
  /** Length of one minute of a run's maxDurationMinutes (tests shorten it). */
  minuteMs: durationMs,
  /**
   * The idle stop: how long the agent has nothing to do before it stops its own VM (NIGHTSHIFT_IDLE_MINUTES);
   * 0 turns it off. Also how long it waits for its VM to go down after Compute accepted the stop.
   */
  idleStopMs: z.number().int().nonnegative(),
  /** Deadline of one Compute call (the idle stop's instances.stop). */
  computeDeadlineMs: durationMs,
  /** Added to a usage limit's reset before the run resumes (clocks differ; a resume a moment early burns a piece). */
  limitMarginMs: z.number().int().nonnegative(),
  /** How long a run waits when its usage limit says no reset time that can be read. */
  limitFallbackMs: durationMs,
  /**
   * A resume pinned to another agent (pin.ts) is taken over by this one once that agent's heartbeat and the
   * queued run have both been silent this long: its VM is gone (deleted, or it cannot be started).
   */
  holderGoneMs: durationMs,
  /** The idle stop keeps the VM up while a waiting run of this agent resumes within this long (resume-timer.ts). */
  resumeHoldsVmMs: z.number().int().nonnegative(),
});
export type AgentTimings = z.infer<typeof AgentTimingsSchema>;

/**
 * The functions start a holder's VM within a scheduler tick (5 minutes) of its resume being queued, and a
 * VM boots in one or two: half an hour without a sign means it will not come back.
 */
export const HOLDER_GONE_AFTER_MS = 30 * 60_000;
/**
 * A stop and a start cost a boot (a minute or two) and up to a tick (5 minutes) of lateness, and staying up
 * costs what one idle period does: a resume due within the default idle time keeps the VM up.
 */
export const RESUME_HOLDS_VM_MS = 15 * 60_000;
/**
 * Longest one resume timer is armed for: Node's timers take at most 2^31-1 ms (about 24.8 days); a later
 * resume is re-armed when this one fires.
 */
export const RESUME_TIMER_MAX_MS = 24 * 60 * 60_000;

/** Tries of the start's read of the runs this agent holds (agent.ts), `resubscribeMs` apart. */
export const STARTUP_READ_ATTEMPTS = 3;

export const DEFAULT_TIMINGS: AgentTimings = {
  tickMs: 1_000,
  cancelPollMs: Math.min(2_000, CANCEL_NOTICE_MS / 2),
  heartbeatMs: AGENT_HEARTBEAT_INTERVAL_MS,
  leaseMs: RUN_LEASE_MS,
  progressWriteMs: PROGRESS_WRITE_INTERVAL_MS,
  resultExitGraceMs: RESULT_EXIT_GRACE_MS,
  stopEscalationMs: STOP_ESCALATION_MS,
  firestoreDeadlineMs: 10_000,
  publishDeadlineMs: 10_000,
  resubscribeMs: 5_000,
  minuteMs: 60_000,
  // NIGHTSHIFT_IDLE_MINUTES' default (15), for agents compiled without it.
  idleStopMs: idleStopMsOf(15),
  computeDeadlineMs: 30_000,
  limitMarginMs: 2 * 60_000,
  limitFallbackMs: 5 * 60 * 60_000,
  holderGoneMs: HOLDER_GONE_AFTER_MS,
  resumeHoldsVmMs: RESUME_HOLDS_VM_MS,
};

/** NIGHTSHIFT_IDLE_MINUTES (fractions allowed) in whole milliseconds. */
export function idleStopMsOf(minutes: number): number {
  return Math.round(minutes * 60_000);
}

/**
 * Progress writes are coalesced in a window that widens: the first as soon as there is progress, then each
 * gap PROGRESS_WINDOW_GROWTH times the one before, from progressWriteMs up to PROGRESS_WRITE_MAX_INTERVAL_MS
 * (5 s, 15 s, 45 s, then a minute with the defaults). A 60-second run makes 3 progress writes instead of 12;
 * each also renews the run's lease, which spares the heartbeat's renewal (heartbeat.ts).
 */
export const PROGRESS_WINDOW_GROWTH = 3;
export const PROGRESS_WRITE_MAX_INTERVAL_MS = 60_000;

/** Longest the metadata server may take to say which VM this is (it answers in milliseconds on the VM). */
export const METADATA_TIMEOUT_MS = 2_000;
/** Longest a tmux command may take (they answer in milliseconds; a wedged server must not stall the agent). */
export const TMUX_COMMAND_TIMEOUT_MS = 10_000;
/** Longest a git command may take: a clone or fetch of a large repository, or a push over a slow link. */
export const GIT_COMMAND_TIMEOUT_MS = 5 * 60_000;
/**
 * A GitHub App installation token (valid one hour) is reused until this long before its `expires_at`, never
 * later: a clone or push started on it must not outlive it.
 */
export const GITHUB_APP_TOKEN_REUSE_MARGIN_MS = 5 * 60_000;
/** The App's JWT: `iat` set back this far (GitHub's advice, for clock drift) … */
export const GITHUB_APP_JWT_BACKDATE_MS = 60_000;
/** … and valid this long from `iat` (GitHub allows at most ten minutes). */
export const GITHUB_APP_JWT_LIFETIME_MS = 9 * 60_000;
/** The VM's metadata-server access token is reused until this long before it expires. */
export const METADATA_TOKEN_REUSE_MARGIN_MS = 60_000;
/** Longest one credential call may take: GitHub's API, the metadata server's token, Secret Manager. */
export const CREDENTIAL_HTTP_TIMEOUT_MS = 15_000;
