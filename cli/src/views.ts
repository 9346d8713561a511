// What each command shows people: runs, workers, agents, events and the status screen, drawn at a given `now`.
import type { AgentStatus, Run, RunEvent, Schemas, Vm, Worker } from './api.js';
import {
  ago,
  bold,
  dateTime,
  dim,
  duration,
  fields,
  firstLine,
  green,
  red,
  type Style,
  statusText,
  table,
  timeOfDay,
  usd,
  yellow,
} from './format.js';
import { isTerminal } from './outcome.js';

export interface ViewOptions {
  style: Style;
  now: Date;
  /** Time zone of absolute times (the machine's when not given). */
  timeZone?: string;
}

/** How long a run ran (or has been running): from its start to its end, or to now. */
export function runDuration(run: Run, now: Date): string {
  if (!run.startedAt) return '-';
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now.getTime();
  return duration(end - Date.parse(run.startedAt));
}

export function triggerText(run: Run): string {
  const t = run.trigger;
  if (t.type === 'github') return `github ${t.repo}#${t.issue}`;
  if (t.type === 'schedule') return 'schedule';
  return 'api';
}

export function runsTable(runs: Run[], { style, now }: ViewOptions): string {
  if (runs.length === 0) return dim(style, 'no runs');
  return table(
    style,
    ['ID', 'WORKER', 'STATUS', 'TRIGGER', 'CREATED', 'DURATION', 'TURNS', 'COST'],
    runs.map((r) => [
      r.id,
      r.workerId,
      statusText(style, r.status),
      triggerText(r),
      ago(r.createdAt, now),
      runDuration(r, now),
      String(r.usage.turns),
      usd(r.usage.costUsd),
    ]),
  );
}

export function runView(run: Run, { style, now, timeZone }: ViewOptions): string {
  const entries: Array<[string, string]> = [
    ['run', bold(style, run.id)],
    ['worker', run.workerId],
    ['status', statusText(style, run.status)],
    ['trigger', triggerText(run)],
    ['model', run.model],
    ['created', `${dateTime(run.createdAt, timeZone)} (${ago(run.createdAt, now)})`],
  ];
  if (run.startedAt)
    entries.push(['started', `${dateTime(run.startedAt, timeZone)} (${ago(run.startedAt, now)})`]);
  if (run.finishedAt) {
    entries.push(['finished', `${dateTime(run.finishedAt, timeZone)} (${ago(run.finishedAt, now)})`]);
  }
  entries.push(['duration', runDuration(run, now)]);
  const u = run.usage;
  entries.push([
    'usage',
    `${u.turns} turns, ${usd(u.costUsd)}, ${u.inputTokens} tokens in, ${u.outputTokens} out`,
  ]);
  if (run.agentId) entries.push(['agent', run.agentId]);
  if (run.session) entries.push(['session', `${run.session}  (nightshift attach ${run.id})`]);
  const branch = run.workBranch ?? run.checkout.repo?.branch;
  if (branch) entries.push(['branch', branch]);
  if (run.pushedBranch) entries.push(['pushed', run.pushedBranch]);
  if (run.wipBranch) entries.push(['unfinished work', run.wipBranch]);
  if (run.commits.length > 0) {
    entries.push(['commits', run.commits.map((c) => c.slice(0, 10)).join(' ')]);
  }
  if (run.cancelRequestedAt && !isTerminal(run.status)) {
    entries.push([
      'cancel',
      `requested ${ago(run.cancelRequestedAt, now)}${run.cancelReason ? `: ${run.cancelReason}` : ''}`,
    ]);
  }
  if (run.progress)
    entries.push(['progress', `${firstLine(run.progress.text)} (${ago(run.progress.updatedAt, now)})`]);
  if (run.result) entries.push(['result', firstLine(run.result, 200)]);
  if (run.error) entries.push(['error', red(style, run.error)]);
  return fields(style, entries);
}

export function workersTable(workers: Worker[], { style }: ViewOptions): string {
  if (workers.length === 0) return dim(style, 'no workers');
  return table(
    style,
    ['ID', 'ENABLED', 'SOURCE', 'MODEL', 'SCHEDULE', 'GITHUB'],
    workers.map((w) => [
      w.id,
      w.enabled ? green(style, 'yes') : yellow(style, 'no'),
      sourceText(w),
      w.model,
      w.schedule ? `${w.schedule.cron} ${w.schedule.timezone}` : '-',
      w.github ? `${w.github.repo} [${w.github.label}]` : '-',
    ]),
  );
}

export function sourceText(w: Worker): string {
  if (w.repo) return `${w.repo.url} (${w.repo.branch}${w.repo.push ? ', push' : ''})`;
  return w.workdir ?? '-';
}

/** The last slot the scheduler decided (GET /v1/workers/:id). */
export type LastSlot = NonNullable<Schemas['WorkerLastSlot']>;

export interface WorkerShow {
  worker: Worker & { lastSlot?: LastSlot | null };
  /** Its newest runs, newest first. */
  runs: Run[];
  /** The next slot of its schedule after now; null when it has none or is disabled. */
  nextSlot: Date | null;
}

export function workerView({ worker: w, runs, nextSlot }: WorkerShow, options: ViewOptions): string {
  const { style, now, timeZone } = options;
  const entries: Array<[string, string]> = [
    ['worker', bold(style, w.id)],
    ['enabled', w.enabled ? green(style, 'yes') : yellow(style, 'no (runs are refused)')],
  ];
  if (w.repo) {
    entries.push(
      ['repo', w.repo.url],
      ['branch', `${w.repo.branch}${w.repo.push ? ' (pushed after each run)' : ''}`],
    );
  }
  if (w.workdir) entries.push(['workdir', w.workdir]);
  entries.push(['model', w.model]);
  const limits = [
    w.maxTurns ? `${w.maxTurns} turns` : null,
    w.maxBudgetUsd ? `${usd(w.maxBudgetUsd)}` : null,
    `${w.maxDurationMinutes} min`,
  ].filter((x) => x !== null);
  entries.push(['limits', limits.join(', ')]);
  entries.push(['roadmap', w.roadmapPath], ['progress', w.progressPath]);
  entries.push(['prompt', firstLine(w.prompt)]);
  if (w.schedule) {
    entries.push(['schedule', `${w.schedule.cron} (${w.schedule.timezone}), on busy: ${w.schedule.onBusy}`]);
    entries.push([
      'next slot',
      nextSlot
        ? `${dateTime(nextSlot, w.schedule.timezone)} ${w.schedule.timezone} (${ago(nextSlot.toISOString(), now)})`
        : dim(style, w.enabled ? 'none' : 'none while disabled'),
    ]);
    const last = w.lastSlot;
    if (last)
      entries.push([
        'last slot',
        `${dateTime(last.slot, w.schedule.timezone)} ${w.schedule.timezone} ${
          last.outcome === 'skipped'
            ? `${yellow(style, 'skipped')}: ${last.reason ?? 'no reason recorded'}`
            : `queued: ${last.runId}`
        }`,
      ]);
  } else {
    entries.push(['schedule', dim(style, 'none')]);
  }
  entries.push([
    'github',
    w.github
      ? `${w.github.repo}, label "${w.github.label}"${w.github.allowedBots.length ? `, bots: ${w.github.allowedBots.join(', ')}` : ''}`
      : dim(style, 'none'),
  ]);
  entries.push(['created', `${dateTime(w.createdAt, timeZone)} (${ago(w.createdAt, now)})`]);
  entries.push(['updated', `${dateTime(w.updatedAt, timeZone)} (${ago(w.updatedAt, now)})`]);
  return `${fields(style, entries)}\n\n${bold(style, 'last runs')}\n${runsTable(runs, options)}`;
}

export function agentsTable(agents: AgentStatus[], { style, now }: ViewOptions): string {
  if (agents.length === 0) return dim(style, 'no agents have sent a heartbeat');
  return table(
    style,
    ['ID', 'ALIVE', 'STATE', 'RUNS', 'HEARTBEAT', 'VERSION', 'HOST'],
    agents.map((a) => [
      a.id,
      a.alive ? green(style, 'yes') : red(style, 'no'),
      a.state,
      `${a.running.length}/${a.capacity}`,
      ago(a.heartbeatAt, now),
      a.version,
      a.host,
    ]),
  );
}

/** One line of a run's history. */
export function eventLine(event: RunEvent, { style, timeZone }: ViewOptions): string {
  const at = dim(style, timeOfDay(event.at, timeZone));
  if (event.type === 'status') {
    const move = `${event.from ?? 'new'} → ${statusText(style, event.to)}`;
    return `${at}  ${move}${event.reason ? `  ${event.reason}` : ''}`;
  }
  if (event.type === 'cancel_requested') {
    return `${at}  ${yellow(style, 'cancel requested')}${event.reason ? `  ${event.reason}` : ''}`;
  }
  return `${at}  ${event.message}`;
}

/** What changed in a run worth a line while following it: its usage, its progress. */
export function progressLine(run: Run, { style }: ViewOptions): string {
  const u = run.usage;
  const text = run.progress ? `  ${firstLine(run.progress.text, 100)}` : '';
  return `${dim(style, '         ')}  ${dim(style, `${u.turns} turns, ${usd(u.costUsd)}`)}${text}`;
}

export interface StatusScreen {
  agents: AgentStatus[];
  vms: Vm[];
  running: Run[];
  queued: Run[];
  /** Cost of the runs created today, per worker. */
  costToday: Record<string, number>;
}

export function statusView(s: StatusScreen, options: ViewOptions): string {
  const { style, now } = options;
  const alive = s.agents.filter((a) => a.alive);
  const free = alive.reduce((n, a) => n + Math.max(0, a.capacity - a.running.length), 0);
  const out: string[] = [];
  out.push(
    `${bold(style, 'agents')}  ${alive.length} alive of ${s.agents.length}, ${free} free slot${free === 1 ? '' : 's'}`,
  );
  for (const a of s.agents) {
    out.push(
      `  ${a.id}  ${a.alive ? green(style, 'alive') : red(style, 'gone')}  ${a.state}  ${a.running.length}/${a.capacity} runs  heartbeat ${ago(a.heartbeatAt, now)}`,
    );
  }
  for (const vm of s.vms) {
    out.push(`  vm ${vm.name} (${vm.zone})  ${vm.status ?? `unknown: ${vm.statusError ?? ''}`}`);
  }
  out.push('', `${bold(style, 'running')}  ${s.running.length}`);
  for (const r of s.running) {
    out.push(
      `  ${r.id}  ${r.workerId}  ${statusText(style, r.status)}  ${runDuration(r, now)}  ${r.usage.turns} turns  ${usd(r.usage.costUsd)}${r.progress ? `  ${firstLine(r.progress.text, 60)}` : ''}`,
    );
  }
  out.push('', `${bold(style, 'queued')}  ${s.queued.length}`);
  for (const r of s.queued) out.push(`  ${r.id}  ${r.workerId}  queued ${ago(r.createdAt, now)}`);
  const costs = Object.entries(s.costToday).sort(([a], [b]) => a.localeCompare(b));
  const total = costs.reduce((sum, [, c]) => sum + c, 0);
  out.push('', `${bold(style, 'cost today')}  ${usd(total)}`);
  for (const [worker, cost] of costs) out.push(`  ${worker}  ${usd(cost)}`);
  return out.join('\n');
}
