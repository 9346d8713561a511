// The CLI's tests' world: the local stack (functions, one agent with the stand-in worker, a Compute stand-in for GET /v1/vms) on the test emulators, and the built binary.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  buildCli,
  type ComputeStandin,
  freePort,
  type Stack,
  startComputeStandin,
  startStack,
  writeStandinWorker,
} from '@nightshift/shared/dev';
import { emulators, onFileEnd, tempDir, testProjectId } from '@nightshift/shared/testing';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The agent's id; its VM (RUNNING) on the Compute stand-in has the same name, as on Google Cloud. */
export const AGENT_VM = { zone: 'local-dev1-a', name: 'cli-test-agent', machineType: 'e2-medium' } as const;
/** A second worker VM, stopped, with no agent. */
export const SPARE_VM = { zone: 'local-dev1-b', name: 'cli-test-spare', machineType: 'e2-small' } as const;

export interface CliStack {
  stack: Stack;
  /** The Compute stand-in the functions read the VMs from (NIGHTSHIFT_VMS: AGENT_VM, SPARE_VM). */
  compute: ComputeStandin;
  url: string;
  token: string;
  /** The folder of the agent's tmux socket (TMUX_TMPDIR), so it is apart from any other on this machine. */
  tmuxDir: string;
  /** The environment the binary runs in: the stack's address and token, UTC, a config folder of its own. */
  env: Record<string, string>;
  /** Runs dist's nightshift.mjs with plain node. */
  cli(
    args: string[],
    options?: { env?: Record<string, string | undefined>; input?: string },
  ): Promise<CliResult>;
  /** The same on a terminal (util-linux `script` gives it one): what it wrote to it is in stdout. */
  cliOnTty(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** What the stack's children printed lately, for a failing test's message. */
  logs(): string;
}

/** Starts the stack and builds the binary; both are stopped and removed after the test file. */
export async function startCliStack(): Promise<CliStack> {
  if (!emulators) throw new Error('startCliStack needs the emulators: call it inside describeEmulators');
  const root = await tempDir('nightshift-cli-');
  const tmuxDir = join(root, 'tmux');
  const projectId = testProjectId();
  await mkdir(tmuxDir);
  const [bin, workerCommand, port, compute] = await Promise.all([
    buildCli(join(root, 'dist')).then((info) => join(info.dir, 'nightshift.mjs')),
    writeStandinWorker(root),
    freePort(),
    startComputeStandin({
      project: projectId,
      instances: [
        { ...AGENT_VM, status: 'RUNNING' },
        { ...SPARE_VM, status: 'TERMINATED' },
      ],
    }),
  ]);
  onFileEnd(() => compute.close());
  let logs = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs = (logs + chunk.toString()).slice(-20_000);
      done();
    },
  });
  const stack = await startStack({
    emulators,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GOOGLE_CLOUD_PROJECT: projectId,
      PORT: String(port),
      NIGHTSHIFT_HOME: join(root, 'home'),
      NIGHTSHIFT_WORKER_COMMAND: workerCommand,
      NIGHTSHIFT_MAX_WORKERS: '2',
      NIGHTSHIFT_AGENT_ID: AGENT_VM.name,
      // The agent's VM is not its to stop here (no NIGHTSHIFT_VM): only the functions read Compute.
      NIGHTSHIFT_VMS: [AGENT_VM, SPARE_VM].map((vm) => `${vm.zone}/${vm.name}`).join(','),
      COMPUTE_API_URL: compute.url,
      NIGHTSHIFT_LOG_FORMAT: 'json',
      TMUX_TMPDIR: tmuxDir,
    },
    out: sink,
    err: sink,
  });
  onFileEnd(async () => {
    await stack.stop();
    await new Promise((done) =>
      execFile(
        'tmux',
        ['-L', 'nightshift', 'kill-server'],
        { env: { ...process.env, TMUX_TMPDIR: tmuxDir } },
        () => done(undefined),
      ),
    );
  });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(root, 'user'),
    XDG_CONFIG_HOME: join(root, 'config'),
    NIGHTSHIFT_URL: stack.url,
    NIGHTSHIFT_TOKEN: stack.token,
    TMUX_TMPDIR: tmuxDir,
    TZ: 'UTC',
  };
  const cli: CliStack['cli'] = (args, options = {}) =>
    new Promise((done) => {
      const childEnv = Object.fromEntries(
        Object.entries({ ...env, ...options.env }).filter(([, v]) => v !== undefined),
      ) as Record<string, string>;
      const child = execFile(
        process.execPath,
        [bin, ...args],
        { env: childEnv, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          done({ code, stdout, stderr });
        },
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
  const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
  const cliOnTty: CliStack['cliOnTty'] = (args, extra = {}) =>
    new Promise((done) => {
      const command = [process.execPath, bin, ...args].map(quote).join(' ');
      execFile(
        'script',
        ['-qec', command, '/dev/null'],
        { env: { ...env, TERM: 'xterm-256color', ...extra }, timeout: 120_000 },
        (error, stdout, stderr) => {
          done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
        },
      );
    });
  return {
    stack,
    compute,
    url: stack.url,
    token: stack.token,
    tmuxDir,
    env,
    cli,
    cliOnTty,
    logs: () => logs,
  };
}
