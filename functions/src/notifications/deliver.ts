// Sending a run's status to the sinks that want it: once per (sink, run, status) by a claim, the outcome recorded on the sink, never failing the run or the reactor.
import {
  NOTIFICATION_EVENTS,
  type NotificationDelivery,
  type NotificationEvent,
  type NotificationSink,
  type Run,
  type RunStatusEvent,
  type SinkDelivery,
} from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { NOTIFICATION_RECORD_TTL_MS, NOTIFY_CLAIM_EXPIRY_MS } from '../timings.js';
import { runBody, runNotice } from './message.js';
import { type NotifyOptions, type SendResult, send } from './send.js';

export function eventOfStatus(status: string): NotificationEvent | null {
  const name = `run.${status}`;
  return (NOTIFICATION_EVENTS as readonly string[]).includes(name) ? (name as NotificationEvent) : null;
}

/** The enabled sinks that want `event`, for `workerId` (or every worker's, for the digest: null). */
export async function sinksFor(
  deps: Deps,
  event: NotificationEvent,
  workerId: string | null,
): Promise<NotificationSink[]> {
  const snapshot = await deps.cols.notificationSinks.where('events', 'array-contains', event).get();
  const sinks: NotificationSink[] = [];
  for (const doc of snapshot.docs) {
    try {
      const sink = doc.data();
      if (sink.enabled && (workerId === null || sink.workerId === null || sink.workerId === workerId)) {
        sinks.push(sink);
      }
    } catch (error) {
      deps.log.error('notifications: skipping a sink that does not match its schema', {
        path: doc.ref.path,
        error: (error as Error).message,
      });
    }
  }
  return sinks;
}

/** Records the outcome on the sink, for GET /v1/notifications/:id; a sink deleted meanwhile is fine. */
export async function recordOnSink(deps: Deps, sinkId: string, delivery: SinkDelivery): Promise<void> {
  try {
    await deps.cols.notificationSinks.doc(sinkId).update({ lastDelivery: delivery });
  } catch (error) {
    deps.log.warn('notifications: could not record a delivery on its sink', {
      sinkId,
      error: (error as Error).message,
    });
  }
}

export function deliveryRecord(
  event: NotificationEvent,
  runId: string | null,
  result: SendResult,
  at: Date,
): SinkDelivery {
  return {
    at: at.toISOString(),
    event,
    runId,
    ok: result.ok,
    httpStatus: result.httpStatus,
    attempts: result.attempts,
    error: result.error,
  };
}

/** Takes the (sink, run, status) claim; false when it is sent, failed for good, or being sent by someone else. */
async function claim(deps: Deps, id: string, fresh: NotificationDelivery): Promise<boolean> {
  const ref = deps.cols.notificationDeliveries.doc(id);
  return deps.db.runTransaction(async (t) => {
    const current = (await t.get(ref)).data();
    if (current) {
      const abandoned =
        current.state === 'sending' &&
        deps.now().getTime() - Date.parse(current.claimedAt) > NOTIFY_CLAIM_EXPIRY_MS;
      if (!abandoned) return false;
      t.set(ref, { ...fresh, attempts: current.attempts });
    } else {
      t.set(ref, fresh);
    }
    return true;
  });
}

async function deliverToSink(
  deps: Deps,
  options: NotifyOptions,
  sink: NotificationSink,
  run: Run,
  event: NotificationEvent,
  reason: string | null,
): Promise<string> {
  const id = `${sink.id}_${run.id}_${run.status}`;
  const now = deps.now().toISOString();
  const claimed = await claim(deps, id, {
    sinkId: sink.id,
    runId: run.id,
    event,
    state: 'sending',
    claimedAt: now,
    updatedAt: now,
    attempts: 0,
    httpStatus: null,
    error: null,
    expiresAt: new Date(deps.now().getTime() + NOTIFICATION_RECORD_TTL_MS),
  });
  if (!claimed) return `${sink.id}: already sent`;
  const body = runBody(sink.format, runNotice(run, event, reason, options.publicUrl), now);
  const result = await send(
    { url: sink.url, body, event, secret: sink.format === 'json' ? sink.secret : null },
    options,
  );
  const at = deps.now();
  await deps.cols.notificationDeliveries.doc(id).update({
    state: result.ok ? 'sent' : 'failed',
    updatedAt: at.toISOString(),
    attempts: result.attempts,
    httpStatus: result.httpStatus,
    error: result.error,
  });
  await recordOnSink(deps, sink.id, deliveryRecord(event, run.id, result, at));
  if (!result.ok) {
    deps.log.warn('notification not delivered', {
      sinkId: sink.id,
      runId: run.id,
      event,
      error: result.error,
    });
  }
  return `${sink.id}: ${result.ok ? 'sent' : `failed (${result.error})`}`;
}

/**
 * Sends a run.status event to the sinks that want its status. Never throws: a failure is logged, recorded
 * on the sink and on the claim, and the event is acked (an unreachable receiver must not redeliver forever).
 */
export async function notifyRunStatus(
  deps: Deps,
  options: NotifyOptions,
  event: RunStatusEvent,
): Promise<string[]> {
  const name = eventOfStatus(event.to);
  if (!name) return [];
  try {
    const sinks = await sinksFor(deps, name, event.workerId);
    if (sinks.length === 0) return [];
    const stored = (await deps.cols.runs.doc(event.runId).get()).data();
    if (!stored) return [`notify: run ${event.runId} does not exist; not sent`];
    // A late event (the run has moved on): the message tells the status the event is about.
    const run: Run = { ...stored, status: event.to };
    const lines = await Promise.all(
      sinks.map((sink) =>
        deliverToSink(deps, options, sink, run, name, event.reason).catch((error: Error) => {
          deps.log.error('notifications: could not deliver', { sinkId: sink.id, error: error.message });
          return `${sink.id}: error (${error.message})`;
        }),
      ),
    );
    return lines.map((line) => `notify ${line}`);
  } catch (error) {
    deps.log.error('notifications: could not look at the sinks', { error: (error as Error).message });
    return [`notify: error (${(error as Error).message})`];
  }
}
