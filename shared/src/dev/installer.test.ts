// The agent's installer (agent/install.sh, run by the VM's startup script too) and its systemd units, as far as they run here.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// biome-ignore lint/style/noRestrictedImports: the installer must write what the agent's configuration requires.
import { loadConfig } from '../../../agent/src/config.js';
import { ConfigError } from '../config.js';
import { describeUnless, tempDir, waitFor } from '../testing/index.js';
import { type BuildResult, build, REPO_ROOT } from './build.js';

const exec = promisify(execFile);
const INSTALLER = join(REPO_ROOT, 'agent/install.sh');
const UNITS = ['nightshift-firewall.service', 'nightshift-workers.service', 'nightshift-agent.service'];
/** The workers' tmux server, which the worker user owns and the agent reaches (agent/PROTOCOL.md). */
const WORKERS_SOCKET = '/run/nightshift/tmux.sock';

function missingTool(tool: string, args: string[], why: string): string | null {
  try {
    execFileSync(tool, args, { stdio: 'ignore' });
    return null;
  } catch {
    return `${tool} is not installed (${why}; Debian: apt-get install ${tool === 'systemd-analyze' ? 'systemd' : tool})`;
  }
}

/** [section] key=value lines of a unit file; repeated keys keep every value. */
function unit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = {};
      sections[section[1] ?? ''] = current;
      continue;
    }
    const kv = /^(\w+)=(.*)$/.exec(line);
    if (kv) current[kv[1] ?? ''] = [...(current[kv[1] ?? ''] ?? []), kv[2] ?? ''];
  }
  return sections;
}

const readUnit = async (name: string) => unit(await readFile(join(REPO_ROOT, 'agent/systemd', name), 'utf8'));

describe('the systemd units', () => {
  it('give the workers their own unit: the tmux server with the Claude credential, apart from the agent', async () => {
    const workers = await readUnit('nightshift-workers.service');
    const agent = await readUnit('nightshift-agent.service');
    const exec = workers.Service?.ExecStart?.[0] ?? '';
    // The workers' unit owns the workers' tmux socket and keeps an idle session so the server stays up.
    expect(exec).toMatch(new RegExp(`^/usr/bin/tmux -S ${WORKERS_SOCKET} new-session -d -s \\S+ `));
    expect(workers.Service?.Type).toEqual(['forking']);
    expect(workers.Service?.EnvironmentFile).toEqual(['/etc/nightshift/workers.env']);
    expect(workers.Service?.ExecStop).toEqual([`/usr/bin/tmux -S ${WORKERS_SOCKET} kill-server`]);
    expect(workers.Service?.Restart).toEqual(['always']);
    // Isolation: the server, so every run, is the worker user's; the agent's user is let in; the socket's
    // folder is the worker's group's, which the agent's user is in; no worker without the firewall.
    expect(workers.Service?.User).toEqual(['nightshift-worker']);
    expect(workers.Service?.Group).toEqual(['nightshift-worker']);
    expect(workers.Service?.ExecStartPost).toEqual([
      `/usr/bin/chmod 0660 ${WORKERS_SOCKET}`,
      `/usr/bin/tmux -S ${WORKERS_SOCKET} server-access -a nightshift`,
    ]);
    expect(workers.Service?.RuntimeDirectory).toEqual(['nightshift']);
    expect(workers.Service?.RuntimeDirectoryMode).toEqual(['0750']);
    expect(workers.Service?.Environment).toEqual(['HOME=/home/nightshift-worker']);
    expect(workers.Unit?.Requires).toEqual(['nightshift-firewall.service']);
    expect(workers.Unit?.After?.join(' ')).toContain('nightshift-firewall.service');
    for (const u of [workers, agent]) expect(u.Service?.UMask).toEqual(['0007']);
    // The agent joins that server, never forks one into its own cgroup, and never sees the credential.
    expect(agent.Unit?.Requires).toEqual(['nightshift-workers.service']);
    expect(agent.Unit?.After?.join(' ')).toContain('nightshift-workers.service');
    expect(agent.Service?.EnvironmentFile).toEqual(['/etc/nightshift/agent.env']);
    expect(agent.Service?.MemoryHigh).toEqual(['300M']);
    expect(workers.Service?.MemoryHigh).toBeUndefined();
    // The bundle, run by plain node: no tsx on the VM.
    expect(agent.Service?.ExecStart).toEqual([
      '/usr/bin/node --max-semi-space-size=2 /opt/nightshift/agent/main.js',
    ]);
    expect(agent.Service?.User).toEqual(['nightshift']);
    for (const u of [workers, agent]) expect(u.Install?.WantedBy).toEqual(['multi-user.target']);
  });

  it('load the metadata rule for the worker user before any worker, from boot', async () => {
    const firewall = await readUnit('nightshift-firewall.service');
    expect(firewall.Service?.Type).toEqual(['oneshot']);
    expect(firewall.Service?.RemainAfterExit).toEqual(['yes']);
    expect(firewall.Service?.ExecStart).toEqual(['/usr/sbin/nft -f /etc/nightshift/workers.nft']);
    // A reload loads the same file again: the file replaces its table in one transaction.
    expect(firewall.Service?.ExecReload).toEqual(['/usr/sbin/nft -f /etc/nightshift/workers.nft']);
    expect(firewall.Unit?.Before?.join(' ')).toContain('nightshift-workers.service');
    expect(firewall.Unit?.Before?.join(' ')).toContain('network-pre.target');
    expect(firewall.Install?.WantedBy).toEqual(['multi-user.target']);
    const rules = await readFile(join(REPO_ROOT, 'agent/systemd/workers.nft'), 'utf8');
    // Only the worker user's packets, to the metadata server, and only DNS let through.
    const rejects = rules.split('\n').filter((l) => /\breject\b/.test(l) && !l.trim().startsWith('#'));
    expect(rejects.length).toBeGreaterThan(0);
    for (const line of rejects)
      expect(line).toMatch(/meta skuid "nightshift-worker" ip6? daddr (169\.254\.169\.254|fd20:ce::254) /);
    for (const line of rules.split('\n').filter((l) => /\baccept$/.test(l.trim())))
      expect(line).toMatch(/dport 53 accept$/);
  });
});

describe("the workers' unit's tmux server, started as the unit starts it (real tmux)", () => {
  it("holds the credential for every run the agent starts in it, never the agent's own environment", async () => {
    const dir = await tempDir('nightshift-tmux-');
    const socketDir = join(dir, 'sockets');
    await mkdir(socketDir);
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TMUX_TMPDIR: socketDir };
    // The unit's socket, moved into this test's folder (the unit's own is /run/nightshift's).
    const socket = join(socketDir, 'tmux.sock');
    const tmux = (args: string[], env: Record<string, string> = {}) =>
      exec('tmux', ['-S', socket, ...args], { env: { ...base, ...env } });
    try {
      // ExecStart as systemd runs it, with workers.env as its environment.
      const execStart = (await readUnit('nightshift-workers.service')).Service?.ExecStart?.[0] ?? '';
      expect(execStart).toContain(WORKERS_SOCKET);
      await exec('sh', ['-c', execStart.replaceAll(WORKERS_SOCKET, socket)], {
        env: { ...base, CLAUDE_CODE_OAUTH_TOKEN: 'token-1' },
      });
      await tmux(['has-session', '-t', '=nightshift']);
      // A run, started like the agent starts one: from a client with the agent's own environment.
      const run = async (name: string) => {
        const out = join(dir, `${name}.out`);
        await tmux(
          [
            'new-session',
            '-d',
            '-s',
            name,
            '--',
            'sh',
            '-c',
            `printf '%s|%s' "$CLAUDE_CODE_OAUTH_TOKEN" "$GOOGLE_CLOUD_PROJECT" >${out}`,
          ],
          { GOOGLE_CLOUD_PROJECT: 'agent-only-setting' },
        );
        return waitFor(`${name} to write`, () => readFile(out, 'utf8').catch(() => undefined));
      };
      expect(await run('run-1')).toBe('token-1|');
      // install.sh's refresh of a running server: new runs get the new credential, no restart.
      await tmux(['set-environment', '-g', 'CLAUDE_CODE_OAUTH_TOKEN', 'token-2']);
      expect(await run('run-2')).toBe('token-2|');
    } finally {
      await tmux(['kill-server']).catch(() => {});
    }
  });
});

describeUnless(
  missingTool('systemd-analyze', ['--version'], 'the units were not verified'),
  'systemd-analyze verify',
  () => {
    it('finds nothing to say about either unit', async () => {
      const dir = await tempDir('nightshift-units-');
      // Where node or tmux live elsewhere on this machine than on the VM, point the copy at them.
      const node = process.execPath;
      const tmux = execFileSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).trim();
      // nft is only on the VM (the firewall unit): a stand-in path that exists for verify's own check.
      const nft = execFileSync('sh', ['-c', 'command -v nft || command -v true'], {
        encoding: 'utf8',
      }).trim();
      for (const name of UNITS) {
        const text = await readFile(join(REPO_ROOT, 'agent/systemd', name), 'utf8');
        await writeFile(
          join(dir, name),
          text
            .replaceAll('/usr/bin/node', node)
            .replaceAll('/usr/bin/tmux', tmux)
            .replaceAll('/usr/sbin/nft', nft),
        );
      }
      const result = await exec('systemd-analyze', ['verify', ...UNITS.map((n) => join(dir, n))]).then(
        (r) => ({ code: 0, stderr: r.stderr }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(result.stderr.trim()).toBe('');
      expect(result.code).toBe(0);
    });

    it('catches a broken unit (so the check above means something)', async () => {
      const dir = await tempDir('nightshift-units-bad-');
      const text = await readFile(join(REPO_ROOT, 'agent/systemd/nightshift-workers.service'), 'utf8');
      await writeFile(
        join(dir, 'nightshift-workers.service'),
        text.replace('KillMode=mixed', 'KillMode=sometimes'),
      );
      const { stderr } = await exec('systemd-analyze', [
        'verify',
        join(dir, 'nightshift-workers.service'),
      ]).catch((error: { stderr: string }) => error);
      expect(stderr).toContain('kill mode');
    });
  },
);

describeUnless(
  missingTool('shellcheck', ['--version'], 'the shell scripts were not linted'),
  'shellcheck',
  () => {
    it('finds nothing in the installer or the VM startup script', async () => {
      const dir = await tempDir('nightshift-shellcheck-');
      // The startup script is a terraform template: its ${...} become plain words for the check.
      const template = await readFile(join(REPO_ROOT, 'terraform/startup.sh.tftpl'), 'utf8');
      const startup = join(dir, 'startup.sh');
      await writeFile(startup, template.replace(/\$\{[a-z_]+\}/g, 'value'));
      const result = await exec('shellcheck', [INSTALLER, startup]).then(
        () => ({ code: 0, stdout: '' }),
        (error: { code: number; stdout: string }) => error,
      );
      expect(result.stdout).toBe('');
      expect(result.code).toBe(0);
    });
  },
);

describe('agent/install.sh --root (every step that needs no packages, user or systemctl)', () => {
  let built: BuildResult;
  let credential: string;

  beforeAll(async () => {
    built = await build({ outDir: await tempDir('nightshift-installer-build-') });
    credential = join(await tempDir('nightshift-credential-'), 'credential.env');
    await writeFile(credential, 'CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-test\n', { mode: 0o600 });
  }, 120_000);

  const install = (args: string[]) =>
    exec('bash', [INSTALLER, '--bundle', built.agent.dir, ...args]).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);
  const fullMode = async (path: string) => ((await stat(path)).mode & 0o7777).toString(8);

  it('installs the bundle, the units and the settings with their modes', async () => {
    const root = await tempDir('nightshift-root-');
    const result = await install([
      '--root',
      root,
      '--project',
      'my-project-1',
      '--agent-id',
      'nightshift-worker-1',
      '--max-workers',
      '3',
      '--idle-minutes',
      '20',
      '--credential-file',
      credential,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const app = join(root, 'opt/nightshift/agent');
    expect(await readFile(join(app, 'package-lock.json'), 'utf8')).toBe(
      await readFile(join(built.agent.dir, 'package-lock.json'), 'utf8'),
    );
    expect(await readFile(join(app, 'main.js'), 'utf8')).toBe(
      await readFile(join(built.agent.dir, 'main.js'), 'utf8'),
    );
    expect(await mode(join(app, 'main.js'))).toBe('644');
    expect(await mode(join(app, 'runner/runner.mjs'))).toBe('755');
    expect(await mode(join(app, 'runner/render.mjs'))).toBe('644');
    for (const name of UNITS) {
      const installed = join(root, 'etc/systemd/system', name);
      expect(await mode(installed)).toBe('644');
      expect(await readFile(installed, 'utf8')).toBe(
        await readFile(join(REPO_ROOT, 'agent/systemd', name), 'utf8'),
      );
    }
    expect(await readFile(join(root, 'etc/nightshift/workers.nft'), 'utf8')).toBe(
      await readFile(join(REPO_ROOT, 'agent/systemd/workers.nft'), 'utf8'),
    );
    expect(await mode(join(root, 'etc/nightshift/workers.nft'))).toBe('644');
    // Settings: the agent's readable by root and the nightshift group only; the credential only in the
    // workers' file, which only root reads (systemd, for the workers' unit).
    const agentEnv = await readFile(join(root, 'etc/nightshift/agent.env'), 'utf8');
    const workersEnv = await readFile(join(root, 'etc/nightshift/workers.env'), 'utf8');
    expect(await mode(join(root, 'etc/nightshift/agent.env'))).toBe('640');
    expect(await mode(join(root, 'etc/nightshift/workers.env'))).toBe('600');
    // The agent's home: the worker's group may pass through, not list; the two shared folders are
    // setgid and the group's; the worker user's home is its own.
    expect(await mode(join(root, 'var/lib/nightshift'))).toBe('710');
    expect(await fullMode(join(root, 'var/lib/nightshift/runs'))).toBe('2770');
    expect(await fullMode(join(root, 'var/lib/nightshift/workspaces'))).toBe('2770');
    expect(await mode(join(root, 'home/nightshift'))).toBe('750');
    expect(await mode(join(root, 'home/nightshift-worker'))).toBe('700');
    expect(workersEnv).toContain('CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-test\n');
    expect(agentEnv).not.toContain('CLAUDE_CODE_OAUTH_TOKEN');
    // The agent's settings parse: every variable it requires, with the values given.
    const env = Object.fromEntries(
      agentEnv
        .split('\n')
        .filter((l) => /^\w+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(loadConfig(env)).toEqual({
      projectId: 'my-project-1',
      home: '/var/lib/nightshift',
      tmuxSocket: WORKERS_SOCKET,
      workerCommand: 'claude',
      maxWorkers: 3,
      agentId: 'nightshift-worker-1',
      idleMinutes: 20,
      // On the VM its name and zone come from the metadata server, from Google's own host.
      vm: undefined,
      computeApiUrl: undefined,
      metadataHost: undefined,
      onEmulators: false,
      logFormat: 'json',
      // No git credential given: the VM user's own git setup.
      git: {
        token: undefined,
        username: 'x-access-token',
        tokens: undefined,
        app: undefined,
        apiUrl: 'https://api.github.com',
      },
      secretManagerUrl: undefined,
    });
    expect(env.NIGHTSHIFT_IDLE_MINUTES).toBe('20');
    // Workers can commit on a fresh VM: a git identity for the nightshift user.
    expect(await readFile(join(root, 'home/nightshift/.gitconfig'), 'utf8')).toBe(
      '[user]\n\tname = nightshift\n\temail = nightshift@nightshift-worker-1.invalid\n',
    );
    // The worker user commits too, in clones the agent's user owns (git's safe.directory).
    expect(await readFile(join(root, 'home/nightshift-worker/.gitconfig'), 'utf8')).toBe(
      '[user]\n\tname = nightshift\n\temail = nightshift@nightshift-worker-1.invalid\n[safe]\n\tdirectory = *\n',
    );
    // Without the settings the agent would refuse to start: the file is what makes it run.
    expect(() => loadConfig({})).toThrow(ConfigError);
  });

  it('updates in place: a second run replaces the agent and keeps a credential it was not given', async () => {
    const root = await tempDir('nightshift-root-again-');
    const base = ['--root', root, '--project', 'my-project-1'];
    expect((await install([...base, '--credential-file', credential])).code).toBe(0);
    const app = join(root, 'opt/nightshift/agent');
    await writeFile(join(app, 'stale-file'), 'from an older version');
    await writeFile(join(root, 'home/nightshift/.gitconfig'), '[user]\n\tname = Me\n');
    expect((await install([...base, '--max-workers', '5'])).code).toBe(0);
    await expect(stat(join(app, 'stale-file'))).rejects.toThrow();
    await expect(stat(`${app}.next`)).rejects.toThrow();
    expect(await readFile(join(root, 'etc/nightshift/workers.env'), 'utf8')).toContain(
      'CLAUDE_CODE_OAUTH_TOKEN=',
    );
    expect(await readFile(join(root, 'etc/nightshift/agent.env'), 'utf8')).toContain(
      'NIGHTSHIFT_MAX_WORKERS=5\n',
    );
  });

  it('writes the git credential settings into agent.env, single-quoted, as the agent reads them', async () => {
    const root = await tempDir('nightshift-root-git-');
    const settings = [
      'NIGHTSHIFT_GIT_TOKEN=sm://nightshift-git-token',
      'NIGHTSHIFT_GIT_TOKENS={"acme":"t1"}',
      'GITHUB_APP_ID=12345',
      'GITHUB_APP_PRIVATE_KEY=sm://nightshift-github-app-key',
    ];
    const args = [
      '--root',
      root,
      '--project',
      'my-project-1',
      ...settings.flatMap((s) => ['--agent-setting', s]),
    ];
    expect((await install(args)).code).toBe(0);
    const agentEnv = await readFile(join(root, 'etc/nightshift/agent.env'), 'utf8');
    expect(agentEnv).toContain(`NIGHTSHIFT_GIT_TOKENS='{"acme":"t1"}'\n`);
    // As systemd reads an EnvironmentFile: single quotes keep the value as it is.
    const env = Object.fromEntries(
      agentEnv
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^'(.*)'$/, '$1')]),
    );
    const config = loadConfig(env);
    expect(config.git.app?.id).toBe('12345');
    expect(config.git.tokens).toEqual({ kind: 'value', value: '{"acme":"t1"}' });
    expect(config.git.token).toEqual({
      kind: 'secret-manager',
      version: 'projects/my-project-1/secrets/nightshift-git-token/versions/latest',
    });
  });

  it('refuses bad input with one line naming it, and installs nothing', async () => {
    const root = await tempDir('nightshift-root-bad-');
    const badCredential = join(root, '..', `bad-credential-${process.pid}.env`);
    await writeFile(badCredential, 'CLAUDE_CODE_OAUTH_TOKEN=x\nLD_PRELOAD=/tmp/evil.so\n');
    const cases: [string[], string][] = [
      [['--project', 'Not_A_Project'], '--project must be a Google Cloud project id'],
      [
        ['--project', 'my-project-1', '--max-workers', '0'],
        '--max-workers must be a whole number from 1 to 64',
      ],
      [['--project', 'my-project-1', '--agent-id', 'bad id'], '--agent-id must be'],
      [
        ['--project', 'my-project-1', '--credential-file', badCredential],
        '--credential-file must hold one line',
      ],
      [['--project', 'my-project-1', '--colour', 'blue'], 'unknown option --colour'],
      [
        ['--project', 'my-project-1', '--agent-setting', 'LD_PRELOAD=/tmp/evil.so'],
        '--agent-setting takes NAME=VALUE for NIGHTSHIFT_GIT_TOKEN',
      ],
      [
        ['--project', 'my-project-1', '--agent-setting', "NIGHTSHIFT_GIT_TOKEN=it's"],
        '--agent-setting takes NAME=VALUE',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await install(['--root', root, ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toContain(`install.sh: ${message}`);
    }
    await expect(stat(join(root, 'opt'))).rejects.toThrow();
  });

  it('says to build first when there is no bundle', async () => {
    const root = await tempDir('nightshift-root-nobundle-');
    const empty = join(root, 'empty');
    await mkdir(empty);
    const result = await exec('bash', [
      INSTALLER,
      '--bundle',
      empty,
      '--root',
      root,
      '--project',
      'my-project-1',
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(result.stderr).toContain('run npm run build in the repository first');
  });

  it('runs from the bundle itself, as the VM startup script runs it', async () => {
    const root = await tempDir('nightshift-root-bundle-');
    const copy = join(root, 'unzipped');
    await mkdir(join(copy, 'runner'), { recursive: true });
    await mkdir(join(copy, 'systemd'), { recursive: true });
    for (const file of [
      'main.js',
      'package.json',
      'package-lock.json',
      'install.sh',
      'runner/runner.mjs',
      'runner/render.mjs',
      'systemd/workers.nft',
      ...UNITS.map((u) => `systemd/${u}`),
    ]) {
      await copyFile(join(built.agent.dir, file), join(copy, file));
    }
    const result = await exec('bash', [
      join(copy, 'install.sh'),
      '--root',
      root,
      '--project',
      'my-project-1',
    ]).catch((error: { code: number; stderr: string }) => error);
    expect((result as { stderr: string }).stderr).toBe('');
    expect(await readFile(join(root, 'opt/nightshift/agent/main.js'), 'utf8')).toBe(
      await readFile(join(copy, 'main.js'), 'utf8'),
    );
  });

  describeUnless(
    process.getuid?.() === 0 &&
      !missingTool('useradd', ['--help'], 'no users') &&
      !missingTool('runuser', ['--help'], 'no users')
      ? null
      : 'not root, or no useradd/runuser: the installed modes were not tried with two real users',
    'with --owners: two real users, who may read and write what',
    () => {
      const id = randomBytes(3).toString('hex');
      const agent = `nsa-${id}`;
      const worker = `nsw-${id}`;
      let root: string;
      const undo: (() => Promise<unknown>)[] = [];
      afterAll(async () => {
        for (const step of undo.reverse()) await step().catch(() => {});
      });

      /** argv as `user` under the units' umask 0007; its stdout, or the error. */
      const as = (user: string, argv: string[]) =>
        exec('runuser', ['-u', user, '--', 'sh', '-c', 'umask 0007 && exec "$@"', 'sh', ...argv]).then(
          (r) => r.stdout,
        );

      beforeAll(async () => {
        // Undone last first: the agent's user, then the worker's (its group goes with it).
        undo.push(() => exec('groupdel', [worker]));
        undo.push(() => exec('userdel', [worker]));
        await exec('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--user-group', worker]);
        undo.push(() => exec('userdel', [agent]));
        await exec('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--user-group', agent]);
        await exec('usermod', ['--append', '--groups', worker, agent]);
        root = await tempDir('nightshift-root-owners-');
        undo.push(() => exec('rm', ['-rf', root]));
        await chmod(root, 0o755);
        const result = await install([
          '--root',
          root,
          '--owners',
          `${agent}:${worker}`,
          '--project',
          'my-project-1',
          '--credential-file',
          credential,
        ]);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
      });

      it("keeps the agent's settings, home and state from the worker user, and the credential from both", async () => {
        const agentEnv = join(root, 'etc/nightshift/agent.env');
        const workersEnv = join(root, 'etc/nightshift/workers.env');
        const state = join(root, 'var/lib/nightshift');
        expect(await as(agent, ['cat', agentEnv])).toContain('GOOGLE_CLOUD_PROJECT=my-project-1');
        await expect(as(worker, ['cat', agentEnv])).rejects.toThrow(/Permission denied/);
        for (const user of [agent, worker])
          await expect(as(user, ['cat', workersEnv])).rejects.toThrow(/Permission denied/);
        await expect(as(worker, ['ls', state])).rejects.toThrow(/Permission denied/);
        await expect(as(worker, ['cat', join(root, 'home', agent, '.gitconfig')])).rejects.toThrow(
          /Permission denied/,
        );
        await expect(as(agent, ['ls', join(root, 'home', worker)])).rejects.toThrow(/Permission denied/);
      });

      it('lets both users make and change files in a run directory and a workspace', async () => {
        for (const sub of ['runs', 'workspaces']) {
          const dir = join(root, 'var/lib/nightshift', sub, `made-by-the-agent-${sub}`);
          // The agent makes the folder and a file, the worker reads it and adds its own, and back.
          await as(agent, ['mkdir', dir]);
          await as(agent, ['sh', '-c', `echo agent > ${dir}/launch.json`]);
          expect(await as(worker, ['cat', `${dir}/launch.json`])).toBe('agent\n');
          await as(worker, [
            'sh',
            '-c',
            `echo worker > ${dir}/stream.jsonl && mkdir ${dir}/src && echo w > ${dir}/src/a`,
          ]);
          await as(agent, ['sh', '-c', `echo agent >> ${dir}/stream.jsonl && rm -r ${dir}/src`]);
          expect(await as(worker, ['cat', `${dir}/stream.jsonl`])).toBe('worker\nagent\n');
          // Everything in it is the shared group's, whoever made it.
          const { stdout } = await exec('stat', [
            '-c',
            '%G',
            dir,
            `${dir}/launch.json`,
            `${dir}/stream.jsonl`,
          ]);
          expect(stdout.trim().split('\n')).toEqual([worker, worker, worker]);
        }
      });
    },
  );
});
