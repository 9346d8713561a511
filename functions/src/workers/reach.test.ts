// GET /v1/workers/:id's githubApp: whether the GitHub App reaches the worker's repository, from the
// installations the webhook recorded (real installation deliveries, real HTTP, the emulators).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { WorkerSchema } from '@nightshift/shared';
import { webhookExample as example } from '@nightshift/shared/dev';
import { describeEmulators, onFileEnd, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { createApiApp } from '../api/app.js';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createGithubApp } from '../github/app.js';
import { deliver, SECRET } from '../github/testing.js';
import type { WorkerReachOptions } from './service.js';

const NOW = new Date('2026-11-24T05:00:00.000Z');
const TOKEN = 'test-token-0123456789abcdef';

describeEmulators('Installations: githubApp of GET /v1/workers/:id', () => {
  let env: TestEnv;
  let deps: ReturnType<typeof createDeps>;

  beforeAll(async () => {
    env = await useTestEnv();
  });

  beforeEach(async () => {
    await env.reset();
    deps = createDeps({ projectId: env.projectId, log: memoryLogger(), now: () => NOW });
    return () => deps.close();
  });

  /** The api on a real port with the given GitHub options; resolves to a GET of one worker. */
  async function api(github?: WorkerReachOptions) {
    const app = createApiApp(deps, { tokens: [TOKEN], ...(github ? { github } : {}) });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    onFileEnd(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      get: async (id: string) => {
        const res = await fetch(`${url}/v1/workers/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(res.status).toBe(200);
        return (await res.json()) as Record<string, unknown> & { githubApp?: Record<string, unknown> };
      },
      doc: async () => (await fetch(`${url}/openapi.json`)).json() as Promise<unknown>,
    };
  }

  async function addWorker(id: string, fields: Record<string, unknown>) {
    await env.cols.workers
      .doc(id)
      .set(WorkerSchema.parse({ id, createdAt: NOW.toISOString(), updatedAt: NOW.toISOString(), ...fields }));
  }
  const webhook = (event: string, payload: unknown) =>
    deliver(createGithubApp(deps, { webhookSecret: SECRET }), { event, payload });
  const onGithub = (repo: string) => ({ repo: { url: `https://github.com/${repo}.git` } });

  it('follows the installation events: unknown, installed, suspended, not installed, uninstalled', async () => {
    const { get } = await api({ githubAppConfigured: true });
    await addWorker('hello', onGithub('Codertocat/Hello-World'));
    await addWorker('space', { ...onGithub('Codertocat/Space'), github: { repo: 'Codertocat/Space' } });

    expect((await get('hello')).githubApp).toMatchObject({
      status: 'unknown',
      repo: 'Codertocat/Hello-World',
    });

    expect((await webhook('installation', example('installation', 'created'))).status).toBe(200);
    const hello = await get('hello');
    expect(hello.githubApp).toEqual({
      status: 'installed',
      repo: 'Codertocat/Hello-World',
      installationId: 957387,
      reason: 'installed on Codertocat/Hello-World',
    });
    // The worker itself is all there beside it.
    expect(WorkerSchema.parse(hello).id).toBe('hello');
    expect((await get('space')).githubApp).toMatchObject({
      status: 'not_installed',
      repo: 'Codertocat/Space',
    });

    await webhook('installation_repositories', example('installation_repositories', 'added'));
    expect((await get('space')).githubApp).toMatchObject({ status: 'installed', installationId: 957387 });

    const suspend = example('installation', 'suspend');
    suspend.installation.id = 957387;
    suspend.installation.repository_selection = 'selected';
    await webhook('installation', suspend);
    expect((await get('hello')).githubApp).toMatchObject({ status: 'suspended', installationId: 957387 });

    const deleted = example('installation', 'deleted');
    deleted.installation.id = 957387;
    deleted.installation.account = example('installation', 'created').installation.account;
    await webhook('installation', deleted);
    expect((await get('hello')).githubApp).toMatchObject({
      status: 'not_installed',
      reason: expect.stringContaining('uninstalled'),
    });
  });

  it('covers every repository of an account with repository_selection "all"', async () => {
    const { get } = await api({ githubAppConfigured: true });
    await addWorker('any', onGithub('codertocat/anything-at-all'));
    const all = example('installation', 'created');
    all.installation.repository_selection = 'all';
    await webhook('installation', all);
    expect((await get('any')).githubApp).toMatchObject({ status: 'installed', installationId: 957387 });
  });

  it('names the least reachable of the checkout and the issue binding', async () => {
    const { get } = await api({ githubAppConfigured: true });
    await webhook('installation', example('installation', 'created'));
    await addWorker('split', {
      ...onGithub('Codertocat/Hello-World'),
      github: { repo: 'Codertocat/Issues' },
    });
    expect((await get('split')).githubApp).toMatchObject({
      status: 'not_installed',
      repo: 'Codertocat/Issues',
    });
  });

  it('says not_configured without an App, and nothing for a worker with no GitHub repository', async () => {
    const { get } = await api();
    await addWorker('hello', onGithub('Codertocat/Hello-World'));
    await addWorker('local', { workdir: '/srv/local' });
    await addWorker('gitlab', { repo: { url: 'https://gitlab.com/Codertocat/Hello-World.git' } });
    expect((await get('hello')).githubApp).toMatchObject({ status: 'not_configured' });
    expect(await get('local')).not.toHaveProperty('githubApp');
    expect(await get('gitlab')).not.toHaveProperty('githubApp');
  });

  it('reads a GitHub Enterprise repository by the host of GITHUB_API_URL', async () => {
    const { get } = await api({ githubAppConfigured: true, githubApiUrl: 'https://ghe.example.com/api/v3' });
    await addWorker('ghe', { repo: { url: 'git@ghe.example.com:Codertocat/Hello-World.git' } });
    await addWorker('dotcom', onGithub('Codertocat/Hello-World'));
    await webhook('installation', example('installation', 'created'));
    expect((await get('ghe')).githubApp).toMatchObject({ status: 'installed' });
    expect(await get('dotcom')).not.toHaveProperty('githubApp');
  });

  it('documents githubApp in the OpenAPI response of GET /v1/workers/{id}', async () => {
    const doc = (await (await api()).doc()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>
      >;
      components: { schemas: Record<string, unknown> };
    };
    const schema = doc.paths['/v1/workers/{id}']?.get?.responses['200']?.content['application/json']?.schema;
    expect(schema).toEqual({ $ref: '#/components/schemas/WorkerWithGithubApp' });
    expect(JSON.stringify(doc.components.schemas.WorkerWithGithubApp)).toContain(
      '#/components/schemas/Worker"',
    );
    expect(doc.components.schemas.WorkerGithubApp).toMatchObject({
      properties: {
        status: { enum: ['installed', 'suspended', 'not_installed', 'unknown', 'not_configured'] },
      },
      required: expect.arrayContaining(['status', 'repo', 'reason']),
    });
  });
});
