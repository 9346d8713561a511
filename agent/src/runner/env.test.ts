// The worker's environment: the runner hands the worker the allow-list and the run's own variables, nothing of the agent.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSeededOrigin } from '@nightshift/shared/dev';
import { tempDir } from '@nightshift/shared/testing';
import { describe, expect, it } from 'vitest';
import { RUNNER_PATH } from '../options.js';
import { FAKE_CLAUDE } from '../testing/harness.js';
import { WORKER_ENV_NAMES, workerEnvOf } from './env.mjs';
import { RUN_FILES } from './files.mjs';

const exec = promisify(execFile);

/** What an agent's environment holds on the VM and locally: none of it may reach a worker. */
const AGENT_ENV = {
  GOOGLE_CLOUD_PROJECT: 'demo-nightshift',
  GOOGLE_APPLICATION_CREDENTIALS: '/home/nightshift/key.json',
  NIGHTSHIFT_HOME: '/var/lib/nightshift',
  NIGHTSHIFT_WORKER_COMMAND: 'claude',
  NIGHTSHIFT_MAX_WORKERS: '2',
  NIGHTSHIFT_AGENT_ID: 'vm-1',
  NIGHTSHIFT_IDLE_MINUTES: '15',
  NIGHTSHIFT_GIT_TOKEN: 'ghp_agent_only',
  COMPUTE_API_URL: 'http://127.0.0.1:8090',
  GCE_METADATA_HOST: '127.0.0.1:8091',
  FIRESTORE_EMULATOR_HOST: '127.0.0.1:8080',
  PUBSUB_EMULATOR_HOST: '127.0.0.1:8085',
  INVOCATION_ID: 'systemd-unit-id',
  JOURNAL_STREAM: '8:12345',
  TMUX: '/run/nightshift/tmux.sock,1234,0',
  TMUX_PANE: '%1',
};

describe('Worker isolation: the environment handed to a worker', () => {
  it('keeps only allowed names from the inherited environment, then the spec adds its own', () => {
    const env = workerEnvOf(
      {
        ...AGENT_ENV,
        PATH: '/usr/bin:/bin',
        HOME: '/home/nightshift-worker',
        CLAUDE_CODE_OAUTH_TOKEN: 'tok',
      },
      { NIGHTSHIFT_RUN_ID: 'run-1', NIGHTSHIFT_RUN_DIR: '/var/lib/nightshift/runs/run-1' },
    );
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/nightshift-worker',
      CLAUDE_CODE_OAUTH_TOKEN: 'tok',
      NIGHTSHIFT_RUN_ID: 'run-1',
      NIGHTSHIFT_RUN_DIR: '/var/lib/nightshift/runs/run-1',
    });
    // No agent name is ever on the list.
    for (const name of Object.keys(AGENT_ENV)) expect(WORKER_ENV_NAMES).not.toContain(name);
    expect(WORKER_ENV_NAMES.filter((n) => /^(NIGHTSHIFT_|GOOGLE_|GCE_|COMPUTE_)/.test(n))).toEqual([]);
  });

  it('the real runner starts the worker with the credential and the run variables, nothing of the agent', async () => {
    const root = await tempDir('nightshift-env-');
    const dir = join(root, 'run');
    const fakeDir = join(root, 'fake');
    await mkdir(dir);
    await mkdir(fakeDir);
    const workspace = join(root, 'ws');
    await exec('git', ['clone', '-q', await createSeededOrigin(root, 'origin'), workspace]);
    const specEnv = { FAKE_CLAUDE_DIR: fakeDir, NIGHTSHIFT_RUN_ID: 'run-env', NIGHTSHIFT_RUN_DIR: dir };
    await writeFile(
      join(dir, RUN_FILES.launch),
      JSON.stringify({
        command: FAKE_CLAUDE,
        args: ['-p', 'hello', '--model', 'sonnet'],
        cwd: workspace,
        env: specEnv,
      }),
    );
    // The runner's environment as a tmux server started by the agent would give it: the agent's all.
    await exec(process.execPath, [RUNNER_PATH, dir], {
      env: {
        ...AGENT_ENV,
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: root,
        LANG: 'C.UTF-8',
        ANTHROPIC_API_KEY: 'sk-test',
      },
    });
    const exit = JSON.parse(await readFile(join(dir, RUN_FILES.exit), 'utf8')) as { code: number };
    const seen = JSON.parse(await readFile(join(fakeDir, 'run-env.env.json'), 'utf8')) as Record<
      string,
      string
    >;
    expect(Object.keys(seen).sort()).toEqual(
      [
        'ANTHROPIC_API_KEY',
        'FAKE_CLAUDE_DIR',
        'HOME',
        'LANG',
        'NIGHTSHIFT_RUN_DIR',
        'NIGHTSHIFT_RUN_ID',
        'PATH',
      ].sort(),
    );
    expect(seen.ANTHROPIC_API_KEY).toBe('sk-test');
    expect(seen.NIGHTSHIFT_RUN_ID).toBe('run-env');
    for (const name of Object.keys(AGENT_ENV)) expect(seen[name]).toBeUndefined();
    expect(exit.code).toBe(0);
  });
});
