// The agent's VM: found through a metadata server (a local one speaking Google's format) and stopped through the Compute stand-in.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startComputeStandin } from '@nightshift/shared/dev';
import { describe, expect, it } from 'vitest';
import { findOwnVm, ownVm } from './vm.js';

async function metadataServer(values: Record<string, string>) {
  const seen: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    seen.push(req.headers['metadata-flavor'] as string | undefined);
    const value = values[(req.url ?? '').replace('/computeMetadata/v1/', '')];
    // The real server refuses requests without the header, as a guard against SSRF.
    if (req.headers['metadata-flavor'] !== 'Google' || value === undefined) {
      res.writeHead(req.headers['metadata-flavor'] !== 'Google' ? 403 : 404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/text', 'metadata-flavor': 'Google' });
    res.end(value);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('Idle stop: the own VM', () => {
  it('reads its name and zone from the metadata server', async () => {
    const metadata = await metadataServer({
      'instance/name': 'nightshift-worker-1',
      'instance/zone': 'projects/123456789/zones/europe-west1-b',
    });
    try {
      expect(await findOwnVm({ metadataHost: metadata.host, timeoutMs: 2_000 })).toEqual({
        name: 'nightshift-worker-1',
        zone: 'europe-west1-b',
      });
      expect(metadata.seen.every((h) => h === 'Google')).toBe(true);
    } finally {
      await metadata.close();
    }
  });

  it('is the configured one when set, and none where there is no metadata server', async () => {
    const configured = { zone: 'local-dev1-a', name: 'nightshift-local' };
    expect(await findOwnVm({ configured, timeoutMs: 500 })).toEqual(configured);
    // A closed port: nothing answers, as off Google Cloud.
    expect(await findOwnVm({ metadataHost: '127.0.0.1:9', timeoutMs: 500 })).toBeNull();
  });

  it('stops itself through Compute, and says in plain words when it may not', async () => {
    const standin = await startComputeStandin({
      project: 'proj-1',
      instances: [{ zone: 'local-dev1-a', name: 'nightshift-local', status: 'RUNNING' }],
      stoppingMs: 20,
    });
    try {
      const vm = ownVm(
        { zone: 'local-dev1-a', name: 'nightshift-local' },
        { projectId: 'proj-1', apiUrl: standin.url, timeoutMs: 5_000 },
      );
      standin.failNext({
        action: 'stop',
        code: 403,
        message: "Required 'compute.instances.stop' permission",
        reason: 'forbidden',
      });
      await expect(vm.stop('req-0')).rejects.toThrow(
        "permission denied (the VM's service account needs compute.instances.stop on itself)",
      );
      expect(await vm.stop('req-1')).toMatch(/^operation-/);
      expect(standin.instance('nightshift-local')?.status).toBe('STOPPING');
      expect(standin.requests.filter((r) => r.action === 'stop').map((r) => r.requestId)).toEqual([
        'req-0',
        'req-1',
      ]);
    } finally {
      await standin.close();
    }
  });
});
