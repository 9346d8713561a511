// The Run contract (one claude -p session of one worker) and its events.
import * as z from 'zod';
import { AgentIdSchema, GitHubRepoSchema, IsoDateTimeSchema, RunIdSchema, SlugSchema } from './ids.js';
import { type RunStatus, RunStatusSchema } from './status.js';
import { MAX_DURATION_MINUTES_LIMIT } from './timings.js';
import {
  AttributionSchema,
  BranchSchema,
  DEFAULT_MAX_WAITS,
  DEFAULT_STALL_MINUTES,
  MAX_WAITS_LIMIT,
  ModelSchema,
  OnInterruptSchema,
  OnStallSchema,
  OnUsageLimitSchema,
  PromptSchema,
  RepoSchema,
  STALL_MINUTES_LIMIT,
  type Worker,
  WorkspacePathSchema,
} from './worker.js';

/**
 * What a follow-up run continues: `comment` (a `/nightshift run` on a pull request), `review` (a review
 * asking for changes, or with comments), `ci` (failing checks), `issue` (a `/nightshift run` on an issue
 * that had a run), `answer` (a trusted comment on the issue or pull request of a blocked run: the answer to its
 * blocker). `parentSessionId` is the parent run's Claude session, resumed when the workspace holds it.
 */
export const FollowUpSchema = z.object({
  kind: z.enum(['comment', 'review', 'ci', 'issue', 'answer']),
  parentSessionId: z.uuid().nullable(),
  /** The review (for `review`) or the head commit (for `ci`) it answers. */
  reviewId: z.number().int().optional(),
  headSha: z.string().optional(),
});
export type FollowUp = z.infer<typeof FollowUpSchema>;

/** Who or what asked for the run. */
export const TriggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('api'), idempotencyKey: z.string().max(255).optional() }),
  z.object({
    type: z.literal('schedule'),
    /** The cron slot this run is for (ISO-8601, UTC). */
    slot: IsoDateTimeSchema,
  }),
  z.object({
    type: z.literal('github'),
    repo: GitHubRepoSchema,
    issue: z.number().int().positive(),
    sender: z.string(),
    deliveryId: z.string(),
    /** Set when a `/nightshift run` comment started the run. */
    commentId: z.number().int().optional(),
    /** The pull request a follow-up continues: its summary is posted there. */
    pullRequest: z.number().int().positive().optional(),
    /** Set on a follow-up run: it continues its parent's branch (and, when found, its Claude session). */
    followUp: FollowUpSchema.optional(),
  }),
  z.object({
    type: z.literal('chain'),
    /** The run of the same worker that succeeded with open roadmap work and queued this one. */
    previousRunId: RunIdSchema,
  }),
]);
export type Trigger = z.infer<typeof TriggerSchema>;

export const UsageSchema = z.object({
  turns: z.number().int().min(0),
  costUsd: z.number().min(0),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
});
export type Usage = z.infer<typeof UsageSchema>;
export const ZERO_USAGE: Usage = { turns: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 };

export const ProgressSchema = z.object({
  /** The latest assistant text, or the tail of PROGRESS.md. */
  text: z.string(),
  updatedAt: IsoDateTimeSchema,
});
export type Progress = z.infer<typeof ProgressSchema>;

/**
 * What the run works in, copied from its worker when the run is created: the agent reads it from the run
 * (at launch, at adopt after a restart, at the push), never from the worker, so a PATCH of the worker
 * during the run cannot mix old and new settings.
 */
export const RunCheckoutSchema = z.object({
  /** The repository to clone and fetch (branch, push), or null when the worker uses a workdir. */
  repo: RepoSchema.nullable(),
  /** An existing directory on the VM used as it is, or null when the worker has a repo. */
  workdir: z.string().nullable(),
  roadmapPath: WorkspacePathSchema,
  progressPath: WorkspacePathSchema,
  tasksPath: WorkspacePathSchema.default('docs/TASKS.md'),
});
export type RunCheckout = z.infer<typeof RunCheckoutSchema>;

/** The run's copy of what its worker works in. */
export function checkoutOf(worker: Worker): RunCheckout {
  return {
    repo: worker.repo ?? null,
    workdir: worker.workdir ?? null,
    roadmapPath: worker.roadmapPath,
    progressPath: worker.progressPath,
    tasksPath: worker.tasksPath,
  };
}

/**
 * How the run goes on through the night, copied from its worker when the run is created (like its checkout):
 * what a usage limit and an interruption do, and how many pauses it may take.
 */
export const RunAutopilotSchema = z.object({
  onUsageLimit: OnUsageLimitSchema.default('wait'),
  onInterrupt: OnInterruptSchema.default('resume'),
  maxWaits: z.number().int().min(0).max(MAX_WAITS_LIMIT).default(DEFAULT_MAX_WAITS),
  attribution: AttributionSchema.default('none'),
  stallMinutes: z.number().int().min(1).max(STALL_MINUTES_LIMIT).default(DEFAULT_STALL_MINUTES),
  onStall: OnStallSchema.default('event'),
  /**
   * The worker's `budget.maxUsdPerDay` and the zone of its day, when the run was created: each piece is
   * launched with `--max-budget-usd` no larger than what the day leaves (null: no day limit).
   */
  maxUsdPerDay: z.number().positive().nullable().default(null),
  dayZone: z.string().default('UTC'),
});
export type RunAutopilot = z.infer<typeof RunAutopilotSchema>;
export const DEFAULT_AUTOPILOT: RunAutopilot = {
  onUsageLimit: 'wait',
  onInterrupt: 'resume',
  maxWaits: DEFAULT_MAX_WAITS,
  attribution: 'none',
  stallMinutes: DEFAULT_STALL_MINUTES,
  onStall: 'event',
  maxUsdPerDay: null,
  dayZone: 'UTC',
};

/** The run's copy of its worker's autopilot settings. */
export function autopilotOf(worker: Worker): RunAutopilot {
  return {
    onUsageLimit: worker.onUsageLimit,
    onInterrupt: worker.onInterrupt,
    maxWaits: worker.maxWaits,
    attribution: worker.attribution,
    stallMinutes: worker.stallMinutes,
    onStall: worker.onStall,
    maxUsdPerDay: worker.budget?.maxUsdPerDay ?? null,
    dayZone: worker.schedule?.timezone ?? 'UTC',
  };
}

/**
 * How a piece ended without ending its run: the plan's usage limit (the run waits for its reset) or an
 * interruption (its worker died with its VM; the run is queued again at once).
 */
export const PauseKindSchema = z.enum(['usage_limit', 'interrupted']);
export type PauseKind = z.infer<typeof PauseKindSchema>;

/**
 * Where a piece's own usage came from (agent/PROTOCOL.md, Progress): `cumulative` (its result continued the
 * session's saved total, which was taken off), `piece` (its result counted only itself), `stream` (no usable
 * result: its assistant messages' tokens, no cost).
 */
export const UsageFromSchema = z.enum(['cumulative', 'piece', 'stream']);
export type UsageFrom = z.infer<typeof UsageFromSchema>;

/**
 * One `claude` process of a run: the first starts the session (`--session-id`), later ones resume it
 * (`--resume`). Recorded when the piece ends; `usage` is that piece's own, the run's `usage` the sum.
 */
export const PieceSchema = z.object({
  startedAt: IsoDateTimeSchema.nullable(),
  endedAt: IsoDateTimeSchema,
  mode: z.enum(['fresh', 'resume']),
  usage: UsageSchema,
  /** Why it ended: a pause kind, or `ended` for the piece that ended the run. */
  ending: z.union([PauseKindSchema, z.literal('ended')]),
  /** The agent (its VM) that ran it: it holds the workspace and the Claude session the next piece resumes. */
  agentId: AgentIdSchema.nullable().default(null),
  /** Where its cost and tokens came from; absent on pieces recorded before it was. */
  usageFrom: UsageFromSchema.optional(),
  /** Where its turns came from (`num_turns` may continue the session's count or not). */
  turnsFrom: UsageFromSchema.optional(),
  /**
   * The session it ran in: `new` (`--session-id`, or the runner's fresh start), `resumed` (`--resume`),
   * `forked` (a follow-up's fork of its parent's session). Tells which pieces a later resume continues.
   */
  session: z.enum(['new', 'resumed', 'forked']).optional(),
});
export type Piece = z.infer<typeof PieceSchema>;

/** The marker a worker writes when it cannot go on: a line starting with it, in its final result or PROGRESS.md. */
export const BLOCKED_MARKER = 'BLOCKED:';
export const BlockedSchema = z.object({
  /** The blocker in the worker's words (the marker's line, without the marker). */
  text: z.string(),
  source: z.enum(['result', 'progress']),
});
export type Blocked = z.infer<typeof BlockedSchema>;

export const PaidBySchema = z.object({
  kind: z.enum(['subscription', 'api_key']),
  /** As the worker said it (`none`, `user`, `project`, `org`, `temporary`, …). */
  apiKeySource: z.string(),
  /** What `usage.costUsd` is: money charged to the key, or what the API would have charged. */
  cost: z.enum(['charged', 'api_equivalent_estimate']),
});
export type PaidBy = z.infer<typeof PaidBySchema>;

/** The payer of a run whose worker said `apiKeySource` in its init message. */
export function paidByOf(apiKeySource: string): PaidBy {
  const subscription = apiKeySource === 'none' || apiKeySource === 'oauth';
  return {
    kind: subscription ? 'subscription' : 'api_key',
    apiKeySource,
    cost: subscription ? 'api_equivalent_estimate' : 'charged',
  };
}

/** A stored run. Optional facts are null until known, so every document has the same shape. */
export const RunSchema = z.object({
  id: RunIdSchema,
  workerId: SlugSchema,
  trigger: TriggerSchema,
  /** The rendered prompt the worker receives. */
  prompt: z.string(),
  model: ModelSchema,
  checkout: RunCheckoutSchema,
  maxTurns: z.number().int().positive().nullable().default(null),
  maxBudgetUsd: z.number().positive().nullable().default(null),
  maxDurationMinutes: z.number().int().min(1).max(MAX_DURATION_MINUTES_LIMIT),
  status: RunStatusSchema,
  createdAt: IsoDateTimeSchema,
  updatedAt: IsoDateTimeSchema,
  startedAt: IsoDateTimeSchema.nullable().default(null),
  finishedAt: IsoDateTimeSchema.nullable().default(null),
  agentId: AgentIdSchema.nullable().default(null),
  /** tmux session name on the agent's socket. */
  session: z.string().nullable().default(null),
  /** Until when the holding agent's claim counts; renewed with its heartbeat. */
  leaseExpiresAt: IsoDateTimeSchema.nullable().default(null),
  exitCode: z.number().int().nullable().default(null),
  usage: UsageSchema.default(ZERO_USAGE),
  progress: ProgressSchema.nullable().default(null),
  /** Commit the workspace was at when the run started. */
  startCommit: z.string().nullable().default(null),
  /** Commits made during the run, oldest first. */
  commits: z.array(z.string()).default([]),
  /** The worker's final `result` text. */
  result: z.string().nullable().default(null),
  /** Why the run failed, timed out, was cancelled or lost. */
  error: z.string().nullable().default(null),
  cancelRequestedAt: IsoDateTimeSchema.nullable().default(null),
  cancelReason: z.string().nullable().default(null),
  /**
   * The branch the run works on when it is not the worker's own `repo.branch` (an issue's run, decided
   * when the run is created): the agent branches it off the worker's branch and pushes it, never the
   * worker's branch. Null: the run works on the worker's branch.
   */
  workBranch: BranchSchema.nullable().default(null),
  /** The branch the agent pushed the run's commits to; null when nothing was pushed. */
  pushedBranch: z.string().nullable().default(null),
  /**
   * `nightshift/wip/<id>`: the run ended with uncommitted changes, kept there as one commit on top of
   * where the run left off (pushed when the worker pushes), so no other run carries them. Null: none.
   */
  wipBranch: BranchSchema.nullable().default(null),
  autopilot: RunAutopilotSchema.default(DEFAULT_AUTOPILOT),
  /**
   * The Claude session of the run: a UUID nightshift chooses when the run is first claimed, passed as
   * `--session-id` to its first piece and `--resume` to every later one.
   */
  sessionId: z.uuid().nullable().default(null),
  /** A waiting run goes back to `queued` at this time. Null unless waiting. */
  resumeAt: IsoDateTimeSchema.nullable().default(null),
  /** Why the run waits (the limit and its reset), while it waits; kept after for the record. */
  waitReason: z.string().nullable().default(null),
  /** How many times the run paused (usage-limit waits and interruptions resumed); at most autopilot.maxWaits. */
  waits: z.number().int().min(0).default(0),
  /** The pieces that ended, oldest first. */
  pieces: z.array(PieceSchema).default([]),
  /** The run this one follows on (the previous run of a chain, the run a follow-up answers). */
  parentRunId: z.string().nullable().default(null),
  /** What the worker reported it cannot get past (a line starting `BLOCKED:`); null when nothing blocks it. */
  blocked: BlockedSchema.nullable().default(null),
  /** Since when the run has had no stream output and no PROGRESS.md change (stallMinutes); null while it moves. */
  stalledSince: IsoDateTimeSchema.nullable().default(null),
  /**
   * Unchecked `- [ ]` items of the roadmap and TASKS.md in the run's workspace when it ended (a chain goes on
   * while there are any); null when unknown (no workspace, or neither file).
   */
  roadmapOpen: z.number().int().min(0).nullable().default(null),
  /**
   * How the run was paid for, from the init message's `apiKeySource` (`none`: the subscription's login,
   * anything else an API key). A subscription run's `usage.costUsd` is the API-equivalent estimate Claude
   * Code prints, not money spent. Null until the worker said.
   */
  paidBy: PaidBySchema.nullable().default(null),
});
export type Run = z.infer<typeof RunSchema>;

/** What a person sends to start a run; worker defaults fill the rest. */
export const CreateRunSchema = z.strictObject({
  workerId: SlugSchema,
  /** Replaces the worker's prompt template for this run. */
  prompt: PromptSchema.optional(),
  model: ModelSchema.optional(),
  maxTurns: z.number().int().min(1).max(10_000).optional(),
  maxBudgetUsd: z.number().positive().max(10_000).optional(),
});
export type CreateRun = z.infer<typeof CreateRunSchema>;

export const CancelRunSchema = z.strictObject({ reason: z.string().max(1000).optional() });
export type CancelRun = z.infer<typeof CancelRunSchema>;

/** One entry of a run's history: every status change, and notable moments in between. */
export const RunEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('status'),
    id: z.string(),
    runId: RunIdSchema,
    at: IsoDateTimeSchema,
    from: RunStatusSchema.nullable(),
    to: RunStatusSchema,
    reason: z.string().nullable().default(null),
    agentId: AgentIdSchema.nullable().default(null),
  }),
  z.object({
    type: z.literal('cancel_requested'),
    id: z.string(),
    runId: RunIdSchema,
    at: IsoDateTimeSchema,
    reason: z.string().nullable().default(null),
  }),
  z.object({
    type: z.literal('stalled'),
    id: z.string(),
    runId: RunIdSchema,
    at: IsoDateTimeSchema,
    /** The last stream output or progress file change before the stall. */
    since: IsoDateTimeSchema,
    message: z.string(),
    agentId: AgentIdSchema.nullable().default(null),
  }),
  z.object({
    type: z.literal('note'),
    id: z.string(),
    runId: RunIdSchema,
    at: IsoDateTimeSchema,
    message: z.string(),
    agentId: AgentIdSchema.nullable().default(null),
  }),
]);
export type RunEvent = z.infer<typeof RunEventSchema>;

/** An event id that sorts by time: the ms timestamp in base 36, then random. */
export function newEventId(at: Date): string {
  return `${at.getTime().toString(36).padStart(9, '0')}-${Math.random().toString(36).slice(2, 10)}`;
}

/** The event that records a status change. */
export function statusEvent(
  runId: string,
  from: RunStatus | null,
  to: RunStatus,
  at: Date,
  reason: string | null = null,
  agentId: string | null = null,
): RunEvent {
  return { type: 'status', id: newEventId(at), runId, at: at.toISOString(), from, to, reason, agentId };
}
