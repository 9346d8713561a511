// The daily digest: per worker the last 24 hours' runs, statuses, cost, commits and blockers and the month's spend, sent once a day by the scheduler tick.
import { isAlreadyExists, type NotificationSink, type Run, TERMINAL_STATUSES } from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { NOTIFICATION_RECORD_TTL_MS } from '../timings.js';
import { deliveryRecord, recordOnSink, sinksFor } from './deliver.js';
import { type Digest, digestBody, firstLines, runLink, type WorkerDigest } from './message.js';
import { type NotifyOptions, send } from './send.js';
import { getDigestSettings } from './sinks.js';

export type DigestOutcome =
  | { skipped: string }
  | { day: string; sent: number; failed: number }
  | { error: string };

const DAY_MS = 24 * 60 * 60_000;

/** The wall-clock date and time at `at` in `timeZone`, and that zone's offset from UTC then. */
export function localTime(at: Date, timeZone: string) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  const [y, m, d, hh, mm, ss] = ['year', 'month', 'day', 'hour', 'minute', 'second'].map((k) =>
    Number(parts[k]),
  );
  const asUtc = Date.UTC(
    y as number,
    (m as number) - 1,
    d as number,
    hh as number,
    mm as number,
    ss as number,
  );
  const offsetMs = Math.round((asUtc - at.getTime()) / 60_000) * 60_000;
  return {
    day: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}`,
    /** Midnight of the 1st of this month in the zone (at today's offset). */
    monthStart: new Date(Date.UTC(y as number, (m as number) - 1, 1) - offsetMs),
  };
}

const BAD_ENDS: readonly string[] = TERMINAL_STATUSES.filter((s) => s !== 'succeeded');

function blockerOf(run: Run): string | null {
  const blocked = (run as Record<string, unknown>).blocked;
  const text =
    typeof blocked === 'string'
      ? blocked
      : blocked && typeof blocked === 'object' && typeof (blocked as { text?: unknown }).text === 'string'
        ? (blocked as { text: string }).text
        : null;
  if (text) return firstLines(text, 1, 200);
  if (BAD_ENDS.includes(run.status)) return firstLines(run.error ?? run.result ?? run.status, 1, 200);
  return null;
}

/** The digest of the 24 hours before `now`: runs updated in them (started, ended or still going), by worker. */
export async function computeDigest(
  deps: Deps,
  now: Date,
  timeZone: string,
  publicUrl: string | null,
): Promise<Digest> {
  const local = localTime(now, timeZone);
  const since = new Date(now.getTime() - DAY_MS).toISOString();
  const [recent, month] = await Promise.all([
    deps.cols.runs.where('updatedAt', '>=', since).get(),
    deps.cols.runs.where('createdAt', '>=', local.monthStart.toISOString()).get(),
  ]);
  const byWorker = new Map<string, WorkerDigest>();
  const entry = (workerId: string) => {
    let w = byWorker.get(workerId);
    if (!w) {
      w = { workerId, runs: 0, statuses: {}, costUsd: 0, commits: 0, blockers: [], monthCostUsd: 0 };
      byWorker.set(workerId, w);
    }
    return w;
  };
  for (const doc of recent.docs) {
    const run = doc.data();
    const w = entry(run.workerId);
    w.runs += 1;
    w.statuses[run.status] = (w.statuses[run.status] ?? 0) + 1;
    w.costUsd += run.usage.costUsd;
    w.commits += run.commits.length;
    const blocker = blockerOf(run);
    if (blocker)
      w.blockers.push({ runId: run.id, status: run.status, text: blocker, url: runLink(publicUrl, run.id) });
  }
  let monthCost = 0;
  for (const doc of month.docs) {
    const run = doc.data();
    monthCost += run.usage.costUsd;
    // A worker with spend this month but no run today still shows its month.
    entry(run.workerId).monthCostUsd += run.usage.costUsd;
  }
  const round = (n: number) => Math.round(n * 10_000) / 10_000;
  const workers = [...byWorker.values()]
    .map((w) => ({ ...w, costUsd: round(w.costUsd), monthCostUsd: round(w.monthCostUsd) }))
    .sort((a, b) => a.workerId.localeCompare(b.workerId));
  return {
    day: local.day,
    timeZone,
    since,
    until: now.toISOString(),
    workers,
    monthToDate: { since: local.monthStart.toISOString(), costUsd: round(monthCost) },
  };
}

/** A worker's sink hears about its worker only; the month's total stays the account's. */
function digestFor(sink: NotificationSink, digest: Digest): Digest {
  return sink.workerId === null
    ? digest
    : { ...digest, workers: digest.workers.filter((w) => w.workerId === sink.workerId) };
}

/**
 * Sends the day's digest when its time has come in its time zone and no tick has yet: the first tick to
 * create `notificationDigests/<day>` sends it, so overlapping ticks send it once. Never throws.
 */
export async function sendDigestIfDue(deps: Deps, options: NotifyOptions): Promise<DigestOutcome> {
  try {
    const settings = await getDigestSettings(deps);
    if (!settings?.enabled) return { skipped: 'no digest is set' };
    const now = deps.now();
    const local = localTime(now, settings.timeZone);
    if (local.time < settings.time) return { skipped: `not yet ${settings.time} in ${settings.timeZone}` };
    const sinks = await sinksFor(deps, 'digest', null);
    const at = now.toISOString();
    try {
      await deps.cols.notificationDigests.doc(local.day).create({
        day: local.day,
        claimedAt: at,
        state: 'sending',
        sinks: sinks.length,
        failed: 0,
        updatedAt: at,
        expiresAt: new Date(now.getTime() + NOTIFICATION_RECORD_TTL_MS),
      });
    } catch (error) {
      if (isAlreadyExists(error)) return { skipped: `the digest of ${local.day} was sent already` };
      throw error;
    }
    const digest = await computeDigest(deps, now, settings.timeZone, options.publicUrl);
    const results = await Promise.all(
      sinks.map(async (sink) => {
        const result = await send(
          {
            url: sink.url,
            body: digestBody(sink.format, digestFor(sink, digest), at),
            event: 'digest',
            secret: sink.format === 'json' ? sink.secret : null,
          },
          options,
        );
        await recordOnSink(deps, sink.id, deliveryRecord('digest', null, result, deps.now()));
        if (!result.ok) deps.log.warn('digest not delivered', { sinkId: sink.id, error: result.error });
        return result.ok;
      }),
    );
    const failed = results.filter((ok) => !ok).length;
    await deps.cols.notificationDigests
      .doc(local.day)
      .update({ state: 'sent', failed, updatedAt: deps.now().toISOString() });
    deps.log.info('digest sent', { day: local.day, sinks: sinks.length, failed });
    return { day: local.day, sent: sinks.length - failed, failed };
  } catch (error) {
    deps.log.error('notifications: could not send the digest', { error: (error as Error).message });
    return { error: (error as Error).message };
  }
}
