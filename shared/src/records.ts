// The bookkeeping documents beside runs and workers: worker locks, idempotency keys, GitHub deliveries and
// feedback, schedule state. Each schema is the one contract for its collection, whoever reads or writes it.
import { Timestamp } from '@google-cloud/firestore';
import { z } from 'zod';
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
  repo: z.string(),
  issue: z.number().int(),
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
});
export type GithubFeedback = z.infer<typeof GithubFeedbackSchema>;
