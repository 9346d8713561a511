// The account-wide usage limit: `limits/account`, written by the agent that saw a worker hit it, read before every claim.
import * as z from 'zod';
import { IsoDateTimeSchema, RunIdSchema } from './ids.js';

/** The id of the one limit document: a plan's usage limit is the account's, not one run's. */
export const ACCOUNT_LIMIT_ID = 'account';

/**
 * Until when no new run of any worker is launched. Only ever moved later (a second run that sees the same
 * wall does not shorten it); a document whose `until` has passed holds nothing.
 */
export const AccountLimitSchema = z.object({
  until: IsoDateTimeSchema,
  /** The limit as the worker named it, e.g. "five_hour", or null when only its text was seen. */
  limitType: z.string().nullable(),
  /** What the owner reads: which limit, when it resets, how that was known. */
  reason: z.string(),
  /** The run that reported it. */
  runId: RunIdSchema,
  at: IsoDateTimeSchema,
});
export type AccountLimit = z.infer<typeof AccountLimitSchema>;

/** Whether the limit still holds at `now`. */
export function limitHolds(limit: AccountLimit | undefined, now: Date): limit is AccountLimit {
  return limit !== undefined && Date.parse(limit.until) > now.getTime();
}
