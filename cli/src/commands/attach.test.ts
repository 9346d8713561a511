// The attach command for a run: tmux on the local socket, or gcloud over IAP to the VM its agent runs on.
import { describe, expect, it } from 'vitest';
import type { Run, Vm } from '../api.js';
import { isLocalApi, planAttach, shellQuote } from './attach.js';

const running = { id: 'r-1', status: 'running', session: 'blog-r-1', agentId: 'nightshift-worker-1' } as Run;
const vm = (name: string, zone: string, agentId: string | null): Vm =>
  ({ name, zone, agent: agentId ? { id: agentId } : null }) as Vm;

describe('planAttach', () => {
  it('locally: tmux -L on the agent socket name, or -S on a socket path', () => {
    expect(planAttach(running, { via: 'local', vms: [], localSocket: 'nightshift' }).argv).toEqual([
      'tmux',
      '-L',
      'nightshift',
      'attach',
      '-t',
      'blog-r-1',
    ]);
    expect(
      planAttach(running, { via: 'local', vms: [], localSocket: '/run/nightshift/tmux.sock' }).argv,
    ).toEqual(['tmux', '-S', '/run/nightshift/tmux.sock', 'attach', '-t', 'blog-r-1']);
  });

  it("on Google Cloud: gcloud compute ssh over IAP to the run's VM, as the workers' user on their socket", () => {
    const plan = planAttach(running, {
      via: 'gcloud',
      vms: [
        vm('nightshift-worker-2', 'europe-west1-b', 'nightshift-worker-2'),
        vm('nightshift-worker-1', 'us-central1-a', null),
      ],
      localSocket: 'nightshift',
    });
    expect(plan.vm).toEqual({ name: 'nightshift-worker-1', zone: 'us-central1-a' });
    expect(plan.argv.map(shellQuote).join(' ')).toBe(
      'gcloud compute ssh nightshift-worker-1 --zone us-central1-a --tunnel-through-iap -- -t sudo -u nightshift-worker tmux -S /run/nightshift/tmux.sock attach -t blog-r-1',
    );
  });

  it('refuses, saying why, a run without a session, an ended run, and an agent on no known VM', () => {
    const opts = { via: 'gcloud' as const, vms: [], localSocket: 'nightshift' };
    expect(() => planAttach({ ...running, status: 'queued', session: null }, opts)).toThrow(
      'run r-1 has no tmux session yet (queued); try again once it runs',
    );
    expect(() => planAttach({ ...running, status: 'succeeded' }, opts)).toThrow(
      'run r-1 has ended (succeeded); its tmux session is gone',
    );
    expect(() => planAttach(running, opts)).toThrow(
      /held by agent nightshift-worker-1, which is not one of the VMs of GET \/v1\/vms; on its machine: sudo -u nightshift-worker tmux -S \/run\/nightshift\/tmux.sock attach -t blog-r-1/,
    );
  });
});

describe('isLocalApi and shellQuote', () => {
  it('takes a loopback address for the local stack', () => {
    expect(['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080'].map(isLocalApi)).toEqual([
      true,
      true,
      true,
    ]);
    expect(isLocalApi('https://nightshift-api-abc-uc.a.run.app')).toBe(false);
  });

  it('quotes only words a shell would split or read', () => {
    expect(['plain-word_1', 'two words', "it's", ''].map(shellQuote)).toEqual([
      'plain-word_1',
      "'two words'",
      "'it'\\''s'",
      "''",
    ]);
  });
});
