// Configuration: the agent's environment variables, parsed once with every problem named.
import { ConfigError } from '@nightshift/shared';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

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
    });
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
