// Worker isolation on this machine: an agent user drives a worker user's tmux server, the worker runs as that user with nothing of the agent, and the metadata rule refuses it.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { TERMINAL_STATUSES } from '@nightshift/shared';
import { describeEmulators, describeUnless, tempDir, waitFor } from '@nightshift/shared/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RUN_FILES } from './runner/files.mjs';
import { type AgentTest, FAKE_CLAUDE, git, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';
import { createTmux } from './tmux.js';

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const UNIT = join(ROOT, 'agent/systemd/nightshift-workers.service');
const RULES = join(ROOT, 'agent/systemd/workers.nft');
/** The unit's socket and agent user, replaced by this test's own. */
const UNIT_SOCKET = '/run/nightshift/tmux.sock';

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why two users cannot be made here (they need root, useradd and runuser), or null. */
function missingUsers(): string | null {
  if (process.getuid?.() !== 0) return 'not root: two unix users cannot be made for the isolation tests';
  for (const tool of ['useradd', 'userdel', 'usermod', 'runuser', 'tmux'])
    if (!has(tool)) return `${tool} is not installed (the isolation tests make two unix users)`;
  return null;
}

interface User {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** What a group undoes in its afterAll, last first (a hook registered inside beforeAll would never run). */
type Cleanups = (() => Promise<unknown>)[];

async function cleanUp(cleanups: Cleanups): Promise<void> {
  for (const step of cleanups.reverse()) await step().catch(() => {});
}

/** An agent user and a worker user, as install.sh makes them: the agent's user is in the worker's group. */
async function makeUsers(dir: string, cleanups: Cleanups): Promise<{ agent: User; worker: User }> {
  const id = randomBytes(3).toString('hex');
  const make = async (name: string): Promise<User> => {
    const home = join(dir, name);
    await exec('useradd', [
      '--no-create-home',
      '--home-dir',
      home,
      '--shell',
      '/bin/sh',
      '--user-group',
      name,
    ]);
    const uid = Number((await exec('id', ['-u', name])).stdout.trim());
    const gid = Number((await exec('id', ['-g', name])).stdout.trim());
    await mkdir(home, { recursive: true });
    await chown(home, uid, gid);
    await chmod(home, 0o700);
    return { name, uid, gid, home };
  };
  const workerName = `nsw-${id}`;
  const agentName = `nsa-${id}`;
  // Undone last first: the agent's user, then the worker's, whose group goes with it once it has no
  // other member (groupdel in case it had).
  cleanups.push(() => exec('groupdel', [workerName]));
  cleanups.push(() => exec('userdel', [workerName]));
  const worker = await make(workerName);
  cleanups.push(() => exec('userdel', [agentName]));
  const agent = await make(agentName);
  await exec('usermod', ['--append', '--groups', worker.name, agent.name]);
  return { agent, worker };
}

/** Runs argv as `user` with exactly `env`, under the units' umask; resolves to stdout, rejects with stderr. */
async function as(user: User, argv: string[], env: Record<string, string> = {}): Promise<string> {
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: user.home };
  const pairs = Object.entries({ ...base, ...env }).map(([k, v]) => `${k}=${v}`);
  const { stdout } = await exec('runuser', [
    '-u',
    user.name,
    '--',
    'env',
    '-i',
    ...pairs,
    'sh',
    '-c',
    'umask 0007 && exec "$@"',
    'sh',
    ...argv,
  ]);
  return stdout;
}

/** Like `as`, but both streams, whatever the exit code. */
async function asResult(user: User, argv: string[]): Promise<{ stdout: string; stderr: string }> {
  const pairs = [`PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, `HOME=${user.home}`];
  return exec('runuser', ['-u', user.name, '--', 'env', '-i', ...pairs, ...argv]).catch(
    (error: { stdout: string; stderr: string }) => error,
  );
}

/** The [Service] lines `key=` of the workers' unit, their socket and agent user made this test's. */
async function unitLines(key: string, socket: string, agentName: string): Promise<string[]> {
  const text = await readFile(UNIT, 'utf8');
  const lines = [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] ?? '');
  if (lines.length === 0) throw new Error(`no ${key} in ${UNIT}`);
  const tmux = execFileSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).trim();
  return lines.map((line) =>
    line
      .replaceAll(UNIT_SOCKET, socket)
      .replaceAll('/usr/bin/tmux', tmux)
      .replace(/server-access -a nightshift$/, `server-access -a ${agentName}`),
  );
}

describeUnless(missingUsers(), 'Worker isolation (two unix users on this machine)', () => {
  describeEmulators('Worker isolation: a run launched by the agent user in the worker user', () => {
    let t: AgentTest;
    let agent: User;
    let worker: User;
    let socket: string;
    let agentOnly: string;
    let child: ChildProcess | null = null;
    let output = '';
    const cleanups: Cleanups = [];
    afterAll(() => cleanUp(cleanups));

    beforeAll(async () => {
      t = await setupAgentTest();
      // Everyone passes through the test's folder, as through / on the VM.
      await chmod(t.root, 0o755);
      ({ agent, worker } = await makeUsers(join(t.root, 'users'), cleanups));
      await chmod(join(t.root, 'users'), 0o755);
      // The agent's home as install.sh leaves it: the worker's group passes through, runs/ and
      // workspaces/ are the group's and setgid.
      await mkdir(t.home, { recursive: true });
      await chown(t.home, agent.uid, worker.gid);
      await chmod(t.home, 0o710);
      for (const sub of ['runs', 'workspaces']) {
        await mkdir(join(t.home, sub));
        await chown(join(t.home, sub), agent.uid, worker.gid);
        await chmod(join(t.home, sub), 0o2770);
      }
      agentOnly = join(t.home, 'agent-only.json');
      await writeFile(agentOnly, '{"secret":"agent"}');
      await chown(agentOnly, agent.uid, agent.gid);
      await chmod(agentOnly, 0o640);
      // The worker's git config as install.sh writes it: it commits in clones the agent's user owns.
      const gitconfig = join(worker.home, '.gitconfig');
      await writeFile(
        gitconfig,
        '[user]\n\tname = nightshift\n\temail = nightshift@test.invalid\n[safe]\n\tdirectory = *\n',
      );
      await chown(gitconfig, worker.uid, worker.gid);
      // The fake claude's notes: written by the worker user, read by the test.
      await chown(t.fakeDir, worker.uid, worker.gid);
      // The socket's folder, as systemd's RuntimeDirectory makes it.
      const run = join(t.root, 'run');
      await mkdir(run);
      await chown(run, worker.uid, worker.gid);
      await chmod(run, 0o750);
      socket = join(run, 'tmux.sock');
      // Before the users go: the agent process, then the server (as its owner), and the files the two
      // users left in the test's folder.
      cleanups.push(() => exec('rm', ['-rf', join(t.root, 'users'), t.home, t.fakeDir, run]));
      cleanups.push(() => as(worker, ['tmux', '-S', socket, 'kill-server']));
      cleanups.push(async () => {
        // The whole group: runuser waits for its node child, which a kill of runuser alone would orphan.
        if (child?.pid && child.exitCode === null) {
          const exited = new Promise((r) => child?.once('exit', r));
          process.kill(-child.pid, 'SIGKILL');
          await exited;
        }
      });
    });

    it("starts the workers' server as its unit does; only server-access lets the agent's user in", async () => {
      const credential = { CLAUDE_CODE_OAUTH_TOKEN: 'token-isolation' };
      await as(
        worker,
        ['sh', '-c', (await unitLines('ExecStart', socket, agent.name)).join(' && ')],
        credential,
      );
      const agentTmux = ['tmux', '-S', socket, 'list-sessions', '-F', '#{session_name}'];
      await expect(as(agent, agentTmux)).rejects.toThrow(/Permission denied/);
      // The unit's ExecStartPost, one line at a time: the socket's mode, then the access list.
      const [chmodLine = '', accessLine = ''] = await unitLines('ExecStartPost', socket, agent.name);
      await as(worker, ['sh', '-c', chmodLine]);
      // Refused by the server's access list (tmux 3.3a still exits 0), which the driver makes an error:
      // the agent's tmux driver, its commands run as the agent's user.
      const refused = await asResult(agent, agentTmux);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain('access not allowed');
      const wrapper = join(t.root, 'tmux-as-agent');
      await writeFile(wrapper, `#!/bin/sh\nexec runuser -u ${agent.name} -- tmux "$@"\n`, { mode: 0o755 });
      const driver = createTmux(socket, wrapper);
      await expect(driver.newSession('never-made', t.root, ['true'])).rejects.toThrow(/access not allowed/);
      expect(await driver.hasSession('nightshift')).toBe(false);
      await as(worker, ['sh', '-c', accessLine]);
      expect((await as(agent, agentTmux)).trim()).toBe('nightshift');
      expect(await driver.hasSession('nightshift')).toBe(true);
      expect(await driver.listSessions()).toEqual(['nightshift']);
      // The server, and so every session in it, is the worker user's.
      const pid = (await as(agent, ['tmux', '-S', socket, 'display-message', '-p', '#{pid}'])).trim();
      expect((await stat(`/proc/${pid}`)).uid).toBe(worker.uid);
    });

    it('runs the worker as the worker user, with the credential and nothing of the agent, to succeeded', async () => {
      const options = join(t.root, 'agent-options.json');
      await writeFile(
        options,
        JSON.stringify({
          projectId: t.env.projectId,
          agentId: 'vm-isolated',
          home: t.home,
          workerCommand: FAKE_CLAUDE,
          capacity: 2,
          socket,
          timings: TEST_TIMINGS,
          workerEnv: { FAKE_CLAUDE_DIR: t.fakeDir },
        }),
      );
      // The agent as systemd runs it: its own user, umask 0007, its settings in its environment (and
      // two it must never pass on).
      const agentEnv: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: agent.home,
        GOOGLE_CLOUD_PROJECT: t.env.projectId,
        NIGHTSHIFT_HOME: t.home,
        NIGHTSHIFT_TMUX_SOCKET: socket,
        NIGHTSHIFT_CANARY: 'agent-only-value',
        METADATA_SERVER_DETECTION: 'none',
        FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST ?? '',
        PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST ?? '',
      };
      const pairs = Object.entries(agentEnv).map(([k, v]) => `${k}=${v}`);
      child = spawn(
        'runuser',
        [
          '-u',
          agent.name,
          '--',
          'env',
          '-i',
          ...pairs,
          'sh',
          '-c',
          'umask 0007 && exec "$@"',
          'sh',
          process.execPath,
          '--import',
          'tsx',
          'agent/src/testing/agent-process.ts',
          options,
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      const keep = (c: Buffer) => {
        output += c.toString();
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      await waitFor(
        'the agent process to be ready',
        () => output.includes('agent ready') || child?.exitCode !== null,
        {
          timeoutMs: 30_000,
        },
      );
      expect(child.exitCode, output).toBeNull();

      // The origin is the agent user's (git refuses another user's repository; on the VM it is remote).
      const origin = await t.makeRepo('isolated-origin');
      await exec('chown', ['-R', `${agent.name}:${agent.name}`, origin]);
      await t.createWorker('isolated', { repo: { url: origin, branch: 'main', push: false } });
      const run = await t.createRun('isolated');
      await t.publish('run.start', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES, 30_000);
      expect(done.error, output).toBeNull();
      expect(done.status).toBe('succeeded');
      // The worker committed in the agent user's clone (the shared group, git's safe.directory).
      expect(done.commits).toHaveLength(2);

      // Who the worker was, and what it was handed.
      expect(Number(await readFile(join(t.fakeDir, `${run.id}.uid`), 'utf8'))).toBe(worker.uid);
      const env = JSON.parse(await readFile(join(t.fakeDir, `${run.id}.env.json`), 'utf8')) as Record<
        string,
        string
      >;
      expect(env.CLAUDE_CODE_OAUTH_TOKEN).toBe('token-isolation');
      expect(env.HOME).toBe(worker.home);
      expect(env.NIGHTSHIFT_RUN_ID).toBe(run.id);
      for (const name of Object.keys(agentEnv).filter((n) => n !== 'PATH' && n !== 'HOME'))
        expect(env[name], name).toBeUndefined();
      expect(
        Object.keys(env)
          .filter((n) => /^(NIGHTSHIFT_|GOOGLE_|FIRESTORE_|PUBSUB_|TMUX)/.test(n))
          .sort(),
      ).toEqual(['NIGHTSHIFT_RUN_DIR', 'NIGHTSHIFT_RUN_ID']);

      // The run directory: the agent's launch.json and the runner's files, each readable by the other.
      const dir = join(t.home, 'runs', run.id);
      const launch = await stat(join(dir, RUN_FILES.launch));
      expect([launch.uid, launch.gid, (launch.mode & 0o777).toString(8)]).toEqual([
        agent.uid,
        worker.gid,
        '640',
      ]);
      for (const name of [RUN_FILES.stream, RUN_FILES.exit]) {
        const s = await stat(join(dir, name));
        expect([name, s.uid, s.gid]).toEqual([name, worker.uid, worker.gid]);
        expect(s.mode & 0o040, name).toBe(0o040);
      }
    });

    it("stops a worker the agent's user may not signal: the runner passes the signal on", async () => {
      const run = await t.createRun('isolated', { maxDurationMinutes: 100 });
      await t.scenario(run.id, 'slow');
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running'], 30_000);
      // Once it has started working, as the API cancels.
      await waitFor('the worker to start', () =>
        readFile(join(t.fakeDir, `${run.id}.uid`), 'utf8').catch(() => undefined),
      );
      await t.env.cols.runs
        .doc(run.id)
        .update({ cancelRequestedAt: new Date().toISOString(), cancelReason: 'isolated cancel' });
      await t.publish('run.cancel', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES, 30_000);
      expect(done.status, output).toBe('cancelled');
      expect(done.error).toBe('isolated cancel');
      // The first signal, SIGINT, reached it (not the session kill at the end of the escalation).
      const exit = JSON.parse(await readFile(join(t.home, 'runs', run.id, RUN_FILES.exit), 'utf8')) as {
        signal: string | null;
        note: string | null;
      };
      expect(exit).toMatchObject({ signal: 'SIGINT', note: null });
      await expect(stat(join(t.home, 'runs', run.id, RUN_FILES.signal))).rejects.toThrow(/ENOENT/);
    });

    it("keeps the worker user's uncommitted work on the run's wip branch as the agent's user, the workspace clean", async () => {
      const run = await t.createRun('isolated', { maxDurationMinutes: 100 });
      await t.scenario(run.id, 'dirty', 'hang');
      await t.publish('run.start', run.id);
      await t.waitStatus(run.id, ['running'], 30_000);
      await waitFor('the worker to leave its changes', () =>
        stat(join(t.fakeDir, `${run.id}.dirty`)).catch(() => undefined),
      );
      await t.env.cols.runs
        .doc(run.id)
        .update({ cancelRequestedAt: new Date().toISOString(), cancelReason: 'isolated cancel' });
      await t.publish('run.cancel', run.id);
      const done = await t.waitStatus(run.id, TERMINAL_STATUSES, 30_000);
      expect(done.status, output).toBe('cancelled');
      expect(done.wipBranch, output).toBe(`nightshift/wip/${run.id}`);
      const workspace = join(t.home, 'workspaces', 'isolated');
      // The test runs git as root in the agent user's clone.
      const asRoot = (...args: string[]) => git(workspace, '-c', 'safe.directory=*', ...args);
      const files = await asRoot('show', '--format=', '--name-only', `nightshift/wip/${run.id}`);
      expect(files.split('\n').sort()).toEqual(['docs/roadmap.md', 'notes.txt']);
      expect(await asRoot('status', '--porcelain', '--untracked-files=all')).toBe('');
      const notes = (await t.env.cols.runEvents(run.id).get()).docs
        .map((d) => d.data())
        .flatMap((e) => (e.type === 'note' ? [e.message] : []));
      expect(notes.filter((n) => n.includes('nightshift/wip'))).toEqual([]);
    });

    it("the worker user reads its run's folder and workspace, never the agent's own files", async () => {
      const workspace = join(t.home, 'workspaces', 'isolated');
      expect(await as(worker, ['cat', join(workspace, 'PROGRESS.md')])).toContain('done by fake claude');
      await as(worker, ['touch', join(workspace, 'worker-was-here')]);
      await expect(as(worker, ['cat', agentOnly])).rejects.toThrow(/Permission denied/);
      await expect(as(worker, ['ls', t.home])).rejects.toThrow(/Permission denied/);
      await expect(as(worker, ['cat', join(agent.home, '.profile')])).rejects.toThrow(/Permission denied/);
      // The agent's user reads its own.
      expect(await as(agent, ['cat', agentOnly])).toContain('agent');
    });
  });

  describeUnless(
    has('nft')
      ? null
      : 'nft is not installed (the metadata rule was not tried; Debian: apt-get install nftables)',
    'Worker isolation: the metadata rule (nftables)',
    () => {
      let agent: User;
      let worker: User;
      const table = `nightshift_test_${randomBytes(3).toString('hex')}`;
      const cleanups: Cleanups = [];
      afterAll(() => cleanUp(cleanups));

      beforeAll(async () => {
        const dir = await tempDir('nightshift-nft-');
        await chmod(dir, 0o755);
        ({ agent, worker } = await makeUsers(dir, cleanups));
        cleanups.push(() => exec('rm', ['-rf', dir]));
        // The installed file, for this test's worker user and in a table of its own.
        const rules = (await readFile(RULES, 'utf8'))
          .replaceAll('"nightshift-worker"', `"${worker.name}"`)
          .replaceAll('inet nightshift', `inet ${table}`);
        expect(rules).toContain(`meta skuid "${worker.name}"`);
        const file = join(dir, 'workers.nft');
        await writeFile(file, rules);
        cleanups.push(() => exec('nft', ['delete', 'table', 'inet', table]));
        await exec('nft', ['-f', file]);
        // Loaded twice, still one table: the file replaces its own.
        await exec('nft', ['-f', file]);
        const { stdout } = await exec('nft', ['list', 'tables']);
        expect(stdout.split('\n').filter((l) => l === `table inet ${table}`)).toHaveLength(1);
      });

      /** What a TCP connect to the metadata server gives this user within 3 s: an error code or "connected". */
      const connect = (user: User) =>
        as(user, [
          process.execPath,
          '-e',
          `const s = require('node:net').connect(80, '169.254.169.254');
           s.on('connect', () => { console.log('connected'); process.exit(0); });
           s.on('error', (e) => { console.log(e.code); process.exit(0); });
           setTimeout(() => { console.log('timeout'); process.exit(0); }, 3000);`,
        ]).then((out) => out.trim());

      it("refuses the worker user's connection to the metadata server at once, and only the worker user's", async () => {
        expect(await connect(worker)).toBe('ECONNREFUSED');
        // Another user (the agent's) is not matched: whatever this machine's network answers, not a refusal.
        expect(await connect(agent)).not.toBe('ECONNREFUSED');
      });
    },
  );
});
