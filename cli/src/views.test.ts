// The text people read, drawn at a frozen `now`: the runs table, a worker, a run, events, the status screen, VMs, sinks and the digest, at full width and fitted to a narrow terminal.
import { describe, expect, it } from 'vitest';
import type { AgentStatus, DigestSettings, NotificationSink, Run, Vm, VmList, Worker } from './api.js';
import { nextSlot } from './commands/workers.js';
import { ago, duration, table, useColor, visibleLength } from './format.js';
import {
  agentsTable,
  digestView,
  eventLine,
  progressLine,
  runsTable,
  runView,
  sinksTable,
  sinkView,
  statusView,
  type ViewOptions,
  vmsTable,
  workersTable,
  workerView,
} from './views.js';

const NOW = new Date('2026-12-01T09:30:00.000Z');
const plain: ViewOptions = { style: { color: false }, now: NOW, timeZone: 'UTC' };

function run(fields: Partial<Run> & Pick<Run, 'id' | 'status'>): Run {
  return {
    workerId: 'blog',
    trigger: { type: 'api' },
    prompt: 'p',
    model: 'sonnet',
    checkout: {
      repo: { url: 'https://github.com/me/blog.git', branch: 'main', push: true },
      workdir: null,
      roadmapPath: 'docs/roadmap.md',
      progressPath: 'PROGRESS.md',
      tasksPath: 'docs/TASKS.md',
    },
    maxTurns: null,
    maxBudgetUsd: null,
    maxDurationMinutes: 120,
    createdAt: '2026-12-01T09:00:00.000Z',
    updatedAt: '2026-12-01T09:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    agentId: null,
    session: null,
    leaseExpiresAt: null,
    exitCode: null,
    usage: { turns: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 },
    progress: null,
    startCommit: null,
    commits: [],
    result: null,
    error: null,
    cancelRequestedAt: null,
    cancelReason: null,
    workBranch: null,
    pushedBranch: null,
    wipBranch: null,
    autopilot: {
      onUsageLimit: 'wait',
      onInterrupt: 'resume',
      maxWaits: 3,
      attribution: 'none',
      stallMinutes: 20,
      onStall: 'event',
      maxUsdPerDay: null,
      dayZone: 'UTC',
    },
    sessionId: null,
    resumeAt: null,
    waitReason: null,
    waits: 0,
    pieces: [],
    parentRunId: null,
    blocked: null,
    stalledSince: null,
    roadmapOpen: null,
    paidBy: null,
    ...fields,
  };
}

const RUNS: Run[] = [
  run({
    id: 'r-20261201t092800-running',
    status: 'running',
    createdAt: '2026-12-01T09:28:00.000Z',
    startedAt: '2026-12-01T09:28:05.000Z',
    usage: { turns: 7, costUsd: 0.4213, inputTokens: 1200, outputTokens: 300 },
  }),
  run({
    id: 's-blog-20261201t023000z',
    status: 'failed',
    trigger: { type: 'schedule', slot: '2026-12-01T02:30:00.000Z' },
    createdAt: '2026-12-01T02:30:04.000Z',
    startedAt: '2026-12-01T02:30:09.000Z',
    finishedAt: '2026-12-01T03:41:10.000Z',
    usage: { turns: 52, costUsd: 3.5, inputTokens: 90000, outputTokens: 12000 },
    error: 'the worker exited with code 1: Invalid API key',
  }),
  run({
    id: 'r-20261130t180000-issue',
    workerId: 'docs',
    status: 'succeeded',
    trigger: { type: 'github', repo: 'me/docs', issue: 42, sender: 'me', deliveryId: 'd-1' },
    createdAt: '2026-11-30T18:00:00.000Z',
    startedAt: '2026-11-30T18:00:02.000Z',
    finishedAt: '2026-11-30T18:12:30.000Z',
    usage: { turns: 12, costUsd: 0.75, inputTokens: 5000, outputTokens: 800 },
  }),
  run({ id: 'r-20261201t092955-queued', status: 'queued', createdAt: '2026-12-01T09:29:55.000Z' }),
];

const WORKER: Worker = {
  id: 'blog',
  repo: { url: 'https://github.com/me/blog.git', branch: 'main', push: true },
  model: 'sonnet',
  prompt: 'Read {{roadmapPath}} and do the next milestone.\nThen stop.',
  roadmapPath: 'docs/roadmap.md',
  progressPath: 'PROGRESS.md',
  maxTurns: 80,
  maxBudgetUsd: 5,
  maxDurationMinutes: 120,
  schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin', onBusy: 'skip' },
  github: { repo: 'me/blog', label: 'nightshift', allowedBots: ['renovate[bot]'] },
  onUsageLimit: 'wait',
  onInterrupt: 'resume',
  maxWaits: 3,
  ciFixes: { enabled: true, maxPerDay: 2 },
  enabled: true,
  createdAt: '2026-11-20T08:00:00.000Z',
  updatedAt: '2026-11-28T21:15:00.000Z',
  tasksPath: 'docs/TASKS.md',
  attribution: 'none',
  stallMinutes: 20,
  onStall: 'event',
  scheduleSince: '2026-11-20T08:00:00.000Z',
};

describe('runs ls', () => {
  it('is a table of id, worker, status, trigger, age, duration, turns and cost', () => {
    expect(`\n${runsTable(RUNS, plain)}`).toMatchInlineSnapshot(`
      "
      ID                         WORKER  STATUS     TRIGGER            CREATED     DURATION  TURNS  COST
      r-20261201t092800-running  blog    running    api                2m00s ago   1m55s     7      $0.42
      s-blog-20261201t023000z    blog    failed     schedule           6h59m ago   1h11m     52     $3.50
      r-20261130t180000-issue    docs    succeeded  github me/docs#42  15h30m ago  12m28s    12     $0.75
      r-20261201t092955-queued   blog    queued     api                5s ago      -         0      $0.00"
    `);
  });

  it('colours the statuses on a terminal, and keeps the columns aligned', () => {
    const coloured = runsTable(RUNS, { ...plain, style: { color: true } });
    expect(coloured).toContain('\u001b[31mfailed\u001b[39m');
    expect(coloured).toContain('\u001b[32msucceeded\u001b[39m');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the colour codes
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(runsTable(RUNS, plain));
  });

  it('says so when there are none', () => {
    expect(runsTable([], plain)).toBe('no runs');
  });
});

describe('workers show', () => {
  it('shows the worker, the next slot in its own time zone, and its last runs', () => {
    const slot = nextSlot(WORKER, NOW);
    expect(slot?.toISOString()).toBe('2026-12-02T01:30:00.000Z');
    expect(
      `\n${workerView({ worker: WORKER, runs: RUNS.slice(0, 2), nextSlot: slot }, plain)}`,
    ).toMatchInlineSnapshot(`
      "
      worker:    blog
      enabled:   yes
      repo:      https://github.com/me/blog.git
      branch:    main (pushed after each run)
      model:     sonnet
      limits:    80 turns, $5.00, 120 min
      roadmap:   docs/roadmap.md
      progress:  PROGRESS.md
      prompt:    Read {{roadmapPath}} and do the next milestone.
      schedule:  30 2 * * * (Europe/Berlin), on busy: skip
      next slot: 2026-12-02 02:30:00 Europe/Berlin (in 16h00m)
      github:    me/blog, label "nightshift", bots: renovate[bot]
      created:   2026-11-20 08:00:00 (11d01h ago)
      updated:   2026-11-28 21:15:00 (2d12h ago)

      last runs
      ID                         WORKER  STATUS   TRIGGER   CREATED    DURATION  TURNS  COST
      r-20261201t092800-running  blog    running  api       2m00s ago  1m55s     7      $0.42
      s-blog-20261201t023000z    blog    failed   schedule  6h59m ago  1h11m     52     $3.50"
    `);
  });

  it('shows a skipped last slot with its reason', () => {
    const lastSlot = {
      slot: '2026-12-01T01:30:00.000Z',
      outcome: 'skipped' as const,
      runId: 's-blog-20261201T013000Z',
      reason:
        "slot 2026-12-01T01:30:00.000Z skipped: its run would wait until 2026-12-01T23:00:00.000Z (the worker's budget.maxRunsPerDay (1) is used up for its day), past the worker's next slot 2026-12-02T01:30:00.000Z",
      at: '2026-12-01T01:31:00.000Z',
    };
    const text = workerView({ worker: { ...WORKER, lastSlot }, runs: [], nextSlot: null }, plain);
    expect(text).toContain(
      'last slot: 2026-12-01 02:30:00 Europe/Berlin skipped: slot 2026-12-01T01:30:00.000Z skipped: its run would wait until',
    );
    const queued = workerView(
      {
        worker: { ...WORKER, lastSlot: { ...lastSlot, outcome: 'queued', reason: null } },
        runs: [],
        nextSlot: null,
      },
      plain,
    );
    expect(queued).toContain('last slot: 2026-12-01 02:30:00 Europe/Berlin queued: s-blog-20261201T013000Z');
  });

  it('has no next slot while the worker is disabled', () => {
    expect(nextSlot({ ...WORKER, enabled: false }, NOW)).toBeNull();
    const text = workerView({ worker: { ...WORKER, enabled: false }, runs: [], nextSlot: null }, plain);
    expect(text).toContain('next slot: none while disabled');
    expect(text).toContain('enabled:   no (runs are refused)');
  });
});

describe('runs show and logs', () => {
  it('shows a failed run with its reason', () => {
    expect(`\n${runView(RUNS[1] as Run, plain)}`).toMatchInlineSnapshot(`
      "
      run:      s-blog-20261201t023000z
      worker:   blog
      status:   failed
      trigger:  schedule
      model:    sonnet
      created:  2026-12-01 02:30:04 (6h59m ago)
      started:  2026-12-01 02:30:09 (6h59m ago)
      finished: 2026-12-01 03:41:10 (5h48m ago)
      duration: 1h11m
      usage:    52 turns, $3.50, 90000 tokens in, 12000 out
      branch:   main
      error:    the worker exited with code 1: Invalid API key"
    `);
  });

  it('writes one line per event, at the time of day in the given zone', () => {
    const base = { runId: 'r-1', at: '2026-12-01T09:28:05.000Z' };
    expect(
      [
        eventLine(
          {
            ...base,
            type: 'status',
            id: 'e1',
            from: null,
            to: 'queued',
            reason: 'started through the API',
            agentId: null,
          },
          plain,
        ),
        eventLine({ ...base, type: 'cancel_requested', id: 'e2', reason: 'not tonight' }, plain),
        eventLine(
          { ...base, type: 'note', id: 'e3', message: 'started worker VM nightshift-local', agentId: null },
          {
            ...plain,
            timeZone: 'Asia/Tokyo',
          },
        ),
      ].join('\n'),
    ).toMatchInlineSnapshot(`
      "09:28:05  new → queued  started through the API
      09:28:05  cancel requested  not tonight
      18:28:05  started worker VM nightshift-local"
    `);
  });
});

describe('status', () => {
  it('is one screen: agents, running, queued, cost today per worker', () => {
    const agent: AgentStatus = {
      id: 'nightshift-worker-1',
      version: '0.1.0',
      host: 'nightshift-worker-1',
      state: 'running',
      capacity: 2,
      running: ['r-20261201t092800-running'],
      startedAt: '2026-12-01T08:00:00.000Z',
      heartbeatAt: '2026-12-01T09:29:50.000Z',
      alive: true,
    };
    expect(
      `\n${statusView(
        {
          agents: [agent],
          vms: [],
          running: [RUNS[0] as Run],
          queued: [RUNS[3] as Run],
          costToday: { blog: 3.9213, docs: 0 },
        },
        plain,
      )}`,
    ).toMatchInlineSnapshot(`
      "
      agents  1 alive of 1, 1 free slot
        nightshift-worker-1  alive  running  1/2 runs  heartbeat 10s ago

      running  1
        r-20261201t092800-running  blog  running  1m55s  7 turns  $0.42

      queued  1
        r-20261201t092955-queued  blog  queued 5s ago

      cost today  $3.92
        blog  $3.92
        docs  $0.00"
    `);
  });
});

function vm(fields: Partial<Vm> & Pick<Vm, 'name'>): Vm {
  return {
    zone: 'us-central1-a',
    status: 'TERMINATED',
    statusError: null,
    machineType: 'e2-medium',
    agent: null,
    lastStart: null,
    lastStop: null,
    costThisMonth: { hours: 0, hourlyUsd: 0.03351, usd: 0 },
    ...fields,
  };
}

const VMS: VmList = {
  vms: [
    vm({
      name: 'nightshift-worker-1',
      status: 'RUNNING',
      agent: {
        id: 'nightshift-worker-1',
        alive: true,
        state: 'running',
        capacity: 2,
        running: ['r-20261201t092800-running'],
        heartbeatAt: '2026-12-01T09:29:50.000Z',
      },
      lastStart: {
        at: '2026-12-01T09:28:01.000Z',
        reason: 'run r-20261201t092800-running is queued',
        by: 'functions',
        runId: 'r-20261201t092800-running',
        operation: 'operation-1',
        error: null,
      },
      lastStop: {
        at: '2026-12-01T03:10:00.000Z',
        reason: 'idle for 30 minutes',
        by: 'nightshift-worker-1',
        runId: null,
        operation: 'operation-0',
        error: null,
      },
      costThisMonth: { hours: 12.5, hourlyUsd: 0.03351, usd: 0.42 },
    }),
    vm({
      name: 'nightshift-worker-2',
      zone: 'us-central1-b',
      lastStart: {
        at: '2026-12-01T09:00:00.000Z',
        reason: 'scheduler tick: runs are waiting',
        by: 'functions',
        runId: null,
        operation: null,
        error: 'the project is out of quota: CPUS',
      },
    }),
    vm({
      name: 'nightshift-worker-3',
      status: null,
      statusError: 'could not read VM us-central1-a/nightshift-worker-3: permission denied',
      machineType: null,
      costThisMonth: { hours: 1, hourlyUsd: null, usd: null },
    }),
  ],
  costThisMonthUsd: null,
};

describe('vms ls', () => {
  it("is a table of Compute's status, agent, last start and stop, hours and cost, then why each started and stopped", () => {
    expect(`\n${vmsTable(VMS, plain)}`).toMatchInlineSnapshot(`
      "
      NAME                 ZONE           STATUS      MACHINE    AGENT                   STARTED     STOPPED    HOURS  COST
      nightshift-worker-1  us-central1-a  RUNNING     e2-medium  alive running 1/2 runs  1m59s ago   6h20m ago  12.50  $0.42
      nightshift-worker-2  us-central1-b  TERMINATED  e2-medium  -                       30m00s ago  -          0.00   $0.00
      nightshift-worker-3  us-central1-a  unknown     -          -                       -           -          1.00   -

      nightshift-worker-1  started 1m59s ago by functions: run r-20261201t092800-running is queued
      nightshift-worker-1  stopped 6h20m ago by nightshift-worker-1: idle for 30 minutes
      nightshift-worker-2  started 30m00s ago by functions: scheduler tick: runs are waiting; failed: the project is out of quota: CPUS
      nightshift-worker-3  Compute could not be asked: could not read VM us-central1-a/nightshift-worker-3: permission denied
      nightshift-worker-3  no hourly price known: set NIGHTSHIFT_VM_HOURLY_USD

      cost this month  unknown: a VM has no hourly price (running hours × hourly price; disks not included)"
    `);
  });

  it('colours the statuses, keeps the columns aligned, and gives the total when every price is known', () => {
    const known: VmList = { vms: VMS.vms.slice(0, 2), costThisMonthUsd: 0.42 };
    const coloured = vmsTable(known, { ...plain, style: { color: true } });
    expect(coloured).toContain('\u001b[32mRUNNING\u001b[39m');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the colour codes
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(vmsTable(known, plain));
    expect(vmsTable(known, plain)).toMatch(/^cost this month {2}\$0\.42 \(/m);
  });

  it('says so when the functions have no VMs', () => {
    expect(vmsTable({ vms: [], costThisMonthUsd: 0 }, plain)).toBe(
      'no worker VMs: the functions start none (NIGHTSHIFT_VMS is empty)',
    );
  });
});

function sink(fields: Partial<NotificationSink> & Pick<NotificationSink, 'id'>): NotificationSink {
  return {
    url: 'https://hooks.example.com/nightshift',
    events: ['run.failed', 'digest'],
    format: 'json',
    workerId: null,
    description: '',
    enabled: true,
    createdAt: '2026-11-30T08:00:00.000Z',
    updatedAt: '2026-11-30T08:00:00.000Z',
    lastDelivery: null,
    ...fields,
  };
}

const SINKS: NotificationSink[] = [
  sink({
    id: 'n-20261130aaaaaaaaaaaa',
    lastDelivery: {
      at: '2026-12-01T09:20:00.000Z',
      event: 'run.failed',
      runId: 's-blog-20261201t023000z',
      ok: true,
      httpStatus: 200,
      attempts: 1,
      error: null,
    },
  }),
  sink({
    id: 'n-20261130bbbbbbbbbbbb',
    url: 'https://hooks.slack.com/services/T0/B0/x',
    events: ['run.succeeded'],
    format: 'slack',
    workerId: 'blog',
    enabled: false,
    description: 'team channel',
    lastDelivery: {
      at: '2026-12-01T07:00:00.000Z',
      event: 'run.succeeded',
      runId: 'r-20261130t180000-issue',
      ok: false,
      httpStatus: null,
      attempts: 3,
      error: 'no answer within 5 s',
    },
  }),
  sink({ id: 'n-20261201cccccccccccc', events: ['run.lost'], format: 'discord' }),
];

describe('notifications', () => {
  it('lists the sinks: url, events, worker or all, format, enabled, last delivery', () => {
    expect(`\n${sinksTable(SINKS, plain)}`).toMatchInlineSnapshot(`
      "
      ID                      URL                                       EVENTS             WORKER  FORMAT   ENABLED  LAST DELIVERY
      n-20261130aaaaaaaaaaaa  https://hooks.example.com/nightshift      run.failed,digest  all     json     yes      ok 10m00s ago (run.failed, HTTP 200)
      n-20261130bbbbbbbbbbbb  https://hooks.slack.com/services/T0/B0/x  run.succeeded      blog    slack    no       failed 2h30m ago (run.succeeded, no answer)
      n-20261201cccccccccccc  https://hooks.example.com/nightshift      run.lost           all     discord  yes      none yet"
    `);
    expect(sinksTable([], plain)).toBe('no notification sinks');
  });

  it('shows a sink with its last delivery, failed ones with why', () => {
    expect(`\n${sinkView(SINKS[1] as NotificationSink, plain)}`).toMatchInlineSnapshot(`
      "
      sink:          n-20261130bbbbbbbbbbbb
      url:           https://hooks.slack.com/services/T0/B0/x
      events:        run.succeeded
      worker:        blog
      format:        slack
      enabled:       no (nothing is sent)
      description:   team channel
      created:       2026-11-30 08:00:00 (1d01h ago)
      updated:       2026-11-30 08:00:00 (1d01h ago)
      last delivery: failed 2026-12-01 07:00:00 (2h30m ago): run.succeeded of r-20261130t180000-issue, no answer, 3 attempts, no answer within 5 s"
    `);
    expect(sinkView(SINKS[2] as NotificationSink, plain)).toMatch(/^last delivery: none yet$/m);
  });

  it('shows the digest, on or off, and the enabled sinks that want it', () => {
    const digest: DigestSettings = {
      time: '07:30',
      timeZone: 'Europe/Berlin',
      enabled: true,
      updatedAt: '2026-12-01T09:00:00.000Z',
    };
    expect(`\n${digestView(digest, SINKS, plain)}`).toMatchInlineSnapshot(`
      "
      digest:  on, daily at 07:30 Europe/Berlin
      sent to: n-20261130aaaaaaaaaaaa (all workers)
      updated: 2026-12-01 09:00:00 (30m00s ago)"
    `);
    const off = digestView({ ...digest, enabled: false }, [], plain);
    expect(off).toMatch(/^digest: +off \(was daily at 07:30 Europe\/Berlin\)$/m);
    expect(off).toMatch(/^sent to: +no enabled sink wants digest: /m);
  });
});

describe('format', () => {
  it('reads durations and ages in their two largest units', () => {
    expect([0, 45_000, 185_000, 7_800_000, 273_600_000].map(duration)).toEqual([
      '0s',
      '45s',
      '3m05s',
      '2h10m',
      '3d04h',
    ]);
    expect(ago('2026-12-01T09:29:00.000Z', NOW)).toBe('1m00s ago');
    expect(ago('2026-12-01T10:00:00.000Z', NOW)).toBe('in 30m00s');
    expect(ago(null, NOW)).toBe('-');
  });

  it('pads table columns by visible width and leaves no trailing blanks', () => {
    expect(
      table(
        { color: false },
        ['A', 'LONG'],
        [
          ['xyz', 'b'],
          ['', ''],
        ],
      ),
    ).toBe('A    LONG\nxyz  b\n');
  });

  it('colours only on a terminal, never with NO_COLOR, TERM=dumb or --no-color', () => {
    const env = { noColor: false, dumbTerminal: false };
    expect(useColor(true, env)).toBe(true);
    expect(useColor(false, env)).toBe(false);
    expect(useColor(true, { ...env, noColor: true })).toBe(false);
    expect(useColor(true, { ...env, dumbTerminal: true })).toBe(false);
    expect(useColor(true, env, false)).toBe(false);
  });
});

describe('on a narrow terminal', () => {
  const at = (width: number): ViewOptions => ({ ...plain, width });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the colour codes
  const strip = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');
  const widest = (text: string) => Math.max(...text.split('\n').map(visibleLength));
  const AGENT: AgentStatus = {
    id: 'nightshift-worker-1',
    version: '0.1.0',
    host: 'nightshift-worker-1.us-central1-a.c.my-project.internal',
    state: 'running',
    capacity: 2,
    running: ['r-20261201t092800-running'],
    startedAt: '2026-12-01T08:00:00.000Z',
    heartbeatAt: '2026-12-01T09:29:50.000Z',
    alive: true,
  };

  it('runs ls: at 200 every column as with no width; narrower, the least needed go, the ids stay whole', () => {
    expect(runsTable(RUNS, at(200))).toBe(runsTable(RUNS, plain));
    expect(`\n${runsTable(RUNS, at(80))}`).toMatchInlineSnapshot(`
      "
      ID                         WORKER  STATUS     CREATED     DURATION  COST
      r-20261201t092800-running  blog    running    2m00s ago   1m55s     $0.42
      s-blog-20261201t023000z    blog    failed     6h59m ago   1h11m     $3.50
      r-20261130t180000-issue    docs    succeeded  15h30m ago  12m28s    $0.75
      r-20261201t092955-queued   blog    queued     5s ago      -         $0.00"
    `);
    expect(`\n${runsTable(RUNS, at(60))}`).toMatchInlineSnapshot(`
      "
      ID                         WORKER  STATUS     CREATED
      r-20261201t092800-running  blog    running    2m00s ago
      s-blog-20261201t023000z    blog    failed     6h59m ago
      r-20261130t180000-issue    docs    succeeded  15h30m ago
      r-20261201t092955-queued   blog    queued     5s ago"
    `);
    expect(`\n${runsTable(RUNS, at(40))}`).toMatchInlineSnapshot(`
      "
      ID                         STATUS
      r-20261201t092800-running  running
      s-blog-20261201t023000z    failed
      r-20261130t180000-issue    succeeded
      r-20261201t092955-queued   queued"
    `);
    for (const width of [40, 60, 80]) {
      const fitted = runsTable(RUNS, at(width));
      expect(widest(fitted)).toBeLessThanOrEqual(width);
      for (const r of RUNS) expect(fitted).toContain(r.id);
      expect(fitted).toMatch(/^ID +(WORKER +)?STATUS/);
    }
  });

  it('runs ls with colour: the codes count for nothing, so the columns are those without colour', () => {
    for (const width of [40, 60, 80, 200]) {
      const coloured = runsTable(RUNS, { ...at(width), style: { color: true } });
      expect(coloured).toContain('\u001b[31mfailed\u001b[39m');
      expect(strip(coloured)).toBe(runsTable(RUNS, at(width)));
    }
  });

  it('workers ls and agents ls keep the id and the key facts, and cut the source or the host', () => {
    const disabled = { ...WORKER, id: 'docs', enabled: false, schedule: undefined, github: undefined };
    expect(`\n${workersTable([WORKER, disabled], at(50))}`).toMatchInlineSnapshot(`
      "
      ID    ENABLED  SOURCE
      blog  yes      github.com/me/blog.git (main, push)
      docs  no       github.com/me/blog.git (main, push)"
    `);
    expect(`\n${agentsTable([AGENT], at(40))}`).toMatchInlineSnapshot(`
      "
      ID                   ALIVE  RUNS
      nightshift-worker-1  yes    1/2"
    `);
    expect(`\n${agentsTable([AGENT], at(80))}`).toMatchInlineSnapshot(`
      "
      ID                   ALIVE  STATE    RUNS  HEARTBEAT
      nightshift-worker-1  yes    running  1/2   10s ago"
    `);
  });

  it('notifications ls cuts the URL and the delivery, never the sink id', () => {
    const fitted = sinksTable(SINKS, { ...at(60), style: { color: true } });
    expect(`\n${strip(fitted)}`).toMatchInlineSnapshot(`
      "
      ID                      URL           ENABLED  LAST DELIVERY
      n-20261130aaaaaaaaaaaa  hooks.examp…  yes      ok 10m00s ag…
      n-20261130bbbbbbbbbbbb  hooks.slack…  no       failed 2h30m…
      n-20261201cccccccccccc  hooks.examp…  yes      none yet"
    `);
    for (const s of SINKS) expect(fitted).toContain(s.id);
    expect(widest(fitted)).toBeLessThanOrEqual(60);
    // A cut coloured outcome keeps both of its codes.
    for (const line of fitted.split('\n').slice(1)) {
      expect(line.split('\u001b[').length % 2).toBe(1);
    }
  });

  it('vms ls leaves out columns and wraps the reasons under themselves', () => {
    expect(`\n${vmsTable(VMS, at(60))}`).toMatchInlineSnapshot(`
      "
      NAME                 STATUS      AGENT                 COST
      nightshift-worker-1  RUNNING     alive running 1/2 r…  $0.42
      nightshift-worker-2  TERMINATED  -                     $0.00
      nightshift-worker-3  unknown     -                     -

      nightshift-worker-1  started 1m59s ago by functions: run
          r-20261201t092800-running is queued
      nightshift-worker-1  stopped 6h20m ago by
          nightshift-worker-1: idle for 30 minutes
      nightshift-worker-2  started 30m00s ago by functions:
          scheduler tick: runs are waiting; failed: the project is
          out of quota: CPUS
      nightshift-worker-3  Compute could not be asked: could not
          read VM us-central1-a/nightshift-worker-3: permission
          denied
      nightshift-worker-3  no hourly price known: set
          NIGHTSHIFT_VM_HOURLY_USD

      cost this month  unknown: a VM has no hourly price (running
                       hours × hourly price; disks not included)"
    `);
  });

  it('runs show and workers show wrap long values under the values, words whole', () => {
    const failed = {
      ...(RUNS[1] as Run),
      result:
        'Implemented the next milestone of docs/roadmap.md and opened https://github.com/me/blog/pull/17',
      error: 'the worker exited with code 1: Invalid API key · Please run /login',
    };
    const shown = runView(failed, at(50));
    expect(`\n${shown}`).toMatchInlineSnapshot(`
      "
      run:      s-blog-20261201t023000z
      worker:   blog
      status:   failed
      trigger:  schedule
      model:    sonnet
      created:  2026-12-01 02:30:04 (6h59m ago)
      started:  2026-12-01 02:30:09 (6h59m ago)
      finished: 2026-12-01 03:41:10 (5h48m ago)
      duration: 1h11m
      usage:    52 turns, $3.50, 90000 tokens in, 12000
                out
      branch:   main
      result:   Implemented the next milestone of
                docs/roadmap.md and opened
                https://github.com/me/blog/pull/17
      error:    the worker exited with code 1: Invalid
                API key · Please run /login"
    `);
    expect(shown).toContain('https://github.com/me/blog/pull/17');
    expect(runView(failed, at(200))).toBe(runView(failed, plain));
    const worker = workerView({ worker: WORKER, runs: RUNS.slice(0, 2), nextSlot: null }, at(50));
    expect(`\n${worker}`).toMatchInlineSnapshot(`
      "
      worker:    blog
      enabled:   yes
      repo:      https://github.com/me/blog.git
      branch:    main (pushed after each run)
      model:     sonnet
      limits:    80 turns, $5.00, 120 min
      roadmap:   docs/roadmap.md
      progress:  PROGRESS.md
      prompt:    Read {{roadmapPath}} and do the next
                 milestone.
      schedule:  30 2 * * * (Europe/Berlin), on busy:
                 skip
      next slot: none
      github:    me/blog, label "nightshift", bots:
                 renovate[bot]
      created:   2026-11-20 08:00:00 (11d01h ago)
      updated:   2026-11-28 21:15:00 (2d12h ago)

      last runs
      ID                         WORKER  STATUS
      r-20261201t092800-running  blog    running
      s-blog-20261201t023000z    blog    failed"
    `);
  });

  it("status puts a run's progress below it when both do not fit, cut to one line", () => {
    const running = {
      ...(RUNS[0] as Run),
      progress: { text: 'Writing the tests of the new importer', updatedAt: '2026-12-01T09:29:00.000Z' },
    };
    const screen = { agents: [AGENT], vms: [], running: [running], queued: [], costToday: {} };
    expect(`\n${statusView(screen, at(50))}`).toMatchInlineSnapshot(`
      "
      agents  1 alive of 1, 1 free slot
        nightshift-worker-1  alive  running  1/2 runs
          heartbeat 10s ago

      running  1
        r-20261201t092800-running  blog  running  1m55s
          7 turns  $0.42
          Writing the tests of the new importer

      queued  0

      cost today  $0.00"
    `);
    expect(statusView(screen, at(200))).toBe(statusView(screen, plain));
    expect(statusView(screen, plain)).toContain('$0.42  Writing the tests of the new importer');
    const at40 = statusView(screen, at(40));
    expect(widest(at40)).toBeLessThanOrEqual(40);
    expect(at40).toContain('\n    Writing the tests of the new import…\n');
    expect(at40).toContain('\n  r-20261201t092800-running  blog\n');
  });

  it('runs logs --follow cuts a progress line to the width, its colour codes whole', () => {
    const running = {
      ...(RUNS[0] as Run),
      progress: { text: 'Writing the tests of the new importer', updatedAt: '2026-12-01T09:29:00.000Z' },
    };
    expect(progressLine(running, plain)).toBe(
      '           7 turns, $0.42  Writing the tests of the new importer',
    );
    expect(progressLine(running, at(40))).toBe('           7 turns, $0.42  Writing the…');
    const coloured = progressLine(running, { ...at(30), style: { color: true } });
    expect(strip(coloured)).toBe('           7 turns, $0.42  Wr…');
    expect(coloured.split('\u001b[2m')).toHaveLength(coloured.split('\u001b[22m').length);
  });

  it("runs logs wraps an event's reason under the text, past the time", () => {
    const line = eventLine(
      {
        runId: 'r-1',
        at: '2026-12-01T09:28:05.000Z',
        type: 'status',
        id: 'e1',
        from: 'running',
        to: 'failed',
        reason: 'the worker exited with code 1: Invalid API key',
        agentId: null,
      },
      at(40),
    );
    expect(`\n${line}`).toMatchInlineSnapshot(`
      "
      09:28:05  running → failed  the worker
                exited with code 1: Invalid
                API key"
    `);
    expect(widest(line)).toBeLessThanOrEqual(40);
  });
});
