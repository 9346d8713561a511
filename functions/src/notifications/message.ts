// What a notification says, in each format: a run's status at a glance, or the daily digest.
import type { NotificationEvent, NotificationFormat, Run, RunStatus } from '@nightshift/shared';

/** A run's status change, as every format tells it. */
export interface RunNotice {
  event: NotificationEvent;
  runId: string;
  workerId: string;
  status: RunStatus;
  /** Why the status changed (the event's reason), if it says. */
  reason: string | null;
  durationSeconds: number | null;
  costUsd: number;
  commits: number;
  branch: string | null;
  pullRequest: string | null;
  /** The first lines of the blocker, the result or the error. */
  excerpt: string | null;
  url: string | null;
}

export interface WorkerDigest {
  workerId: string;
  runs: number;
  statuses: Partial<Record<RunStatus, number>>;
  costUsd: number;
  commits: number;
  /** Runs that ended without succeeding, or that were blocked, each with the first line of why. */
  blockers: Array<{ runId: string; status: RunStatus; text: string; url: string | null }>;
  monthCostUsd: number;
}

export interface Digest {
  day: string;
  timeZone: string;
  since: string;
  until: string;
  workers: WorkerDigest[];
  monthToDate: { since: string; costUsd: number };
}

export const EXCERPT_LINES = 5;
export const EXCERPT_CHARS = 600;

/** The first lines of a text, bounded. */
export function firstLines(
  text: string | null | undefined,
  lines = EXCERPT_LINES,
  chars = EXCERPT_CHARS,
): string | null {
  if (!text?.trim()) return null;
  const head = text.trim().split('\n').slice(0, lines).join('\n');
  return head.length > chars ? `${head.slice(0, chars - 1)}…` : head;
}

/** Optional fields other parts of nightshift may add to a run (a blocker, a pull request): read if present. */
function optionalText(run: Run, key: string): string | null {
  const value = (run as Record<string, unknown>)[key];
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    for (const field of ['text', 'question', 'reason', 'url']) {
      const inner = (value as Record<string, unknown>)[field];
      if (typeof inner === 'string') return inner;
    }
  }
  return null;
}

export function runLink(publicUrl: string | null, runId: string): string | null {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(runId)}` : null;
}

export function runNotice(
  run: Run,
  event: NotificationEvent,
  reason: string | null,
  publicUrl: string | null,
): RunNotice {
  const started = run.startedAt ? Date.parse(run.startedAt) : null;
  const ended = run.finishedAt ? Date.parse(run.finishedAt) : Date.parse(run.updatedAt);
  return {
    event,
    runId: run.id,
    workerId: run.workerId,
    status: run.status,
    reason,
    durationSeconds: started === null ? null : Math.max(0, Math.round((ended - started) / 1000)),
    costUsd: run.usage.costUsd,
    commits: run.commits.length,
    branch: run.pushedBranch ?? run.workBranch ?? run.wipBranch ?? null,
    pullRequest: optionalText(run, 'pullRequest') ?? optionalText(run, 'pullRequestUrl'),
    excerpt: firstLines(optionalText(run, 'blocked') ?? run.result ?? run.error ?? run.waitReason ?? reason),
    url: runLink(publicUrl, run.id),
  };
}

function duration(seconds: number | null): string {
  if (seconds === null) return 'not started';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

const usd = (n: number) => `$${n.toFixed(2)}`;

function headline(n: RunNotice): string {
  return `nightshift: worker ${n.workerId} — run ${n.status}`;
}

function facts(n: RunNotice): string[] {
  const out = [
    `duration ${duration(n.durationSeconds)}`,
    `cost ${usd(n.costUsd)}`,
    `${n.commits} commit${n.commits === 1 ? '' : 's'}`,
  ];
  if (n.pullRequest) out.push(`pull request ${n.pullRequest}`);
  else if (n.branch) out.push(`branch ${n.branch}`);
  return out;
}

/** Slack's mrkdwn: &, < and > escaped, so a run's text cannot make links or mentions. */
const slackEscape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function digestLines(d: Digest): string[] {
  const lines = [`nightshift digest for ${d.day} (${d.timeZone}): last 24 hours`];
  if (d.workers.length === 0) lines.push('No runs.');
  for (const w of d.workers) {
    const statuses = Object.entries(w.statuses)
      .map(([status, count]) => `${count} ${status}`)
      .join(', ');
    lines.push(
      `• ${w.workerId}: ${w.runs} run${w.runs === 1 ? '' : 's'} (${statuses || 'none'}), ${usd(w.costUsd)}, ${w.commits} commits; month ${usd(w.monthCostUsd)}`,
    );
    for (const b of w.blockers) lines.push(`   – ${b.runId} ${b.status}: ${b.text}`);
  }
  lines.push(`Month to date: ${usd(d.monthToDate.costUsd)}`);
  return lines;
}

/** The request body for a run notice in a sink's format. */
export function runBody(format: NotificationFormat, n: RunNotice, sentAt: string): string {
  if (format === 'json') return JSON.stringify({ type: n.event, sentAt, run: n });
  const summary = facts(n).join(' · ');
  if (format === 'slack') {
    const title = n.url ? `<${n.url}|${slackEscape(headline(n))}>` : slackEscape(headline(n));
    return JSON.stringify({
      text: `${headline(n)} (${summary})`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*${title}*\n${slackEscape(summary)}` } },
        ...(n.excerpt
          ? [{ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${slackEscape(n.excerpt)}\`\`\`` } }]
          : []),
      ],
    });
  }
  return JSON.stringify({
    // No mention in a run's text pings anyone.
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: headline(n).slice(0, 256),
        ...(n.url ? { url: n.url } : {}),
        description: [summary, n.excerpt ? `\`\`\`\n${n.excerpt}\n\`\`\`` : '']
          .filter(Boolean)
          .join('\n')
          .slice(0, 4096),
        color: n.status === 'succeeded' ? 0x2ea043 : n.status === 'waiting' ? 0xd29922 : 0xcf222e,
        timestamp: sentAt,
      },
    ],
  });
}

/** The request body for the digest in a sink's format. */
export function digestBody(format: NotificationFormat, d: Digest, sentAt: string): string {
  if (format === 'json') return JSON.stringify({ type: 'digest', sentAt, digest: d });
  const lines = digestLines(d);
  if (format === 'slack') {
    return JSON.stringify({
      text: lines[0],
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: slackEscape(lines.join('\n')).slice(0, 3000) } },
      ],
    });
  }
  return JSON.stringify({
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: lines[0]?.slice(0, 256),
        description: lines.slice(1).join('\n').slice(0, 4096),
        timestamp: sentAt,
      },
    ],
  });
}
