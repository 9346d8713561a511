// Configuration: the agent's environment variables, parsed once with every problem named.
import { ConfigError } from '@nightshift/shared';
import { describe, expect, it } from 'vitest';
import { gitEnvironment, loadConfig } from './config.js';

describe('Configuration', () => {
  it('reads the agent variables with their defaults', () => {
    const config = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'my-project',
      NIGHTSHIFT_HOME: '/var/lib/nightshift',
      NIGHTSHIFT_AGENT_ID: 'vm-1',
    });
    expect(config).toEqual({
      projectId: 'my-project',
      home: '/var/lib/nightshift',
      tmuxSocket: 'nightshift',
      workerCommand: 'claude',
      maxWorkers: 2,
      agentId: 'vm-1',
      idleMinutes: 15,
      vm: undefined,
      computeApiUrl: undefined,
      metadataHost: undefined,
      onEmulators: false,
      logFormat: 'json',
      git: {
        token: undefined,
        username: 'x-access-token',
        tokens: undefined,
        app: undefined,
        apiUrl: 'https://api.github.com',
      },
      secretManagerUrl: undefined,
    });
    expect(
      loadConfig({
        ...{ GOOGLE_CLOUD_PROJECT: 'my-project', NIGHTSHIFT_HOME: '/h' },
        NIGHTSHIFT_LOG_FORMAT: 'pretty',
      }).logFormat,
    ).toBe('pretty');
  });

  it('reads the idle stop: minutes (0 is off, fractions allowed), the own VM, Compute and metadata hosts', () => {
    const base = { GOOGLE_CLOUD_PROJECT: 'my-project', NIGHTSHIFT_HOME: '/var/lib/nightshift' };
    const config = loadConfig({
      ...base,
      NIGHTSHIFT_IDLE_MINUTES: '0.05',
      NIGHTSHIFT_VM: 'local-dev1-a/nightshift-local',
      COMPUTE_API_URL: 'http://127.0.0.1:8090',
      GCE_METADATA_HOST: '127.0.0.1:8091',
    });
    expect(config).toMatchObject({
      idleMinutes: 0.05,
      vm: { zone: 'local-dev1-a', name: 'nightshift-local' },
      computeApiUrl: 'http://127.0.0.1:8090',
      metadataHost: '127.0.0.1:8091',
      onEmulators: false,
    });
    expect(loadConfig({ ...base, NIGHTSHIFT_IDLE_MINUTES: '0' }).idleMinutes).toBe(0);
    // An agent on the emulators never asks the metadata server which VM to stop.
    expect(loadConfig({ ...base, FIRESTORE_EMULATOR_HOST: '127.0.0.1:8081' }).onEmulators).toBe(true);
  });

  it('reads the git credentials: values or sm:// references, never parsed into the open', () => {
    const base = { GOOGLE_CLOUD_PROJECT: 'my-project', NIGHTSHIFT_HOME: '/var/lib/nightshift' };
    const config = loadConfig({
      ...base,
      NIGHTSHIFT_GIT_TOKEN: 'sm://nightshift-git-token',
      NIGHTSHIFT_GIT_USERNAME: 'oauth2',
      NIGHTSHIFT_GIT_TOKENS: '{"acme":"t1"}',
      GITHUB_APP_ID: '12345',
      GITHUB_APP_PRIVATE_KEY: 'sm://projects/keys/secrets/app-key/versions/2',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3',
      SECRET_MANAGER_API_URL: 'http://127.0.0.1:8092',
    });
    expect(config.git).toEqual({
      token: {
        kind: 'secret-manager',
        version: 'projects/my-project/secrets/nightshift-git-token/versions/latest',
      },
      username: 'oauth2',
      tokens: { kind: 'value', value: '{"acme":"t1"}' },
      app: {
        id: '12345',
        privateKey: { kind: 'secret-manager', version: 'projects/keys/secrets/app-key/versions/2' },
      },
      apiUrl: 'https://ghe.example.com/api/v3',
    });
    expect(config.secretManagerUrl).toBe('http://127.0.0.1:8092');
  });

  it('names bad git credentials without echoing a secret', () => {
    let error: unknown;
    try {
      loadConfig({
        GOOGLE_CLOUD_PROJECT: 'my-project',
        NIGHTSHIFT_HOME: '/x',
        NIGHTSHIFT_GIT_TOKENS: '{"acme": 123456789}',
        NIGHTSHIFT_GIT_TOKEN: 'sm://bad/ref',
        GITHUB_APP_PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----secretbits',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^NIGHTSHIFT_GIT_TOKENS: is not a map of credential names .*wrong at: acme/m);
    expect(problems).toMatch(/^NIGHTSHIFT_GIT_TOKEN: expected a value, or sm:\/\/SECRET/m);
    expect(problems).toMatch(/^GITHUB_APP_ID: expected it to be set with GITHUB_APP_PRIVATE_KEY/m);
    expect(problems).not.toMatch(/123456789|secretbits/);
  });

  it('keeps the secrets out of the environment of its git commands', () => {
    const env = gitEnvironment({
      PATH: '/usr/bin',
      NIGHTSHIFT_GIT_TOKEN: 't',
      NIGHTSHIFT_GIT_TOKENS: '{}',
      GITHUB_APP_PRIVATE_KEY: 'k',
      NIGHTSHIFT_GIT_AUTH_PASSWORD: 'p',
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
      GIT_SSH_COMMAND: 'ssh',
    });
  });

  it('names a bad idle time and a bad own VM', () => {
    let error: unknown;
    try {
      loadConfig({
        GOOGLE_CLOUD_PROJECT: 'my-project',
        NIGHTSHIFT_HOME: '/x',
        NIGHTSHIFT_IDLE_MINUTES: 'soon',
        NIGHTSHIFT_VM: 'nightshift-local',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^NIGHTSHIFT_IDLE_MINUTES: expected minutes .*; got "soon"/m);
    expect(problems).toMatch(/^NIGHTSHIFT_VM: expected zone\/name .*; got "nightshift-local"/m);
  });

  it('names every bad or missing variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ NIGHTSHIFT_HOME: 'relative', NIGHTSHIFT_MAX_WORKERS: 'lots' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^GOOGLE_CLOUD_PROJECT: expected it to be set/m);
    expect(problems).toMatch(/^NIGHTSHIFT_HOME: expected an absolute path; got "relative"/m);
    expect(problems).toMatch(/^NIGHTSHIFT_MAX_WORKERS: .*got "lots"/m);
  });

  it("reads the workers' tmux socket: a name (tmux -L, the default) or an absolute path (tmux -S, the VM)", () => {
    const base = { GOOGLE_CLOUD_PROJECT: 'my-project', NIGHTSHIFT_HOME: '/var/lib/nightshift' };
    expect(loadConfig({ ...base, NIGHTSHIFT_TMUX_SOCKET: '/run/nightshift/tmux.sock' }).tmuxSocket).toBe(
      '/run/nightshift/tmux.sock',
    );
    expect(() => loadConfig({ ...base, NIGHTSHIFT_TMUX_SOCKET: 'run/nightshift' })).toThrow(
      /NIGHTSHIFT_TMUX_SOCKET: expected a socket name or an absolute path/,
    );
  });
});
