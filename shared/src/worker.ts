// The Worker contract: a project checkout plus the instructions its runs follow.
import { Cron } from 'croner';
import * as z from 'zod';
import { GitHubRepoSchema, IsoDateTimeSchema, SlugSchema } from './ids.js';
import { DEFAULT_MAX_DURATION_MINUTES, MAX_DURATION_MINUTES_LIMIT } from './timings.js';

/** The roadmap protocol people ran by hand: read the roadmap, do the next milestone, log progress, commit. */
export const DEFAULT_PROMPT = [
  'You are an autonomous engineer working through this project roadmap unattended.',
  "If {{tasksPath}} exists and has unchecked `- [ ]` items, those are the owner's own assignments: do them first, in order, ticking each (`- [x]`) and committing when it is done; then go on with the roadmap.",
  'Read {{roadmapPath}} and find the first milestone that is not COMPLETED.',
  'Do that milestone: implement it, run the tests, and commit after each logical unit of work.',
  'Keep {{progressPath}} up to date: per milestone, what was done, which files changed, how it was tested, and any blockers.',
  'When the milestone is done, mark it COMPLETED in {{roadmapPath}}, tick its checklist items, commit, and stop.',
  'If you are blocked and cannot go on without a person (a decision, a credential, access), write one line starting with `BLOCKED:` and the blocker in {{progressPath}}, commit what you have, end your final message with the same line, and stop.',
].join('\n');

/**
 * Text that reaches the worker as one process argument (the prompt). An argument cannot carry NUL, so
 * such text is refused at the edge, naming the field, instead of failing the run at launch.
 */
export const PromptSchema = z
  .string()
  .min(1)
  .max(100_000)
  .refine((p) => !p.includes('\0'), {
    message: 'must not contain NUL (U+0000): no process argument can carry it',
  });

/** A model name or alias as `claude --model` takes it; never starting with a dash, so it cannot become a flag. */
export const ModelSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:[\]-]{0,99}$/, {
  message: 'expected a model name or alias such as "sonnet", "opus" or "claude-sonnet-4-5"',
});

/** A git branch name that git accepts and that can never be read as an option. */
export const BranchSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$/, {
    message: 'expected a branch name of letters, digits, ".", "_", "/" or "-", not starting with "-"',
  })
  .refine((b) => !b.includes('..') && !b.endsWith('/') && !b.endsWith('.lock') && !b.includes('//'), {
    message: 'expected a valid git branch name (no "..", "//", trailing "/" or ".lock")',
  });

/** Where the repository comes from: https, ssh, git@host:path, file:// or an absolute path. */
export const RepoUrlSchema = z
  .string()
  .min(1)
  .max(2000)
  .refine((u) => /^(https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:|\/)/.test(u), {
    message: 'expected a git URL (https://, ssh://, git@host:path, file://) or an absolute path',
  })
  .refine((u) => !/[\0\n\r]/.test(u), { message: 'must not contain NUL or line breaks' });

/** A file path inside the workspace, or absolute (some keep PROGRESS.md outside the repository). */
export const WorkspacePathSchema = z
  .string()
  .min(1)
  .max(1000)
  .refine((p) => !p.startsWith('-') && !/[\0\n\r]/.test(p), {
    message: 'expected a file path not starting with "-" and without NUL or line breaks',
  });

/** The name of one of the agent's configured git credentials (agent/PROTOCOL.md, Credentials). */
export const CredentialNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, {
  message: 'expected a credential name of letters, digits, "_" or "-" (such as "acme" or "github-app")',
});

export const RepoSchema = z.strictObject({
  url: RepoUrlSchema,
  branch: BranchSchema.default('main'),
  /** Push the branch after the run (never force). */
  push: z.boolean().default(false),
  /**
   * Which of the agent's git credentials clones, fetches and pushes it: a name of NIGHTSHIFT_GIT_TOKENS, or
   * `github-app`; unset: the GitHub App for its GitHub remotes, else NIGHTSHIFT_GIT_TOKEN.
   */
  credential: CredentialNameSchema.optional(),
});
export type Repo = z.infer<typeof RepoSchema>;

/** An IANA time zone name that this runtime knows. */
export const TimeZoneSchema = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as "UTC" or "Europe/Berlin"' },
);

/** A cron expression (5 or 6 fields, as croner reads it). */
export const CronSchema = z
  .string()
  .min(1)
  .superRefine((expr, ctx) => {
    try {
      new Cron(expr, { paused: true });
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a cron expression such as "0 2 * * *": ${(error as Error).message}`,
      });
    }
  });

export const ScheduleSchema = z.strictObject({
  cron: CronSchema,
  timezone: TimeZoneSchema.default('UTC'),
  /** What a due slot does while the worker already has an active run. */
  onBusy: z.enum(['skip', 'queue']).default('skip'),
  /**
   * Set by nightshift when the schedule paused itself (its last runs in a row failed or made no commit):
   * no slot is queued while it is there. Setting the schedule again (without it) resumes it.
   */
  pausedReason: z.string().max(2000).optional(),
});
export type Schedule = z.infer<typeof ScheduleSchema>;

export const MAX_CI_FIXES_PER_DAY = 20;

/**
 * CI fixes: when checks fail on the head commit of a pull request the worker opened, a follow-up run gets
 * the failures; at most `maxPerDay` of them per pull request in any 24 hours.
 */
export const CiFixesSchema = z.strictObject({
  enabled: z.boolean().default(true),
  maxPerDay: z.number().int().min(0).max(MAX_CI_FIXES_PER_DAY).default(2),
});
export type CiFixes = z.infer<typeof CiFixesSchema>;
export const DEFAULT_CI_FIXES: CiFixes = { enabled: true, maxPerDay: 2 };

export const GitHubBindingSchema = z.strictObject({
  repo: GitHubRepoSchema,
  /** Adding this label to an issue queues a run. */
  label: z.string().min(1).max(50).default('nightshift'),
  /** Bot logins (e.g. "renovate[bot]") allowed to start runs by labelling. Other bots are ignored. */
  allowedBots: z.array(z.string().min(1).max(100)).max(50).default([]),
});
export type GitHubBinding = z.infer<typeof GitHubBindingSchema>;

/** What a run does when its worker reports the plan's usage limit: wait for the reset and resume, or fail. */
export const OnUsageLimitSchema = z.enum(['wait', 'fail']);
/** What a run does when its worker died with its VM: resume its session on the same workspace, or stay lost. */
export const OnInterruptSchema = z.enum(['resume', 'lost']);
/** The most times one run may pause (a usage-limit wait or an interruption resumed) before it ends. */
export const MAX_WAITS_LIMIT = 20;
export const DEFAULT_MAX_WAITS = 3;
/** Whose name the worker's commits and pull requests carry: nobody's (trailers stripped) or Claude Code's own. */
export const AttributionSchema = z.enum(['none', 'claude']);
/** What a stalled run does (no output and no progress for stallMinutes): say so in an event, or stop as timed out. */
export const OnStallSchema = z.enum(['event', 'stop']);
export const DEFAULT_STALL_MINUTES = 20;
export const STALL_MINUTES_LIMIT = 24 * 60;
/** The most runs one chain may queue in a worker's day, whatever its setting. */
export const CHAIN_RUNS_PER_DAY_LIMIT = 100;
/** A schedule pauses itself after this many of its runs in a row failed or made no commit. */
export const SCHEDULE_PAUSE_AFTER_RUNS = 3;

/** Keep going while the roadmap or TASKS.md has open work: a run that succeeded with a commit queues the next. */
export const ChainSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Runs a chain may queue in the worker's day (its schedule's time zone, else UTC). */
  maxRunsPerDay: z.number().int().min(1).max(CHAIN_RUNS_PER_DAY_LIMIT).default(10),
});
export type Chain = z.infer<typeof ChainSchema>;

/** What a worker may spend in its day (its schedule's time zone, else UTC), over every run created that day. */
export const BudgetSchema = z.strictObject({
  /** USD over the runs' `usage.costUsd` (for a subscription, the API-equivalent estimate Claude Code prints). */
  maxUsdPerDay: z.number().positive().max(100_000).optional(),
  maxRunsPerDay: z.number().int().min(1).max(10_000).optional(),
});
export type Budget = z.infer<typeof BudgetSchema>;

const workerFields = {
  id: SlugSchema,
  repo: RepoSchema.optional(),
  /** An existing directory on the VM used as it is, instead of a clone. */
  workdir: z
    .string()
    .startsWith('/', { message: 'expected an absolute path' })
    .refine((p) => !/[\0\n\r]/.test(p), { message: 'must not contain NUL or line breaks' })
    .optional(),
  model: ModelSchema.default('sonnet'),
  /** Template; {{roadmapPath}}, {{progressPath}} and {{tasksPath}} are filled in. */
  prompt: PromptSchema.default(DEFAULT_PROMPT),
  roadmapPath: WorkspacePathSchema.default('docs/roadmap.md'),
  progressPath: WorkspacePathSchema.default('PROGRESS.md'),
  /** The owner's own assignments beside the roadmap: the default prompt works on their open items first. */
  tasksPath: WorkspacePathSchema.default('docs/TASKS.md'),
  maxTurns: z.number().int().min(1).max(10_000).optional(),
  maxBudgetUsd: z.number().positive().max(10_000).optional(),
  maxDurationMinutes: z
    .number()
    .int()
    .min(1)
    .max(MAX_DURATION_MINUTES_LIMIT)
    .default(DEFAULT_MAX_DURATION_MINUTES),
  schedule: ScheduleSchema.optional(),
  github: GitHubBindingSchema.optional(),
  enabled: z.boolean().default(true),
  onUsageLimit: OnUsageLimitSchema.default('wait'),
  onInterrupt: OnInterruptSchema.default('resume'),
  /** Pauses (usage-limit waits and resumed interruptions) one run may take; the next one fails it. */
  maxWaits: z.number().int().min(0).max(MAX_WAITS_LIMIT).default(DEFAULT_MAX_WAITS),
  /** Follow-up runs that fix a red build of a pull request the worker opened. */
  ciFixes: CiFixesSchema.default(DEFAULT_CI_FIXES),
  /** `none`: no Claude trailers in the worker's commits (the setting passed, and a commit-msg hook strips them). */
  attribution: AttributionSchema.default('none'),
  /** Minutes without stream output and without a PROGRESS.md change after which the run counts as stalled. */
  stallMinutes: z.number().int().min(1).max(STALL_MINUTES_LIMIT).default(DEFAULT_STALL_MINUTES),
  onStall: OnStallSchema.default('event'),
  chain: ChainSchema.optional(),
  budget: BudgetSchema.optional(),
};

function exactlyOneSource(w: { repo?: unknown; workdir?: unknown }, ctx: z.RefinementCtx): void {
  const count = (w.repo === undefined ? 0 : 1) + (w.workdir === undefined ? 0 : 1);
  if (count !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: [w.repo === undefined ? 'repo' : 'workdir'],
      message:
        count === 0
          ? 'expected exactly one of repo or workdir, got neither'
          : 'expected exactly one of repo or workdir, got both',
    });
  }
}

/** What a person sends to create a worker; defaults filled in, unknown fields rejected. */
export const WorkerSpecSchema = z.strictObject(workerFields).superRefine(exactlyOneSource);
export type WorkerSpec = z.infer<typeof WorkerSpecSchema>;
export type WorkerSpecInput = z.input<typeof WorkerSpecSchema>;

/** A stored worker. */
export const WorkerSchema = z
  .object({
    ...workerFields,
    createdAt: IsoDateTimeSchema,
    updatedAt: IsoDateTimeSchema,
    /**
     * When the schedule last took effect: set at creation, and when a change touches `schedule` or turns the
     * worker on again. The scheduler counts slots from here, so editing the prompt never drops a due slot.
     * A worker written without it (tests, hand-made documents) counts from its last change.
     */
    scheduleSince: IsoDateTimeSchema.optional(),
  })
  .superRefine(exactlyOneSource)
  .transform((w) => ({ ...w, scheduleSince: w.scheduleSince ?? w.updatedAt }));
export type Worker = z.infer<typeof WorkerSchema>;

/**
 * A PATCH: any spec field but the id; `null` removes an optional field (so `{repo: null, workdir: "/x"}`
 * switches the source). The merged result is validated again by WorkerSpecSchema.
 */
export const WorkerPatchSchema = z.strictObject({
  repo: RepoSchema.nullable().optional(),
  workdir: workerFields.workdir.unwrap().nullable().optional(),
  model: ModelSchema.optional(),
  prompt: PromptSchema.optional(),
  roadmapPath: WorkspacePathSchema.optional(),
  progressPath: WorkspacePathSchema.optional(),
  maxTurns: workerFields.maxTurns.unwrap().nullable().optional(),
  maxBudgetUsd: workerFields.maxBudgetUsd.unwrap().nullable().optional(),
  maxDurationMinutes: z.number().int().min(1).max(MAX_DURATION_MINUTES_LIMIT).optional(),
  schedule: ScheduleSchema.nullable().optional(),
  github: GitHubBindingSchema.nullable().optional(),
  enabled: z.boolean().optional(),
  onUsageLimit: OnUsageLimitSchema.optional(),
  onInterrupt: OnInterruptSchema.optional(),
  maxWaits: z.number().int().min(0).max(MAX_WAITS_LIMIT).optional(),
  ciFixes: CiFixesSchema.optional(),
  tasksPath: WorkspacePathSchema.optional(),
  attribution: AttributionSchema.optional(),
  stallMinutes: z.number().int().min(1).max(STALL_MINUTES_LIMIT).optional(),
  onStall: OnStallSchema.optional(),
  chain: ChainSchema.nullable().optional(),
  budget: BudgetSchema.nullable().optional(),
});
export type WorkerPatch = z.infer<typeof WorkerPatchSchema>;

/** Applies a parsed patch to a worker's spec; the caller validates the result with WorkerSpecSchema. */
export function mergeWorkerPatch(current: WorkerSpec, patch: WorkerPatch): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** The spec part of a stored worker (what PATCH merges into). */
export function workerSpecOf(worker: Worker): WorkerSpec {
  const { createdAt: _c, updatedAt: _u, scheduleSince: _s, ...spec } = worker;
  return spec;
}

/** Fills {{roadmapPath}}, {{progressPath}}, {{tasksPath}} and any other given variables into a prompt template. */
export function renderPrompt(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g, (whole, name: string) =>
    Object.hasOwn(vars, name) ? (vars[name] as string) : whole,
  );
}
