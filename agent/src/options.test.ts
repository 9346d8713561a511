// compileAgentOptions: every option parsed and defaulted in one place.
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { compileAgentOptions, RUNNER_PATH } from './options.js';
import { DEFAULT_TIMINGS } from './timings.js';
import { createTmux } from './tmux.js';
import { AGENT_VERSION } from './version.js';

const clients = { db: {} as Firestore, pubsub: {} as PubSub, tmux: createTmux('ns-options-test') };

describe('Configuration: compiled options', () => {
  it('fills every default once: timings, version, host, runner, worker environment, clock', () => {
    const o = compileAgentOptions({
      agentId: 'vm-1',
      home: '/var/lib/nightshift',
      workerCommand: 'claude',
      capacity: 2,
      timings: { tickMs: 50 },
      ...clients,
    });
    expect(o.timings).toEqual({ ...DEFAULT_TIMINGS, tickMs: 50 });
    expect(o.version).toBe(pkg.version);
    expect(AGENT_VERSION).toBe(pkg.version);
    expect(o.runnerPath).toBe(RUNNER_PATH);
    expect(RUNNER_PATH.endsWith('/agent/src/runner/runner.mjs')).toBe(true);
    expect(o.nodePath).toBe(process.execPath);
    expect(o.workerEnv).toEqual({});
    expect(o.host.length).toBeGreaterThan(0);
    expect(o.clock.now()).toBeInstanceOf(Date);
  });

  it('names each bad setting, the agent id checked by the shared AgentIdSchema', () => {
    let message = '';
    try {
      compileAgentOptions({ agentId: 'x y', home: 'relative', workerCommand: '', capacity: 0, ...clients });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const field of ['agentId', 'home', 'workerCommand', 'capacity']) expect(message).toContain(field);
    expect(message).toContain('expected an agent id');
  });

  it('takes the idle stop settings: the own VM checked by the shared VmRefSchema, Compute as a URL', () => {
    const base = {
      agentId: 'vm-1',
      home: '/var/lib/nightshift',
      workerCommand: 'claude',
      capacity: 2,
      ...clients,
    };
    const o = compileAgentOptions({
      ...base,
      projectId: 'my-project',
      vm: { zone: 'us-central1-a', name: 'nightshift-worker-1' },
      computeApiUrl: 'http://127.0.0.1:8090',
      timings: { idleStopMs: 0 },
    });
    expect(o).toMatchObject({
      projectId: 'my-project',
      vm: { zone: 'us-central1-a' },
      computeApiUrl: 'http://127.0.0.1:8090',
    });
    expect(o.timings.idleStopMs).toBe(0);
    expect(DEFAULT_TIMINGS.idleStopMs).toBe(15 * 60_000);
    let message = '';
    try {
      compileAgentOptions({ ...base, vm: { zone: 'nowhere', name: 'Bad_Name' }, computeApiUrl: 'ftp://x' });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const field of ['vm.zone', 'vm.name', 'computeApiUrl']) expect(message).toContain(field);
  });
});
