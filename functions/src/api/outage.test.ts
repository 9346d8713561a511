// The API with Firestore unreachable: its client talks through a proxy the test black-holes; answers stay bounded.
import {
  createFirestoreVia,
  describeEmulators,
  startTcpProxy,
  type TcpProxy,
  type TestEnv,
  useTestEnv,
  waitFor,
} from '@nightshift/shared/testing';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { FIRESTORE_DEADLINE_MS, RETRY_AFTER_SECONDS } from '../timings.js';
import { startApi, type TestApi, workerBody } from './testing.js';

/** A loaded machine (others run tests at once) may be late to fire a timer; never late by this much. */
const SLACK_MS = 5_000;

describeEmulators('API answers: Firestore unreachable', () => {
  let env: TestEnv;
  let proxy: TcpProxy;
  let api: TestApi;

  beforeAll(async () => {
    env = await useTestEnv();
    const emulator = process.env.FIRESTORE_EMULATOR_HOST;
    if (!emulator) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
    proxy = await startTcpProxy(emulator);
    // The real deadline (createDeps's own); the client redials within a second of restore().
    api = await startApi(env.projectId, {
      createFirestore: (projectId) =>
        createFirestoreVia(proxy.host, projectId, {
          'grpc.initial_reconnect_backoff_ms': 200,
          'grpc.max_reconnect_backoff_ms': 1_000,
        }),
    });
  });
  // A failed test must not leave the next one cut off.
  afterEach(() => proxy.restore());
  afterAll(async () => {
    proxy.restore();
    await api.close();
    await proxy.close();
  });

  it(
    'GET /v1/runs/:id and POST /v1/runs answer 503 with Retry-After within the deadline while Firestore is black-holed, and a retry with the same Idempotency-Key gets its run after',
    async () => {
      // Through the proxy while it forwards: the channel is open and the worker and a run exist.
      expect((await api.call('POST', '/v1/workers', workerBody('w1'))).status).toBe(201);
      const created = await api.call('POST', '/v1/runs', { workerId: 'w1' });
      expect(created.status).toBe(202);
      const { id: runId } = (await created.json()) as { id: string };
      expect(proxy.forwarding).toBeGreaterThan(0);

      proxy.cut('blackhole');
      const timed = async (name: string, request: () => Promise<Response>) => {
        const started = Date.now();
        const res = await request();
        return { name, res, ms: Date.now() - started, body: await res.text() };
      };
      const answers = await Promise.all([
        timed('GET /v1/runs/:id', () => api.call('GET', `/v1/runs/${runId}`)),
        timed('POST /v1/runs', () => api.call('POST', '/v1/runs', { workerId: 'w1' })),
        timed('POST /v1/runs with Idempotency-Key', () =>
          api.call('POST', '/v1/runs', { workerId: 'w1' }, { 'idempotency-key': 'outage-1' }),
        ),
      ]);
      for (const { name, res, ms, body } of answers) {
        expect(res.status, `${name}: ${body}`).toBe(503);
        expect(res.headers.get('retry-after'), name).toBe(String(RETRY_AFTER_SECONDS));
        expect(res.headers.get('content-type'), name).toBe('application/problem+json');
        expect(ms, name).toBeGreaterThanOrEqual(FIRESTORE_DEADLINE_MS - 50);
        expect(ms, name).toBeLessThan(FIRESTORE_DEADLINE_MS + SLACK_MS);
      }
      expect(proxy.blackholed).toBeGreaterThan(0);

      // Firestore is back: the retry the 503 invites gets a run, and reads answer again.
      proxy.restore();
      const retried = await waitFor('the retry to be accepted', async () => {
        const res = await api.call('POST', '/v1/runs', { workerId: 'w1' }, { 'idempotency-key': 'outage-1' });
        return res.status === 202 ? ((await res.json()) as { id: string; status: string }) : undefined;
      });
      expect(retried.status).toBe('queued');
      const again = await api.call('POST', '/v1/runs', { workerId: 'w1' }, { 'idempotency-key': 'outage-1' });
      expect(((await again.json()) as { id: string }).id).toBe(retried.id);
      expect((await api.call('GET', `/v1/runs/${runId}`)).status).toBe(200);
    },
    FIRESTORE_DEADLINE_MS + 30_000,
  );
});
