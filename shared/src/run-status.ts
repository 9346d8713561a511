// The run.status event: published on the run-status topic after every status change of a run.
import * as z from 'zod';
import { IsoDateTimeSchema, RunIdSchema, SlugSchema } from './ids.js';
import { type Run, type RunEvent, TriggerSchema } from './run.js';
import { RunStatusSchema } from './status.js';
import { formatIssues, parseJsonObject } from './validation.js';

export const RUN_STATUS_EVENT_VERSION = 1;

/**
 * What the reactor receives. It names the move (from → to) and carries the trigger so most reactions need
 * no read; anything else is read from the run, which Firestore holds as the truth. Pub/Sub may deliver it
 * twice, late or out of order: `eventId` (the status event's id in the run's history) makes it unique.
 */
export const RunStatusEventSchema = z.object({
  version: z.literal(RUN_STATUS_EVENT_VERSION),
  type: z.literal('run.status'),
  eventId: z.string().min(1).max(200),
  runId: RunIdSchema,
  workerId: SlugSchema,
  from: RunStatusSchema.nullable(),
  to: RunStatusSchema,
  at: IsoDateTimeSchema,
  reason: z.string().nullable(),
  trigger: TriggerSchema,
});
export type RunStatusEvent = z.infer<typeof RunStatusEventSchema>;

/** The event for a status change recorded in the run's history. */
export function runStatusEventOf(
  run: Pick<Run, 'id' | 'workerId' | 'trigger'>,
  event: Extract<RunEvent, { type: 'status' }>,
): RunStatusEvent {
  return {
    version: RUN_STATUS_EVENT_VERSION,
    type: 'run.status',
    eventId: event.id,
    runId: run.id,
    workerId: run.workerId,
    from: event.from,
    to: event.to,
    at: event.at,
    reason: event.reason,
    trigger: run.trigger,
  };
}

export function encodeRunStatusEvent(event: RunStatusEvent): Buffer {
  return Buffer.from(JSON.stringify(RunStatusEventSchema.parse(event)));
}

export type ParsedRunStatusEvent = { ok: true; event: RunStatusEvent } | { ok: false; reason: string };

/** Reads a message body; never throws, so a bad message is logged and acked, not redelivered forever. */
export function parseRunStatusEvent(data: Buffer | string | Uint8Array): ParsedRunStatusEvent {
  const json = parseJsonObject(data, 'run.status event');
  if (!json.ok) return json;
  const parsed = RunStatusEventSchema.safeParse(json.value);
  return parsed.success
    ? { ok: true, event: parsed.data }
    : { ok: false, reason: `run.status event does not match its schema: ${formatIssues(parsed.error)}` };
}
