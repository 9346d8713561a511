// What each command shows people: runs, workers, agents, VMs, notification sinks, the digest, events and the status screen, drawn at a given `now`.
import type {
  AgentStatus,
  DigestSettings,
  NotificationSink,
  Run,
  RunEvent,
  Schemas,
  Vm,
  VmAction,
  VmList,
  Worker,
} from './api.js';
import {
  ago,
  bold,
  type Column,
  cyan,
  dateTime,
  dim,
  duration,
  fields,
  firstLine,
  green,
  hangingWrap,
  MIN_TEXT_WIDTH,
  red,
  type Style,
  statusText,
  table,
  timeOfDay,
  truncate,
  usd,
  visibleLength,
  yellow,
} from './format.js';
import { isTerminal } from './outcome.js';

export interface ViewOptions {
  style: Style;
  now: Date;
  /** Time zone of absolute times (the machine's when not given). */
  timeZone?: string;
  /** The columns to fit (a narrow terminal); not given: every column at full width, as for a pipe. */
  width?: number;
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

// On a phone a run is its id, its status, when it was made and by which worker; the rest goes first.
const RUN_COLUMNS: Column[] = [
  { header: 'ID' },
  { header: 'WORKER', drop: 6 },
  { header: 'STATUS' },
  { header: 'TRIGGER', drop: 2, shrink: true },
  { header: 'CREATED', drop: 5 },
  { header: 'DURATION', drop: 4 },
  { header: 'TURNS', drop: 1 },
  { header: 'COST', drop: 3 },
];

export function runsTable(runs: Run[], { style, now, width }: ViewOptions): string {
  if (runs.length === 0) return dim(style, 'no runs');
  return table(
    style,
    RUN_COLUMNS,
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
    width,
  );
}

export function runView(run: Run, { style, now, timeZone, width }: ViewOptions): string {
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
  return fields(style, entries, width);
}

/** A URL (or text starting with one) without `https://`, the scheme taken for granted, before it is cut. */
const withoutHttps = (text: string) => text.replace(/^https:\/\//, '');

// On a phone a worker is its id, whether it is on, and what it works on (cut to fit).
const WORKER_COLUMNS: Column[] = [
  { header: 'ID' },
  { header: 'ENABLED' },
  { header: 'SOURCE', shrink: true, compact: withoutHttps },
  { header: 'MODEL', drop: 1 },
  { header: 'SCHEDULE', drop: 3 },
  { header: 'GITHUB', drop: 2, shrink: true },
];

export function workersTable(workers: Worker[], { style, width }: ViewOptions): string {
  if (workers.length === 0) return dim(style, 'no workers');
  return table(
    style,
    WORKER_COLUMNS,
    workers.map((w) => [
      w.id,
      w.enabled ? green(style, 'yes') : yellow(style, 'no'),
      sourceText(w),
      w.model,
      w.schedule ? `${w.schedule.cron} ${w.schedule.timezone}` : '-',
      w.github ? `${w.github.repo} [${w.github.label}]` : '-',
    ]),
    width,
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
  const { style, now, timeZone, width } = options;
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
  return `${fields(style, entries, width)}\n\n${bold(style, 'last runs')}\n${runsTable(runs, options)}`;
}

// On a phone an agent is its id, whether it is alive, what it is doing and how full it is.
const AGENT_COLUMNS: Column[] = [
  { header: 'ID' },
  { header: 'ALIVE' },
  { header: 'STATE', drop: 4 },
  { header: 'RUNS' },
  { header: 'HEARTBEAT', drop: 3 },
  { header: 'VERSION', drop: 1 },
  { header: 'HOST', drop: 2, shrink: true },
];

export function agentsTable(agents: AgentStatus[], { style, now, width }: ViewOptions): string {
  if (agents.length === 0) return dim(style, 'no agents have sent a heartbeat');
  return table(
    style,
    AGENT_COLUMNS,
    agents.map((a) => [
      a.id,
      a.alive ? green(style, 'yes') : red(style, 'no'),
      a.state,
      `${a.running.length}/${a.capacity}`,
      ago(a.heartbeatAt, now),
      a.version,
      a.host,
    ]),
    width,
  );
}

const VM_STATUS_COLOR: Record<string, (style: Style, text: string) => string> = {
  RUNNING: green,
  PROVISIONING: cyan,
  STAGING: cyan,
  STOPPING: yellow,
  SUSPENDING: yellow,
  REPAIRING: yellow,
};

function vmStatusText(style: Style, vm: Vm): string {
  if (vm.status === null) return red(style, 'unknown');
  return (VM_STATUS_COLOR[vm.status] ?? dim)(style, vm.status);
}

function vmAgentText(style: Style, vm: Vm): string {
  const a = vm.agent;
  if (!a) return '-';
  const life = a.alive ? green(style, 'alive') : red(style, 'gone');
  // An agent's id is its VM's name; another id is worth showing.
  const id = a.id === vm.name ? '' : `${a.id} `;
  return `${id}${life} ${a.state} ${a.running.length}/${a.capacity} runs`;
}

/** A start or stop in a few words: when, by whom, why, and what went wrong. */
function vmActionLine(style: Style, what: 'started' | 'stopped', action: VmAction, now: Date): string {
  const by = action.by ? ` by ${action.by}` : '';
  const run = action.runId && !action.reason.includes(action.runId) ? ` (run ${action.runId})` : '';
  const failed = action.error ? `; ${red(style, `failed: ${action.error}`)}` : '';
  return `${what} ${ago(action.at, now)}${by}: ${action.reason}${run}${failed}`;
}

/** GET /v1/vms as a table, then why each VM last started and stopped, and the month's cost. */
// On a phone a VM is its name, its status, its agent (cut to fit) and what it cost.
const VM_COLUMNS: Column[] = [
  { header: 'NAME' },
  { header: 'ZONE', drop: 5 },
  { header: 'STATUS' },
  { header: 'MACHINE', drop: 1 },
  { header: 'AGENT', shrink: true },
  { header: 'STARTED', drop: 4 },
  { header: 'STOPPED', drop: 3 },
  { header: 'HOURS', drop: 2 },
  { header: 'COST' },
];

export function vmsTable(list: VmList, { style, now, width }: ViewOptions): string {
  if (list.vms.length === 0) {
    return dim(style, 'no worker VMs: the functions start none (NIGHTSHIFT_VMS is empty)');
  }
  const out = [
    table(
      style,
      VM_COLUMNS,
      list.vms.map((vm) => [
        vm.name,
        vm.zone,
        vmStatusText(style, vm),
        vm.machineType ?? '-',
        vmAgentText(style, vm),
        ago(vm.lastStart?.at, now),
        ago(vm.lastStop?.at, now),
        vm.costThisMonth.hours.toFixed(2),
        vm.costThisMonth.usd === null ? '-' : usd(vm.costThisMonth.usd),
      ]),
      width,
    ),
  ];
  // A note is the VM's name, then free text wrapped under itself.
  const note = (vm: Vm, text: string) => hangingWrap(`${vm.name}  `, text, width, STATUS_INDENT);
  const notes: string[] = [];
  for (const vm of list.vms) {
    if (vm.statusError) notes.push(note(vm, red(style, `Compute could not be asked: ${vm.statusError}`)));
    if (vm.lastStart) notes.push(note(vm, vmActionLine(style, 'started', vm.lastStart, now)));
    if (vm.lastStop) notes.push(note(vm, vmActionLine(style, 'stopped', vm.lastStop, now)));
    if (vm.costThisMonth.hourlyUsd === null) {
      notes.push(note(vm, dim(style, 'no hourly price known: set NIGHTSHIFT_VM_HOURLY_USD')));
    }
  }
  if (notes.length > 0) out.push('', ...notes);
  const total =
    list.costThisMonthUsd === null ? 'unknown: a VM has no hourly price' : usd(list.costThisMonthUsd);
  out.push(
    '',
    hangingWrap(
      `${bold(style, 'cost this month')}  `,
      `${total} ${dim(style, '(running hours × hourly price; disks not included)')}`,
      width,
      'cost this month  '.length,
    ),
  );
  return out.join('\n');
}

const workerOfSink = (sink: NotificationSink) => sink.workerId ?? 'all';

/** The outcome of a sink's last delivery in a few words. */
function deliveryText(style: Style, sink: NotificationSink, now: Date): string {
  const d = sink.lastDelivery;
  if (!d) return dim(style, 'none yet');
  const http = d.httpStatus === null ? 'no answer' : `HTTP ${d.httpStatus}`;
  const outcome = d.ok ? green(style, 'ok') : red(style, 'failed');
  return `${outcome} ${ago(d.at, now)} (${d.event}, ${http})`;
}

// On a phone a sink is its id, where it sends (cut to fit), whether it is on, and how its last send went.
const SINK_COLUMNS: Column[] = [
  { header: 'ID' },
  { header: 'URL', shrink: true, compact: withoutHttps },
  { header: 'EVENTS', drop: 2, shrink: true },
  { header: 'WORKER', drop: 3 },
  { header: 'FORMAT', drop: 1 },
  { header: 'ENABLED' },
  { header: 'LAST DELIVERY', shrink: true },
];

export function sinksTable(sinks: NotificationSink[], { style, now, width }: ViewOptions): string {
  if (sinks.length === 0) return dim(style, 'no notification sinks');
  return table(
    style,
    SINK_COLUMNS,
    sinks.map((s) => [
      s.id,
      s.url,
      s.events.join(','),
      workerOfSink(s),
      s.format,
      s.enabled ? green(style, 'yes') : yellow(style, 'no'),
      deliveryText(style, s, now),
    ]),
    width,
  );
}

export function sinkView(sink: NotificationSink, { style, now, timeZone, width }: ViewOptions): string {
  const entries: Array<[string, string]> = [
    ['sink', bold(style, sink.id)],
    ['url', sink.url],
    ['events', sink.events.join(', ')],
    ['worker', sink.workerId ?? 'all workers'],
    ['format', sink.format === 'json' ? 'json (signed with its secret)' : sink.format],
    ['enabled', sink.enabled ? green(style, 'yes') : yellow(style, 'no (nothing is sent)')],
  ];
  if (sink.description) entries.push(['description', sink.description]);
  entries.push(['created', `${dateTime(sink.createdAt, timeZone)} (${ago(sink.createdAt, now)})`]);
  entries.push(['updated', `${dateTime(sink.updatedAt, timeZone)} (${ago(sink.updatedAt, now)})`]);
  const d = sink.lastDelivery;
  if (!d) {
    entries.push(['last delivery', dim(style, 'none yet')]);
  } else {
    const http = d.httpStatus === null ? 'no answer' : `HTTP ${d.httpStatus}`;
    entries.push([
      'last delivery',
      `${d.ok ? green(style, 'ok') : red(style, 'failed')} ${dateTime(d.at, timeZone)} (${ago(d.at, now)}): ${d.event}${
        d.runId ? ` of ${d.runId}` : ''
      }, ${http}, ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.error ? `, ${red(style, d.error)}` : ''}`,
    ]);
  }
  return fields(style, entries, width);
}

/** The digest setting, and which sinks it goes to (those that want `digest`, enabled). */
export function digestView(
  digest: DigestSettings,
  sinks: NotificationSink[],
  { style, now, timeZone, width }: ViewOptions,
): string {
  const to = sinks.filter((s) => s.enabled && s.events.includes('digest'));
  const entries: Array<[string, string]> = [
    [
      'digest',
      digest.enabled
        ? `${green(style, 'on')}, daily at ${digest.time} ${digest.timeZone}`
        : `${yellow(style, 'off')} (was daily at ${digest.time} ${digest.timeZone})`,
    ],
    [
      'sent to',
      to.length > 0
        ? to.map((s) => `${s.id} (${s.workerId ? `worker ${s.workerId}` : 'all workers'})`).join(', ')
        : dim(style, 'no enabled sink wants digest: nightshift notifications add <url> --event digest'),
    ],
    ['updated', `${dateTime(digest.updatedAt, timeZone)} (${ago(digest.updatedAt, now)})`],
  ];
  return fields(style, entries, width);
}

/** One line of a run's history. */
export function eventLine(event: RunEvent, { style, timeZone, width }: ViewOptions): string {
  // Wrapped under the text, past the time (`09:31:02  `).
  const line = (text: string) =>
    hangingWrap(`${dim(style, timeOfDay(event.at, timeZone))}  `, text, width, 10);
  if (event.type === 'status') {
    const move = `${event.from ?? 'new'} → ${statusText(style, event.to)}`;
    return line(`${move}${event.reason ? `  ${event.reason}` : ''}`);
  }
  if (event.type === 'cancel_requested') {
    return line(`${yellow(style, 'cancel requested')}${event.reason ? `  ${event.reason}` : ''}`);
  }
  return line(event.message);
}

/** What changed in a run worth a line while following it: its usage, its progress. */
export function progressLine(run: Run, { style, width }: ViewOptions): string {
  const u = run.usage;
  const text = run.progress ? `  ${firstLine(run.progress.text, 100)}` : '';
  const line = `${dim(style, '         ')}  ${dim(style, `${u.turns} turns, ${usd(u.costUsd)}`)}${text}`;
  // One line a change while following: the progress is cut to fit rather than wrapped.
  return width === undefined ? line : truncate(line, width);
}

export interface StatusScreen {
  agents: AgentStatus[];
  vms: Vm[];
  running: Run[];
  queued: Run[];
  /** Cost of the runs created today, per worker. */
  costToday: Record<string, number>;
}

// Where a line of the status screen (or a VM's note) goes on when it does not fit: under its id, a step in.
const STATUS_INDENT = 4;

export function statusView(s: StatusScreen, options: ViewOptions): string {
  const { style, now, width } = options;
  const alive = s.agents.filter((a) => a.alive);
  const free = alive.reduce((n, a) => n + Math.max(0, a.capacity - a.running.length), 0);
  const out: string[] = [];
  out.push(
    `${bold(style, 'agents')}  ${alive.length} alive of ${s.agents.length}, ${free} free slot${free === 1 ? '' : 's'}`,
  );
  const line = (first: string, text: string) => hangingWrap(`  ${first}  `, text, width, STATUS_INDENT);
  for (const a of s.agents) {
    out.push(
      line(
        a.id,
        `${a.alive ? green(style, 'alive') : red(style, 'gone')}  ${a.state}  ${a.running.length}/${a.capacity} runs  heartbeat ${ago(a.heartbeatAt, now)}`,
      ),
    );
  }
  for (const vm of s.vms) {
    out.push(line(`vm ${vm.name}`, `(${vm.zone})  ${vm.status ?? `unknown: ${vm.statusError ?? ''}`}`));
  }
  out.push('', `${bold(style, 'running')}  ${s.running.length}`);
  for (const r of s.running) {
    const facts = `${r.workerId}  ${statusText(style, r.status)}  ${runDuration(r, now)}  ${r.usage.turns} turns  ${usd(r.usage.costUsd)}`;
    const progress = r.progress ? firstLine(r.progress.text, 60) : '';
    const whole = `${facts}${progress ? `  ${progress}` : ''}`;
    if (width === undefined || visibleLength(`  ${r.id}  ${whole}`) <= width) out.push(line(r.id, whole));
    else {
      // Too narrow for all of it: the facts wrap under the id, the progress goes below them, cut to one line.
      out.push(line(r.id, facts));
      const pad = ' '.repeat(STATUS_INDENT);
      if (progress) out.push(pad + truncate(progress, Math.max(MIN_TEXT_WIDTH, width - STATUS_INDENT)));
    }
  }
  out.push('', `${bold(style, 'queued')}  ${s.queued.length}`);
  for (const r of s.queued) out.push(line(r.id, `${r.workerId}  queued ${ago(r.createdAt, now)}`));
  const costs = Object.entries(s.costToday).sort(([a], [b]) => a.localeCompare(b));
  const total = costs.reduce((sum, [, c]) => sum + c, 0);
  out.push('', `${bold(style, 'cost today')}  ${usd(total)}`);
  for (const [worker, cost] of costs) out.push(`  ${worker}  ${usd(cost)}`);
  return out.join('\n');
}
