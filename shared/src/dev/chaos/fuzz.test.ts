// The fuzz generator: deterministic for a seed, and covering what the bad-input scenario promises.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { API_KINDS, apiRequest, ISSUE_BASE, operationsOf, sign, webhookDelivery } from './fuzz.js';

/** A small OpenAPI document of the same shape as the API's: a path parameter, a query, a body with a $ref. */
const DOC = {
  paths: {
    '/v1/runs': {
      post: {
        requestBody: {
          content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateRun' } } },
        },
      },
      get: {
        parameters: [{ in: 'query', name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 100 } }],
      },
    },
    '/v1/runs/{id}': { get: { parameters: [{ in: 'path', name: 'id', schema: { type: 'string' } }] } },
  },
  components: {
    schemas: {
      CreateRun: {
        type: 'object',
        properties: {
          workerId: { type: 'string' },
          prompt: { type: 'string' },
          maxTurns: { type: 'integer' },
        },
        required: ['workerId'],
      },
    },
  },
};
/** A digest of a request or delivery: comparing megabyte bodies field by field is slow. */
const digest = (r: { headers: Record<string, string>; body?: Buffer }) =>
  createHash('sha256')
    .update(JSON.stringify({ ...r, body: undefined }))
    .update(r.body ?? '')
    .digest('hex');
const KNOWN = {
  token: 'ns_test',
  runWorkers: ['w1', 'w2'],
  patchWorker: 'p1',
  runId: 'r-1',
  repoUrl: '/tmp/origin.git',
};

describe('apiRequest', () => {
  it('is the same request for the same seed and index, and others for other seeds', () => {
    const a = Array.from({ length: 200 }, (_, i) => digest(apiRequest(DOC, KNOWN, 1, i)));
    const b = Array.from({ length: 200 }, (_, i) => digest(apiRequest(DOC, KNOWN, 1, i)));
    const c = Array.from({ length: 200 }, (_, i) => digest(apiRequest(DOC, KNOWN, 2, i)));
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it('uses every mutation and every operation over a few thousand requests', () => {
    const reqs = Array.from({ length: 3_000 }, (_, i) => apiRequest(DOC, KNOWN, 1, i));
    expect(new Set(reqs.map((r) => r.kind))).toEqual(new Set(API_KINDS));
    expect(operationsOf(DOC).map((o) => `${o.method} ${o.path}`)).toEqual([
      'GET /v1/runs',
      'POST /v1/runs',
      'GET /v1/runs/{id}',
    ]);
    // Bodies over the API's 1 MiB limit, 10,000-deep nesting, lone surrogates and NULs are among them.
    expect(reqs.some((r) => (r.body?.length ?? 0) > 1024 * 1024)).toBe(true);
    expect(reqs.some((r) => r.body?.toString().includes('['.repeat(10_000)))).toBe(true);
    expect(reqs.some((r) => r.body?.toString().includes('\\ud800'))).toBe(true);
    expect(reqs.some((r) => r.body?.toString().includes('\\u0000'))).toBe(true);
    expect(reqs.some((r) => Object.values(r.headers).some((v) => v.length >= 70_000))).toBe(true);
    expect(reqs.some((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('fills path parameters with known ids unless it plays a path trick', () => {
    const gets = Array.from({ length: 500 }, (_, i) => apiRequest(DOC, KNOWN, 3, i)).filter(
      (r) => r.kind === 'valid' && r.method === 'GET' && r.path.startsWith('/v1/runs/'),
    );
    expect(gets.length).toBeGreaterThan(0);
    expect(gets.every((r) => r.path === '/v1/runs/r-1')).toBe(true);
  });
});

describe('webhookDelivery', () => {
  const target = { secret: 's3cret', repo: 'chaos/hooks', label: 'nightshift' };
  const valid = (d: { body: Buffer; headers: Record<string, string> }) =>
    d.headers['x-hub-signature-256'] ===
    `sha256=${createHmac('sha256', target.secret).update(d.body).digest('hex')}`;

  it('is deterministic, and only the bad-signature kind carries a signature that does not match', () => {
    const a = Array.from({ length: 500 }, (_, i) => webhookDelivery(target, 5, i));
    expect(a.map(digest)).toEqual(
      Array.from({ length: 500 }, (_, i) => digest(webhookDelivery(target, 5, i))),
    );
    const bad = a.filter((d) => d.kind === 'bad-signature');
    expect(bad.length).toBeGreaterThan(100);
    expect(new Set(a.map((d) => d.kind)).size).toBe(5);
    expect(bad.every((d) => !valid(d) && !d.mayQueue)).toBe(true);
    expect(
      bad.every((d) => d.issue >= ISSUE_BASE['bad-signature'] && d.issue < ISSUE_BASE['signed-mangled']),
    ).toBe(true);
    expect(a.filter((d) => d.kind === 'valid').every(valid)).toBe(true);
    expect(a.filter((d) => d.kind === 'signed-mangled').every(valid)).toBe(true);
    expect(sign('k', Buffer.from('x'))).toMatch(/^sha256=[0-9a-f]{64}$/);
  });
});
