// The bookkeeping documents beside runs and workers: worker locks, idempotency keys, GitHub deliveries,
// feedback and App installations, schedule state. Each schema is the one contract for its collection, whoever reads or writes it.
import { Timestamp } from '@google-cloud/firestore';
import * as z from 'zod';
import { AgentIdSchema, IsoDateTimeSchema, RunIdSchema, SlugSchema } from './ids.js';

/**
 * A Firestore TTL policy needs a Timestamp field: written as a Date, read back as a Timestamp. The only
 * non-string time in the data model, and only on documents that expire.
 */
export const ExpiresAtSchema = z.union([z.instanceof(Date), z.instanceof(Timestamp)]);

/** `workerLocks/<workerId>`: the run that holds the worker (one active run per worker). */
export const WorkerLockSchema = z.object({
  workerId: SlugSchema,
  runId: RunIdSchema,
  agentId: AgentIdSchema,
  createdAt: IsoDateTimeSchema,
});
export type WorkerLock = z.infer<typeof WorkerLockSchema>;

/** `idempotencyKeys/<sha256 of the key>`: the run an Idempotency-Key created, and what the request was. */
export const IdempotencyKeySchema = z.object({
  runId: RunIdSchema,
  /** sha256 of the request's worker, overrides and prompt suffix: another body under the same key is 409. */
  fingerprint: z.string(),
  createdAt: IsoDateTimeSchema,
  expiresAt: ExpiresAtSchema,
});
export type IdempotencyKey = z.infer<typeof IdempotencyKeySchema>;

/** `githubDeliveries/<X-GitHub-Delivery>`: a webhook delivery already handled (redeliveries are duplicates). */
export const GithubDeliverySchema = z.object({
  deliveryId: z.string(),
  event: z.string(),
  action: z.string().optional(),
  /** The issue's repository; none for an `installation` event, which concerns a whole account. */
  repo: z.string().optional(),
  /** None for an `installation` or `installation_repositories` event. */
  issue: z.number().int().optional(),
  /** The App installation an `installation` or `installation_repositories` event changed. */
  installationId: z.number().int().positive().optional(),
  receivedAt: IsoDateTimeSchema,
  handledAt: IsoDateTimeSchema.optional(),
  expiresAt: ExpiresAtSchema,
  runIds: z.array(RunIdSchema),
});
export type GithubDelivery = z.infer<typeof GithubDeliverySchema>;

/**
 * `scheduleState/<workerId>`: the last slot a tick decided for the worker. The next due slot must be
 * later than `lastSlot` (and later than the worker's last change, so a new or edited schedule starts
 * from then on). `pending` is true from the decision "queue" until its run exists: a tick that stopped
 * in between is finished by the next one, under the same derived run id.
 */
export const ScheduleStateSchema = z.object({
  workerId: SlugSchema,
  lastSlot: IsoDateTimeSchema,
  outcome: z.enum(['queued', 'skipped']),
  runId: RunIdSchema,
  /** The run that was active when the slot was skipped. */
  activeRunId: RunIdSchema.nullable(),
  /** Why the slot was skipped (a run in the way, or a wait past the next slot); null when queued. */
  reason: z.string().nullable().default(null),
  pending: z.boolean(),
  updatedAt: IsoDateTimeSchema,
});
export type ScheduleState = z.infer<typeof ScheduleStateSchema>;

/** `githubFeedback/<runId>`: a GitHub-triggered run whose end-of-run comment is still owed. */
export const GithubFeedbackSchema = z.object({
  runId: RunIdSchema,
  state: z.enum(['pending', 'posting', 'posted', 'failed']),
  attempts: z.number().int().min(0),
  createdAt: IsoDateTimeSchema,
  updatedAt: IsoDateTimeSchema,
  summaryPostedAt: IsoDateTimeSchema.nullable(),
  error: z.string().nullable(),
  /**
   * When a poster claimed the entry (state `posting`). A claim older than the functions' claim expiry
   * belongs to a poster that stopped before it finished, and a later one may claim the entry again.
   */
  claimedAt: IsoDateTimeSchema.nullable().default(null),
  /**
   * The GitHub App installation the webhook delivery came through (its `installation.id`), so the summary
   * is posted with that installation's token without looking it up; absent without an App.
   */
  installationId: z.number().int().positive().optional(),
  /** When Firestore's TTL policy may delete the entry: set when it is posted or failed; absent while owed. */
  expiresAt: ExpiresAtSchema.optional(),
});
export type GithubFeedback = z.infer<typeof GithubFeedbackSchema>;

/**
 * `githubInstallations/<installation id>`: which repositories one installation of the GitHub App covers,
 * as its `installation` and `installation_repositories` webhook events told it. Kept after the App is
 * uninstalled (`deleted`), so a repository it no longer reaches reads as not installed, not unknown.
 */
export const GithubInstallationSchema = z.object({
  installationId: z.number().int().positive(),
  /** The user or organization the App is installed on, as GitHub spells its login. */
  account: z.object({ login: z.string().min(1), id: z.number().int(), type: z.string() }),
  /** The login lowercased: what a repository's owner is looked up by (GitHub logins ignore case). */
  accountKey: z.string().min(1),
  /** `all`: every repository of the account, present and future; `selected`: those in `repositories`. */
  repositorySelection: z.enum(['all', 'selected']),
  /** `owner/name` of each selected repository, as GitHub spells it (empty for `all`). */
  repositories: z.array(z.string()),
  /**
   * Whether `repositories` is the whole selection. False when it was learned from an event that names only
   * the change (`installation_repositories` for an installation first seen then, or a switch from `all`
   * to `selected`): a repository missing from it may still be covered.
   */
  repositoriesComplete: z.boolean(),
  suspended: z.boolean(),
  /** Uninstalled (`installation` `deleted`). */
  deleted: z.boolean(),
  /** The permissions the account granted, e.g. `{contents: 'write'}`. */
  permissions: z.record(z.string(), z.string()),
  /** The event and action that last changed this record, e.g. `installation.created`. */
  lastEvent: z.string(),
  lastDeliveryId: z.string(),
  updatedAt: IsoDateTimeSchema,
});
export type GithubInstallation = z.infer<typeof GithubInstallationSchema>;
