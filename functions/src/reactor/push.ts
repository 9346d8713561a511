// The Pub/Sub push request body (what a push subscription POSTs) and the run.status event inside it.
import { parseRunStatusEvent, type RunStatusEvent } from '@nightshift/shared';
import * as z from 'zod';

/** https://cloud.google.com/pubsub/docs/push#receive_push: one message per request, data in base64. */
export const PushBodySchema = z.object({
  message: z.object({
    data: z.base64(),
    messageId: z.string().min(1),
    attributes: z.record(z.string(), z.string()).optional(),
    publishTime: z.string().optional(),
  }),
  subscription: z.string().min(1),
  /** Set by Pub/Sub when the subscription has a dead-letter policy. */
  deliveryAttempt: z.number().int().optional(),
});
export type PushBody = z.infer<typeof PushBodySchema>;

export type ReadPush =
  | { ok: true; event: RunStatusEvent; messageId: string; deliveryAttempt: number | null }
  | { ok: false; reason: string };

/** The run.status event of a push body; never throws (a bad message is acked and logged, not retried). */
export function readPush(body: unknown): ReadPush {
  const push = PushBodySchema.safeParse(body);
  if (!push.success) return { ok: false, reason: 'not a Pub/Sub push body' };
  const parsed = parseRunStatusEvent(Buffer.from(push.data.message.data, 'base64'));
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  return {
    ok: true,
    event: parsed.event,
    messageId: push.data.message.messageId,
    deliveryAttempt: push.data.deliveryAttempt ?? null,
  };
}
