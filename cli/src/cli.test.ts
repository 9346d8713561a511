// The built `nightshift` binary, run by plain node against the local stack: workers, runs, follow, cancel, attach, VMs, notifications, every error class.
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSeededOrigin, freePort } from '@nightshift/shared/dev';
import { describeEmulators, tempDir, waitFor } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DigestSettings, NotificationSink, Run, VmList, Worker } from './api.js';
import { AGENT_VM, type CliStack, SPARE_VM, startCliStack } from './testing/stack.js';

const exec = promisify(execFile);
let s: CliStack;
let origin: string;

/** The JSON a command printed, or a failure showing what it printed instead. */
function parsed<T>(result: { code: number | null; stdout: string; stderr: string }): T {
  expect(result.stderr, 'stderr').toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

const runOf = async (id: string) => parsed<Run>(await s.cli(['runs', 'show', id, '--json']));

describeEmulators('the nightshift binary against the local stack', () => {
  beforeAll(async () => {
    s = await startCliStack();
    origin = await createSeededOrigin(await tempDir('nightshift-cli-origin-'), 'blog');
  }, 180_000);

  it('creates a worker, lists it as JSON, shows it with its next slot', async () => {
    const added = await s.cli([
      'workers',
      'add',
      'blog',
      '--repo',
      origin,
      '--model',
      'sonnet',
      '--schedule',
      '30 2 * * *',
      '--tz',
      'Europe/Berlin',
      '--on-busy',
      'queue',
      '--github',
      'me/blog',
      '--label',
      'night',
    ]);
    expect(added).toMatchObject({ code: 0, stdout: 'created worker blog\n', stderr: '' });
    const { workers } = parsed<{ workers: Worker[] }>(await s.cli(['workers', 'ls', '--json']));
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({
      id: 'blog',
      repo: { url: origin, branch: 'main', push: false },
      schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin', onBusy: 'queue' },
      github: { repo: 'me/blog', label: 'night' },
      enabled: true,
    });
    const shown = await s.cli(['workers', 'show', 'blog']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/next slot: +\d{4}-\d\d-\d\d 02:30:00 Europe\/Berlin \(in \d+h\d\dm\)/);
    expect(shown.stdout).toContain('last runs\nno runs');
    const table = await s.cli(['workers', 'ls']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +ENABLED +SOURCE +MODEL +SCHEDULE +GITHUB$/);
  });

  it('edits a worker: a part of a nested setting is merged, --no-schedule removes, disable refuses runs', async () => {
    await s.cli(['workers', 'add', 'edited', '--repo', origin, '--schedule', '0 3 * * *']);
    const tz = parsed<Worker>(await s.cli(['workers', 'edit', 'edited', '--tz', 'Asia/Tokyo', '--json']));
    expect(tz.schedule).toEqual({ cron: '0 3 * * *', timezone: 'Asia/Tokyo', onBusy: 'skip' });
    const branch = parsed<Worker>(
      await s.cli(['workers', 'edit', 'edited', '--branch', 'dev', '--push', '--json']),
    );
    expect(branch.repo).toEqual({ url: origin, branch: 'dev', push: true });
    const removed = parsed<Worker>(await s.cli(['workers', 'edit', 'edited', '--no-schedule', '--json']));
    expect(removed.schedule).toBeUndefined();
    expect((await s.cli(['workers', 'disable', 'edited'])).stdout).toBe('disabled worker edited\n');
    const refused = await s.cli(['runs', 'start', 'edited']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'nightshift: Conflict: worker "edited" is disabled; enable it to start runs\n',
    );
    expect((await s.cli(['workers', 'rm', 'edited'])).stdout).toBe('deleted worker edited\n');
    const gone = await s.cli(['workers', 'show', 'edited']);
    expect(gone.code).toBe(3);
  });

  it('starts a run with --follow, prints its history as it comes and exits 0 when it succeeded', async () => {
    const followed = await s.cli(['runs', 'start', 'blog', '--follow']);
    expect(followed.stderr, s.logs()).toBe('');
    expect(followed.code).toBe(0);
    const lines = followed.stdout.trim().split('\n');
    const runId = /^queued run (\S+) of worker blog$/.exec(lines[0] ?? '')?.[1] as string;
    expect(runId).toBeTruthy();
    expect(followed.stdout).toMatch(/new → queued/);
    expect(followed.stdout).toMatch(/running → succeeded/);
    expect(lines.at(-1)).toMatch(
      new RegExp(`^run ${runId} succeeded after \\d+s, \\d+ turns, \\$\\d+\\.\\d\\d, \\d+ commits?$`),
    );
    const run = await runOf(runId);
    expect(run.status).toBe('succeeded');
    expect(run.commits.length).toBeGreaterThan(0);

    // Its history again, as JSON lines for a script: each event, then the run.
    const json = await s.cli(['runs', 'logs', runId, '--follow', '--json']);
    expect(json.code).toBe(0);
    const records = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.at(-1)).toMatchObject({ id: runId, status: 'succeeded' });
    expect(records.slice(0, -1).map((e) => e.type === 'status' && e.to)).toEqual(
      expect.arrayContaining(['queued', 'starting', 'running', 'succeeded']),
    );
  }, 90_000);

  it('lists runs as JSON, across pages when asked for all of them', async () => {
    for (let i = 0; i < 2; i++) {
      const started = parsed<Run>(await s.cli(['runs', 'start', 'blog', '--json']));
      expect(started).toMatchObject({ workerId: 'blog', status: 'queued' });
      await waitFor(`run ${started.id} to end`, async () => (await runOf(started.id)).finishedAt !== null, {
        timeoutMs: 60_000,
        intervalMs: 500,
      });
    }
    const all = parsed<{ runs: Run[]; nextCursor: string | null }>(
      await s.cli(['runs', 'ls', '--worker', 'blog', '--all', '--page-size', '1', '--json']),
    );
    expect(all.runs.length).toBeGreaterThanOrEqual(3);
    expect(all.nextCursor).toBeNull();
    expect(new Set(all.runs.map((r) => r.id)).size).toBe(all.runs.length);
    const newestFirst = [...all.runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    expect(all.runs.map((r) => r.id)).toEqual(newestFirst.map((r) => r.id));

    const two = parsed<{ runs: Run[]; nextCursor: string | null }>(
      await s.cli(['runs', 'ls', '--limit', '2', '--page-size', '1', '--json']),
    );
    expect(two.runs.map((r) => r.id)).toEqual(all.runs.slice(0, 2).map((r) => r.id));
    expect(two.nextCursor).not.toBeNull();

    const table = await s.cli(['runs', 'ls', '--status', 'succeeded']);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^ID +WORKER +STATUS +TRIGGER +CREATED +DURATION +TURNS +COST$/,
    );
    expect(table.stdout).toContain(all.runs[0]?.id);
  }, 150_000);

  it('cancels a long run: attach names its tmux session, and following it ends with exit 1, cancelled', async () => {
    const started = parsed<Run>(
      await s.cli(['runs', 'start', 'blog', '--prompt', 'scenario: slow', '--json']),
    );
    const running = await waitFor(
      `run ${started.id} to run`,
      async () => {
        const run = await runOf(started.id);
        return run.status === 'running' && run.session ? run : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );

    // attach prints the local command, and the session it names is the run's, live on the agent's socket.
    const attach = await s.cli(['attach', started.id]);
    expect(attach).toMatchObject({ code: 0, stderr: '' });
    expect(attach.stdout).toBe(`tmux -L nightshift attach -t ${running.session}\n`);
    await exec('tmux', ['-L', 'nightshift', 'has-session', '-t', running.session as string], {
      env: { ...process.env, TMUX_TMPDIR: s.tmuxDir },
    });
    // --exec runs that very tmux; without a terminal tmux refuses, and its exit code is the CLI's.
    const exec1 = await s.cli(['attach', started.id, '--exec']);
    expect(exec1.code).toBe(1);
    expect(exec1.stderr).toContain('not a terminal');

    const cancel = await s.cli(['runs', 'cancel', started.id, '--reason', 'not tonight']);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^asked the agent to stop run ${started.id} \\(running\\)`));
    const followed = await s.cli(['runs', 'logs', started.id, '--follow']);
    expect(followed.code).toBe(1);
    expect(followed.stdout).toContain('cancel requested  not tonight');
    expect(followed.stdout.trim().split('\n').at(-1)).toMatch(
      new RegExp(`^run ${started.id} cancelled after `),
    );
    expect((await runOf(started.id)).status).toBe('cancelled');

    const ended = await s.cli(['attach', started.id]);
    expect(ended).toMatchObject({ code: 1, stdout: '' });
    expect(ended.stderr).toBe(
      `nightshift: run ${started.id} has ended (cancelled); its tmux session is gone\n`,
    );
  }, 120_000);

  it('on a terminal: a spinner while it waits and colour, but no colour with NO_COLOR', async () => {
    const followed = await s.cliOnTty([
      'runs',
      'start',
      'blog',
      '--prompt',
      'scenario: slow 3000',
      '--follow',
    ]);
    expect(followed.code, followed.stdout).toBe(0);
    expect(followed.stdout).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \S*(queued|starting|running) \d+s · \d+ turns/);
    expect(followed.stdout).toContain('\u001b[32msucceeded\u001b[39m');
    const coloured = await s.cliOnTty(['runs', 'ls', '--limit', '1']);
    expect(coloured.stdout).toContain('\u001b[1mID\u001b[22m');
    const plain = await s.cliOnTty(['runs', 'ls', '--limit', '1'], { NO_COLOR: '1' });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^ID +WORKER/);
    expect(plain.stdout).not.toContain('\u001b[');
  }, 90_000);

  it('shows the fleet and the status screen', async () => {
    const agents = parsed<{ agents: Array<{ id: string; alive: boolean }> }>(
      await s.cli(['agents', 'ls', '--json']),
    );
    expect(agents.agents).toEqual([expect.objectContaining({ id: 'cli-test-agent', alive: true })]);
    const status = await s.cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^agents {2}1 alive of 1, \d free slots?$/m);
    expect(status.stdout).toMatch(/^cost today {2}\$\d+\.\d\d$/m);
    expect(status.stdout).toMatch(/^ {2}blog {2}\$\d+\.\d\d$/m);
    const json = parsed<{ costTodayUsd: Record<string, number> }>(await s.cli(['status', '--json']));
    expect(json.costTodayUsd.blog).toBeGreaterThan(0);
  });

  it('fits COLUMNS=50: leaves out columns and cuts text, never an id; --wide, --json and no COLUMNS are as wide as before', async () => {
    const { runs } = parsed<{ runs: Run[] }>(await s.cli(['runs', 'ls', '--limit', '5', '--json']));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const narrow = await s.cli(['runs', 'ls', '--limit', '5'], { env: { COLUMNS: '50' } });
    expect(narrow).toMatchObject({ code: 0, stderr: '' });
    const lines = narrow.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +(WORKER +)?STATUS\b/);
    expect(lines[0]).not.toMatch(/TURNS|COST|TRIGGER/);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(50);
    // Each id is whole on its own row, the first cell.
    expect(lines.slice(1).map((line) => line.split(' ')[0])).toEqual(runs.map((r) => r.id));

    const wide = await s.cli(['runs', 'ls', '--limit', '5', '--wide'], { env: { COLUMNS: '50' } });
    expect(wide.stdout.split('\n')[0]).toMatch(
      /^ID +WORKER +STATUS +TRIGGER +CREATED +DURATION +TURNS +COST$/,
    );
    const piped = await s.cli(['runs', 'ls', '--limit', '5']);
    expect(piped.stdout.split('\n')[0]).toBe(wide.stdout.split('\n')[0]);
    expect(piped.stdout.split('\n')).toHaveLength(wide.stdout.split('\n').length);
    expect(await s.cli(['runs', 'ls', '--limit', '5', '--json'], { env: { COLUMNS: '50' } })).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^\{\n {2}"runs": \[/),
    });

    // runs show wraps its long values under the values, its id and branch whole.
    const shown = await s.cli(['runs', 'show', runs[0]?.id as string], { env: { COLUMNS: '50' } });
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(new RegExp(`^run: +${runs[0]?.id}$`, 'm'));
    const full = await s.cli(['runs', 'show', runs[0]?.id as string]);
    // Nothing is lost or cut: the same words as at full width (the ages aside, a second may have passed).
    const words = (text: string) => text.replace(/\S+ ago\)/g, 'ago)').split(/\s+/);
    expect(words(shown.stdout)).toEqual(words(full.stdout));
    expect(shown.stdout.split('\n').length).toBeGreaterThan(full.stdout.split('\n').length);
    for (const line of shown.stdout.trimEnd().split('\n')) {
      // Over 50 only when a single word is longer than the room beside its key.
      if (line.length > 50) expect(line.trim().split(/ +/).length, line).toBeLessThanOrEqual(2);
    }
    const help = await s.cli(['--help']);
    expect(help.stdout).toContain('--wide');
    expect(help.stdout).toContain('COLUMNS=<n>');
  });

  it("lists the worker VMs as Compute tells them, with their agent and cost; Compute's refusal is shown, not fatal", async () => {
    const list = parsed<VmList>(await s.cli(['vms', 'ls', '--json']));
    expect(list.vms.map((vm) => [vm.name, vm.zone, vm.status, vm.machineType, vm.statusError])).toEqual([
      [AGENT_VM.name, AGENT_VM.zone, 'RUNNING', AGENT_VM.machineType, null],
      [SPARE_VM.name, SPARE_VM.zone, 'TERMINATED', SPARE_VM.machineType, null],
    ]);
    expect(list.vms[0]?.agent).toMatchObject({
      id: AGENT_VM.name,
      alive: true,
      state: 'running',
      capacity: 2,
    });
    expect(list.vms[1]?.agent).toBeNull();
    // Started outside nightshift: no recorded start, stop or running period, so no hours yet; the price is the table's.
    expect(list.vms[0]).toMatchObject({
      lastStart: null,
      lastStop: null,
      costThisMonth: { hours: 0, hourlyUsd: 0.03351, usd: 0 },
    });
    expect(list.costThisMonthUsd).toBe(0);

    const text = await s.cli(['vms', 'ls']);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME +ZONE +STATUS +MACHINE +AGENT +STARTED +STOPPED +HOURS +COST$/);
    expect(lines[1]).toMatch(
      /^cli-test-agent +local-dev1-a +RUNNING +e2-medium +alive running [0-2]\/2 runs +- +- +0\.00 +\$0\.00$/,
    );
    expect(lines[2]).toMatch(/^cli-test-spare +local-dev1-b +TERMINATED +e2-small +- +- +- +0\.00 +\$0\.00$/);
    expect(text.stdout).toMatch(/^cost this month {2}\$0\.00 /m);

    // Compute refuses the next read: that VM's status is unknown, with why; the other is still shown.
    s.compute.failNext({
      action: 'get',
      code: 403,
      message: "Required 'compute.instances.get' permission",
      reason: 'forbidden',
    });
    const refused = await s.cli(['vms', 'ls']);
    expect(refused).toMatchObject({ code: 0, stderr: '' });
    const unknown = refused.stdout.split('\n').filter((l) => / unknown /.test(l));
    expect(unknown).toHaveLength(1);
    const name = unknown[0]?.split(' ')[0] as string;
    expect([AGENT_VM.name, SPARE_VM.name]).toContain(name);
    expect(refused.stdout).toMatch(
      new RegExp(
        `^${name} {2}Compute could not be asked: [^\\n]*permission denied[^\\n]*compute\\.instances\\.get`,
        'm',
      ),
    );
  });

  it('adds a notification sink, prints its secret once, lists, shows, edits, disables and deletes it', async () => {
    const url = 'https://hooks.example.com/nightshift';
    const added = await s.cli([
      'notifications',
      'add',
      url,
      '--event',
      'run.failed,digest',
      '-e',
      'run.lost',
      '--worker',
      'blog',
      '--description',
      'pager',
    ]);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const [first, secretLine, warning] = added.stdout.trim().split('\n');
    const id =
      /^created notification sink (n-[a-z0-9]+) \(run\.failed, digest, run\.lost; worker blog; json\)$/.exec(
        first ?? '',
      )?.[1] as string;
    expect(id, added.stdout).toBeTruthy();
    const secret = /^secret: (nss_[0-9a-f]{64})$/.exec(secretLine ?? '')?.[1] as string;
    expect(secret, added.stdout).toBeTruthy();
    expect(warning).toMatch(/^This secret will not be shown again: keep it now\./);

    const { sinks } = parsed<{ sinks: NotificationSink[] }>(await s.cli(['notifications', 'ls', '--json']));
    expect(sinks).toEqual([
      expect.objectContaining({
        id,
        url,
        events: ['run.failed', 'digest', 'run.lost'],
        workerId: 'blog',
        format: 'json',
        description: 'pager',
        enabled: true,
        lastDelivery: null,
      }),
    ]);
    const table = await s.cli(['notifications', 'ls']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +URL +EVENTS +WORKER +FORMAT +ENABLED +LAST DELIVERY$/);
    expect(table.stdout).toMatch(
      new RegExp(`^${id} +${url} +run\\.failed,digest,run\\.lost +blog +json +yes +none yet$`, 'm'),
    );
    const shown = await s.cli(['notifications', 'show', id]);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(new RegExp(`^sink: +${id}$`, 'm'));
    expect(shown.stdout).toMatch(/^worker: +blog$/m);
    expect(shown.stdout).toMatch(/^last delivery: +none yet$/m);
    // No later answer carries the secret, in text or JSON.
    for (const later of [table, shown, await s.cli(['notifications', 'show', id, '--json'])]) {
      expect(later.stdout).not.toContain(secret);
      expect(later.stdout).not.toContain('nss_');
    }

    const edited = parsed<NotificationSink>(
      await s.cli([
        'notifications',
        'edit',
        id,
        '--all-workers',
        '--format',
        'slack',
        '-e',
        'digest',
        '--json',
      ]),
    );
    expect(edited).toMatchObject({
      id,
      url,
      workerId: null,
      format: 'slack',
      events: ['digest'],
      description: 'pager',
    });
    expect((await s.cli(['notifications', 'disable', id])).stdout).toBe(`disabled notification sink ${id}\n`);
    expect(parsed<NotificationSink>(await s.cli(['notifications', 'show', id, '--json'])).enabled).toBe(
      false,
    );
    expect((await s.cli(['notifications', 'enable', id])).stdout).toBe(`enabled notification sink ${id}\n`);

    expect((await s.cli(['notifications', 'rm', id])).stdout).toBe(`deleted notification sink ${id}\n`);
    const gone = await s.cli(['notifications', 'show', id]);
    expect(gone).toMatchObject({
      code: 3,
      stdout: '',
      stderr: `nightshift: Not Found: notification sink "${id}" does not exist\n`,
    });
    expect((await s.cli(['notifications', 'rm', id])).code).toBe(3);
    expect(
      parsed<{ sinks: NotificationSink[] }>(await s.cli(['notifications', 'ls', '--json'])).sinks,
    ).toEqual([]);
  });

  it("refuses bad sink flags before sending (exit 2), and prints the API's refusal of a URL (exit 1)", async () => {
    const event = await s.cli(['notifications', 'add', 'https://hooks.example.com/x', '--event', 'run.done']);
    expect(event).toMatchObject({ code: 2, stdout: '' });
    expect(event.stderr).toMatch(
      /^error: option '-e, --event <event>' argument 'run\.done' is invalid\. expected one of run\.succeeded, [^\n]*digest\n$/,
    );
    const none = await s.cli(['notifications', 'add', 'https://hooks.example.com/x']);
    expect(none).toMatchObject({
      code: 2,
      stderr: "error: required option '-e, --event <event>' not specified\n",
    });
    const format = await s.cli([
      'notifications',
      'add',
      'https://hooks.example.com/x',
      '-e',
      'digest',
      '--format',
      'xml',
    ]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("option '--format <format>' argument 'xml' is invalid");
    const both = await s.cli(['notifications', 'edit', 'n-x', '--worker', 'blog', '--all-workers']);
    expect(both).toMatchObject({ code: 2, stderr: 'nightshift: give --worker or --all-workers, not both\n' });
    const nothing = await s.cli(['notifications', 'edit', 'n-x']);
    expect(nothing).toMatchObject({
      code: 2,
      stderr: 'nightshift: nothing to change: give at least one option\n',
    });

    const privateUrl = await s.cli(['notifications', 'add', 'https://10.1.2.3/hook', '-e', 'digest']);
    expect(privateUrl).toMatchObject({ code: 1, stdout: '' });
    expect(privateUrl.stderr).toMatch(
      /^nightshift: Validation Failed: [^\n]*; url: [^\n]*10\.1\.2\.3[^\n]*\n$/,
    );
    const badId = await s.cli(['notifications', 'show', 'not-a-sink']);
    expect(badId.code).toBe(1);
    expect(badId.stderr).toMatch(/^nightshift: Validation Failed: [^\n]*expected a sink id like n-…\n$/);
    expect(
      parsed<{ sinks: NotificationSink[] }>(await s.cli(['notifications', 'ls', '--json'])).sinks,
    ).toEqual([]);
  });

  it('sets the daily digest, shows it with the sinks it goes to, keeps what is not given, and turns it off', async () => {
    const unset = await s.cli(['notifications', 'digest']);
    expect(unset).toMatchObject({
      code: 3,
      stdout: '',
      stderr:
        'nightshift: no daily digest is set: nightshift notifications digest set --time HH:MM sets one\n',
    });
    expect((await s.cli(['notifications', 'digest', 'off'])).code).toBe(3);
    const noTime = await s.cli(['notifications', 'digest', 'set', '--time-zone', 'Europe/Berlin']);
    expect(noTime).toMatchObject({
      code: 2,
      stderr: 'nightshift: no digest is set yet: give --time HH:MM\n',
    });
    const badTime = await s.cli(['notifications', 'digest', 'set', '--time', '7:30']);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toBe(
      "error: option '--time <HH:MM>' argument '7:30' is invalid. expected a time of day as HH:MM (00:00 to 23:59)\n",
    );
    const badZone = await s.cli([
      'notifications',
      'digest',
      'set',
      '--time',
      '07:30',
      '--time-zone',
      'Mars/Olympus',
    ]);
    expect(badZone.code).toBe(2);
    expect(badZone.stderr).toContain("option '--time-zone <zone>' argument 'Mars/Olympus' is invalid");

    // No sink wants it yet: it is set, with a note saying so.
    const set = await s.cli([
      'notifications',
      'digest',
      'set',
      '--time',
      '07:30',
      '--time-zone',
      'Europe/Berlin',
    ]);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('daily digest on at 07:30 Europe/Berlin\n');
    expect(set.stderr).toBe(
      'no enabled sink wants the digest yet: nightshift notifications add <url> --event digest\n',
    );

    const sink = parsed<NotificationSink & { secret: string }>(
      await s.cli(['notifications', 'add', 'https://hooks.example.com/digest', '-e', 'digest', '--json']),
    );
    expect(sink.secret).toMatch(/^nss_/);
    const shown = await s.cli(['notifications', 'digest', 'show']);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(/^digest: +on, daily at 07:30 Europe\/Berlin$/m);
    expect(shown.stdout).toMatch(new RegExp(`^sent to: +${sink.id} \\(all workers\\)$`, 'm'));

    // Only --time: the zone is kept.
    const moved = parsed<DigestSettings>(
      await s.cli(['notifications', 'digest', 'set', '--time', '06:00', '--json']),
    );
    expect(moved).toMatchObject({ time: '06:00', timeZone: 'Europe/Berlin', enabled: true });
    const off = await s.cli(['notifications', 'digest', 'off']);
    expect(off).toMatchObject({
      code: 0,
      stderr: '',
      stdout: 'daily digest off (it was at 06:00 Europe/Berlin)\n',
    });
    expect(parsed<DigestSettings>(await s.cli(['notifications', 'digest', '--json']))).toMatchObject({
      time: '06:00',
      timeZone: 'Europe/Berlin',
      enabled: false,
    });
    expect((await s.cli(['notifications', 'digest'])).stdout).toMatch(
      /^digest: +off \(was daily at 06:00 Europe\/Berlin\)$/m,
    );
    // set without options turns it on again as it was.
    const again = await s.cli(['notifications', 'digest', 'set']);
    expect(again).toMatchObject({ code: 0, stderr: '', stdout: 'daily digest on at 06:00 Europe/Berlin\n' });

    expect((await s.cli(['notifications', 'digest', 'off'])).code).toBe(0);
    expect((await s.cli(['notifications', 'rm', sink.id])).code).toBe(0);
  });

  describe('errors: one line each, with its exit code', () => {
    it('2 for a usage error, before anything is sent', async () => {
      const unknown = await s.cli(['runs', 'ls', '--bogus']);
      expect(unknown).toMatchObject({ code: 2, stdout: '' });
      expect(unknown.stderr).toBe("error: unknown option '--bogus'\n");
      const bad = await s.cli(['runs', 'ls', '--limit', 'many']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toBe(
        "error: option '-n, --limit <n>' argument 'many' is invalid. expected a whole number from 1 up\n",
      );
      const conflict = await s.cli(['workers', 'add', 'x', '--tz', 'UTC', '--workdir', '/srv/x']);
      expect(conflict).toMatchObject({
        code: 2,
        stderr: 'nightshift: --tz and --on-busy go with --schedule\n',
      });
      expect((await s.cli([])).code).toBe(2);
      expect((await s.cli(['--help'])).code).toBe(0);
    });

    it("1 for the API's refusal, with the problem's title and each field's path and message", async () => {
      const neither = await s.cli(['workers', 'add', 'nothing']);
      expect(neither).toMatchObject({ code: 1, stdout: '' });
      expect(neither.stderr).toBe(
        'nightshift: Validation Failed: the request body does not match its schema; repo: expected exactly one of repo or workdir, got neither\n',
      );
      const cron = await s.cli([
        'workers',
        'add',
        'badcron',
        '--workdir',
        '/srv/x',
        '--schedule',
        'every night',
      ]);
      expect(cron.code).toBe(1);
      expect(cron.stderr).toMatch(
        /^nightshift: Validation Failed: [^\n]*; schedule\.cron: expected a cron expression[^\n]*\n$/,
      );
      const twice = await s.cli(['workers', 'add', 'blog', '--workdir', '/srv/x']);
      expect(twice.code).toBe(1);
      expect(twice.stderr).toMatch(/^nightshift: Conflict: [^\n]+\n$/);
    });

    it('3 for a worker or run that does not exist', async () => {
      const run = await s.cli(['runs', 'show', 'r-does-not-exist']);
      expect(run).toMatchObject({
        code: 3,
        stdout: '',
        stderr: 'nightshift: Not Found: run "r-does-not-exist" does not exist\n',
      });
      const worker = await s.cli(['runs', 'start', 'nobody']);
      expect(worker.code).toBe(3);
      expect(worker.stderr).toMatch(/^nightshift: Not Found: [^\n]*nobody[^\n]*\n$/);
    });

    it('4 for a token the API refuses, or none', async () => {
      const wrong = await s.cli(['workers', 'ls'], { env: { NIGHTSHIFT_TOKEN: 'not-the-token-at-all' } });
      expect(wrong).toMatchObject({ code: 4, stdout: '' });
      expect(wrong.stderr).toMatch(/^nightshift: Unauthorized[^\n]*\n$/);
      const none = await s.cli(['workers', 'ls'], { env: { NIGHTSHIFT_TOKEN: undefined } });
      expect(none).toMatchObject({
        code: 4,
        stderr: 'nightshift: no token: run nightshift login, or set NIGHTSHIFT_TOKEN\n',
      });
    });

    it('1 for a network error, naming the URL; a stack trace only with --debug', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const down = await s.cli(['runs', 'ls'], { env: { NIGHTSHIFT_URL: url } });
      expect(down).toMatchObject({ code: 1, stdout: '' });
      expect(down.stderr).toMatch(
        new RegExp(`^nightshift: cannot reach ${url}/v1/runs\\?limit=20: [^\\n]*ECONNREFUSED[^\\n]*\\n$`),
      );
      const debug = await s.cli(['runs', 'ls', '--debug'], { env: { NIGHTSHIFT_URL: url } });
      expect(debug.code).toBe(1);
      expect(debug.stderr.split('\n').length).toBeGreaterThan(3);
      expect(debug.stderr).toMatch(/\n\s+at /);
    });
  });

  it('logs in: checks the token, keeps the profile in a file only its owner reads, and uses it', async () => {
    const noEnv = { NIGHTSHIFT_URL: undefined, NIGHTSHIFT_TOKEN: undefined };
    const refused = await s.cli(['login', '--url', s.url, '--token', 'not-the-token-at-all'], { env: noEnv });
    expect(refused.code).toBe(4);
    const file = join(s.env.XDG_CONFIG_HOME as string, 'nightshift', 'config.json');
    await expect(stat(file)).rejects.toThrow(/ENOENT/);

    const login = await s.cli(['login', '--profile', 'local', '--url', s.url], {
      env: noEnv,
      input: `${s.token}\n`,
    });
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(login.stdout).toBe(`logged in to ${s.url} as profile "local" (${file})\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      profiles: { local: { url: s.url, token: s.token } },
    });

    const used = await s.cli(['--profile', 'local', 'workers', 'ls', '--json'], { env: noEnv });
    expect(parsed<{ workers: Worker[] }>(used).workers.map((w) => w.id)).toContain('blog');
    const byEnv = await s.cli(['workers', 'ls', '--json'], {
      env: { ...noEnv, NIGHTSHIFT_PROFILE: 'local' },
    });
    expect(byEnv.code).toBe(0);
    // NIGHTSHIFT_TOKEN wins over the profile's.
    const overridden = await s.cli(['-p', 'local', 'workers', 'ls'], {
      env: { NIGHTSHIFT_TOKEN: 'not-the-token-at-all' },
    });
    expect(overridden.code).toBe(4);
    const missing = await s.cli(['-p', 'cloud', 'workers', 'ls'], { env: noEnv });
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toBe(
      `nightshift: no profile "cloud" in ${file}: run nightshift login --profile cloud\n`,
    );
  });

  it('completes commands, options and option values in bash', async () => {
    const script = (await s.cli(['completion', 'bash'])).stdout;
    const complete = async (words: string[]) => {
      const { stdout } = await exec('bash', [
        '-c',
        `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nightshift; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ]);
      return stdout.trim().split('\n').sort();
    };
    expect(await complete(['nightshift', 'ru'])).toEqual(['runs']);
    expect(await complete(['nightshift', 'runs', ''])).toEqual(
      expect.arrayContaining(['start', 'ls', 'show', 'logs', 'cancel']),
    );
    expect(await complete(['nightshift', '--json', 'runs', 'ls', '--st'])).toEqual(['--status']);
    expect(await complete(['nightshift', 'runs', 'ls', '--status', 'r'])).toEqual(['running']);
    expect(await complete(['nightshift', 'workers', 'edit', 'blog', '--no-s'])).toEqual(['--no-schedule']);
    expect(await complete(['nightshift', 'vms', ''])).toEqual(expect.arrayContaining(['ls']));
    expect(await complete(['nightshift', 'notifications', ''])).toEqual(
      expect.arrayContaining(['add', 'ls', 'show', 'edit', 'rm', 'digest']),
    );
    expect(await complete(['nightshift', 'notifications', 'digest', ''])).toEqual(
      expect.arrayContaining(['show', 'set', 'off']),
    );
    expect(await complete(['nightshift', 'notifications', 'digest', 'set', '--t'])).toEqual([
      '--time',
      '--time-zone',
    ]);
    expect(await complete(['nightshift', 'notifications', 'add', 'https://x', '--event', 'run.t'])).toEqual([
      'run.timed_out',
    ]);
    expect(await complete(['nightshift', 'notifications', 'add', 'https://x', '--format', ''])).toEqual([
      'discord',
      'json',
      'slack',
    ]);
    expect((await s.cli(['completion', 'zsh'])).stdout).toContain('compdef _nightshift nightshift');
    expect((await s.cli(['completion', 'fish'])).code).toBe(2);
  });

  // Last: it leaves the spare VM running (with no agent) and three workers behind.
  it("shows why a VM was started: a run queued beyond the agent's two slots starts the spare", async () => {
    for (const id of ['vm-a', 'vm-b']) {
      expect((await s.cli(['workers', 'add', id, '--repo', origin])).code).toBe(0);
    }
    const busy: Run[] = [];
    for (const worker of ['blog', 'vm-a']) {
      busy.push(parsed<Run>(await s.cli(['runs', 'start', worker, '--prompt', 'scenario: slow', '--json'])));
    }
    // The functions count free slots from the agent's heartbeat: wait until it says both are taken.
    await waitFor(
      "the agent's heartbeat to hold both runs",
      async () => {
        const { agents } = parsed<{ agents: Array<{ running: string[] }> }>(
          await s.cli(['agents', 'ls', '--json']),
        );
        return agents[0]?.running.length === 2;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const waiting = parsed<Run>(await s.cli(['runs', 'start', 'vm-b', '--json']));
    const spare = await waitFor(
      'the spare VM to be started',
      async () => {
        const { vms } = parsed<VmList>(await s.cli(['vms', 'ls', '--json']));
        const vm = vms.find((v) => v.name === SPARE_VM.name);
        return vm?.lastStart ? vm : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(spare.lastStart).toMatchObject({
      reason: `run ${waiting.id} was queued`,
      by: 'functions',
      runId: waiting.id,
      error: null,
    });
    expect(spare.lastStart?.operation).toBeTruthy();
    expect(['STAGING', 'RUNNING']).toContain(spare.status);
    expect(
      s.compute.requests.filter((r) => r.action === 'start' && r.instance === SPARE_VM.name),
    ).toHaveLength(1);
    const text = await s.cli(['vms', 'ls']);
    expect(text.stdout).toMatch(
      /^cli-test-spare +local-dev1-b +(STAGING|RUNNING) +e2-small +- +\d+s ago +- /m,
    );
    expect(text.stdout).toMatch(
      new RegExp(`^cli-test-spare {2}started \\d+s ago by functions: run ${waiting.id} was queued$`, 'm'),
    );

    for (const run of [waiting, ...busy]) expect((await s.cli(['runs', 'cancel', run.id])).code).toBe(0);
    for (const run of busy) {
      await waitFor(`run ${run.id} to end`, async () => (await runOf(run.id)).finishedAt !== null, {
        timeoutMs: 60_000,
        intervalMs: 500,
      });
    }
  }, 150_000);
});
