// Installations: the App's installation and installation_repositories events (the documented payloads,
// re-signed) recorded in githubInstallations, once per delivery; and what the records say about a repository.
import { COLLECTIONS, type GithubInstallation, WorkerSchema } from '@nightshift/shared';
import { webhookExample as example } from '@nightshift/shared/dev';
import { describeEmulators, type TestEnv, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createGithubApp } from './app.js';
import {
  applyInstallationEvent,
  githubHostOf,
  githubRepoOfUrl,
  githubReposOf,
  type InstallationEvent,
  reachOf,
} from './installations.js';
import { deliver, SECRET } from './testing.js';

const NOW = new Date('2026-11-24T05:00:00.000Z');
const INSTALLATION = 957387; // installation.created and installation_repositories.added of the examples

describeEmulators('Installations: the webhook records them', () => {
  let env: TestEnv;
  let log: ReturnType<typeof memoryLogger>;
  let deps: ReturnType<typeof createDeps>;

  beforeAll(async () => {
    env = await useTestEnv();
  });

  beforeEach(async () => {
    await env.reset();
    log = memoryLogger();
    deps = createDeps({ projectId: env.projectId, log, now: () => NOW });
    return () => deps.close();
  });

  const app = () => createGithubApp(deps, { webhookSecret: SECRET });
  const record = async (id = INSTALLATION) =>
    (await env.cols.githubInstallations.doc(String(id)).get()).data();
  const send = (event: string, payload: unknown, deliveryId?: string) =>
    deliver(app(), { event, payload, ...(deliveryId ? { deliveryId } : {}) });

  it('installation.created records the account and its selected repositories', async () => {
    const res = await send('installation', example('installation', 'created'), 'i-1');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      event: 'installation',
      action: 'created',
      installation: { installationId: INSTALLATION },
    });
    expect(await record()).toEqual({
      installationId: INSTALLATION,
      account: { login: 'Codertocat', id: 21031067, type: 'User' },
      accountKey: 'codertocat',
      repositorySelection: 'selected',
      repositories: ['Codertocat/Hello-World'],
      repositoriesComplete: true,
      suspended: false,
      deleted: false,
      permissions: expect.objectContaining({ contents: 'write', issues: 'write', metadata: 'read' }),
      lastEvent: 'installation.created',
      lastDeliveryId: 'i-1',
      updatedAt: NOW.toISOString(),
    });
    const delivery = (await env.db.collection(COLLECTIONS.githubDeliveries).doc('i-1').get()).data();
    expect(delivery).toMatchObject({
      event: 'installation',
      action: 'created',
      installationId: INSTALLATION,
    });
  });

  it('installation_repositories added and removed change the selection; a redelivery changes nothing', async () => {
    await send('installation', example('installation', 'created'));
    const added = await send(
      'installation_repositories',
      example('installation_repositories', 'added'),
      'r-1',
    );
    expect(added.status).toBe(200);
    expect((await record())?.repositories).toEqual(['Codertocat/Hello-World', 'Codertocat/Space']);

    const removed = example('installation_repositories', 'removed');
    removed.installation.id = INSTALLATION;
    removed.repositories_removed = [{ id: 1, name: 'Space', full_name: 'codertocat/space', private: true }];
    await send('installation_repositories', removed, 'r-2');
    expect((await record())?.repositories).toEqual(['Codertocat/Hello-World']);

    // GitHub redelivers r-1 (same X-GitHub-Delivery): a duplicate, so Space stays removed.
    const again = await send(
      'installation_repositories',
      example('installation_repositories', 'added'),
      'r-1',
    );
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ duplicate: true, deliveryId: 'r-1' });
    expect((await record())?.repositories).toEqual(['Codertocat/Hello-World']);
    expect((await record())?.lastDeliveryId).toBe('r-2');
  });

  it('the same delivery arriving twice at once is applied once', async () => {
    const payload = example('installation_repositories', 'added');
    const answers = await Promise.all([
      send('installation_repositories', payload, 'same'),
      send('installation_repositories', payload, 'same'),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const bodies = await Promise.all(answers.map((a) => a.json() as Promise<{ duplicate?: boolean }>));
    expect(bodies.filter((b) => b.duplicate === true)).toHaveLength(1);
    // First seen by a change: recorded, but the list is known to be partial.
    expect(await record()).toMatchObject({ repositories: ['Codertocat/Space'], repositoriesComplete: false });
  });

  it('repository_selection "all" covers the whole account', async () => {
    await send('installation', example('installation', 'created'));
    const all = example('installation_repositories', 'added');
    all.repository_selection = 'all';
    all.installation.repository_selection = 'all';
    await send('installation_repositories', all);
    expect(await record()).toMatchObject({
      repositorySelection: 'all',
      repositories: [],
      repositoriesComplete: true,
    });
  });

  it('suspend, unsuspend and new_permissions_accepted update the record; deleted is final', async () => {
    const suspend = example('installation', 'suspend'); // installation 16598467, all repositories
    await send('installation', suspend);
    expect(await record(16598467)).toMatchObject({ suspended: true, repositorySelection: 'all' });
    await send('installation', example('installation', 'unsuspend'));
    expect(await record(16598467)).toMatchObject({ suspended: false, lastEvent: 'installation.unsuspend' });
    const permissions = example('installation', 'new_permissions_accepted');
    permissions.installation.id = 16598467;
    permissions.installation.permissions = { ...permissions.installation.permissions, checks: 'read' };
    await send('installation', permissions);
    expect((await record(16598467))?.permissions.checks).toBe('read');

    const deleted = example('installation', 'deleted');
    deleted.installation.id = 16598467;
    await send('installation', deleted);
    expect(await record(16598467)).toMatchObject({ deleted: true, repositories: [] });
    // A late event for the uninstalled installation cannot bring it back.
    const late = await send('installation', example('installation', 'unsuspend'));
    expect(await late.json()).toMatchObject({ ignored: true });
    expect(await record(16598467)).toMatchObject({ deleted: true, lastEvent: 'installation.deleted' });
  });

  it('ignores actions that change no access, and refuses a payload without the fields it reads', async () => {
    const other = example('installation', 'created');
    other.action = 'something_new';
    const res = await send('installation', other);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ignored: true });
    expect(await record()).toBeUndefined();

    const broken = example('installation', 'created');
    delete broken.installation.id;
    const bad = await send('installation', broken);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('installation.id');
    expect((await env.db.collection(COLLECTIONS.githubDeliveries).get()).size).toBe(1); // the ignored one
  });

  it('rebuilds a corrupt record from the event, and says so in the log', async () => {
    await env.db.collection(COLLECTIONS.githubInstallations).doc(String(INSTALLATION)).set({ junk: true });
    await send('installation', example('installation', 'created'));
    expect((await record())?.repositories).toEqual(['Codertocat/Hello-World']);
    expect(log.entries.some((e) => e.severity === 'ERROR' && e.message.includes('githubInstallations'))).toBe(
      true,
    );
  });
});

describe('Installations: records after events (pure)', () => {
  const meta = { deliveryId: 'd', at: NOW.toISOString() };
  const created = (): InstallationEvent => ({
    event: 'installation',
    payload: example('installation', 'created') as never,
  });
  const repos = (payload: Record<string, unknown>): InstallationEvent => ({
    event: 'installation_repositories',
    payload: payload as never,
  });
  const recorded = (applied: ReturnType<typeof applyInstallationEvent>): GithubInstallation => {
    if (applied.outcome !== 'recorded') throw new Error(applied.reason);
    return applied.record;
  };

  it('a switch from all to selected leaves a partial list, which reads as unknown, not as not installed', () => {
    const all = example('installation', 'created');
    all.installation.repository_selection = 'all';
    const start = recorded(
      applyInstallationEvent(undefined, { event: 'installation', payload: all as never }, meta),
    );
    expect(reachOf([start], 'Codertocat/Anything').status).toBe('installed');
    const removed = example('installation_repositories', 'removed');
    removed.installation.id = INSTALLATION;
    removed.repository_selection = 'selected';
    removed.repositories_removed = [{ full_name: 'Codertocat/Gone' }];
    const next = recorded(applyInstallationEvent(start, repos(removed), meta));
    expect(next).toMatchObject({
      repositorySelection: 'selected',
      repositories: [],
      repositoriesComplete: false,
    });
    expect(reachOf([next], 'Codertocat/Hello-World').status).toBe('unknown');
  });

  it('reads each repository once whatever its case', () => {
    const start = recorded(applyInstallationEvent(undefined, created(), meta));
    const added = example('installation_repositories', 'added');
    added.repositories_added = [{ full_name: 'codertocat/hello-world' }, { full_name: 'Codertocat/Space' }];
    expect(recorded(applyInstallationEvent(start, repos(added), meta)).repositories).toEqual([
      'Codertocat/Hello-World',
      'Codertocat/Space',
    ]);
  });

  it('reachOf: installed, suspended, not installed, uninstalled, unknown', () => {
    const start = recorded(applyInstallationEvent(undefined, created(), meta));
    expect(reachOf([start], 'codertocat/HELLO-world')).toMatchObject({
      status: 'installed',
      installationId: INSTALLATION,
    });
    expect(reachOf([{ ...start, suspended: true }], 'Codertocat/Hello-World').status).toBe('suspended');
    expect(reachOf([start], 'Codertocat/Other')).toMatchObject({
      status: 'not_installed',
      reason: expect.stringContaining('add the repository'),
    });
    expect(reachOf([{ ...start, deleted: true }], 'Codertocat/Hello-World')).toMatchObject({
      status: 'not_installed',
      reason: expect.stringContaining('uninstalled'),
    });
    expect(reachOf([start], 'someone/else').status).toBe('unknown');
    // A suspended installation and a live one of the same account: the live one reaches it.
    const second = { ...start, installationId: 5, suspended: false };
    expect(reachOf([{ ...start, suspended: true }, second], 'Codertocat/Hello-World')).toMatchObject({
      status: 'installed',
      installationId: 5,
    });
  });

  it('finds a worker repository on GitHub (or GitHub Enterprise) from its URL, and its issue binding', () => {
    expect(githubHostOf(undefined)).toBe('github.com');
    expect(githubHostOf('https://api.github.com')).toBe('github.com');
    expect(githubHostOf('https://ghe.example.com/api/v3')).toBe('ghe.example.com');
    for (const url of [
      'https://github.com/Codertocat/Hello-World.git',
      'https://github.com/Codertocat/Hello-World',
      'https://x-access-token@github.com/Codertocat/Hello-World.git',
      'git@github.com:Codertocat/Hello-World.git',
      'ssh://git@github.com/Codertocat/Hello-World.git',
    ]) {
      expect(githubRepoOfUrl(url, 'github.com'), url).toBe('Codertocat/Hello-World');
    }
    expect(githubRepoOfUrl('https://gitlab.com/a/b.git', 'github.com')).toBeNull();
    expect(githubRepoOfUrl('/srv/git/b.git', 'github.com')).toBeNull();
    expect(githubRepoOfUrl('https://ghe.example.com/a/b.git', 'ghe.example.com')).toBe('a/b');
    const worker = WorkerSchema.parse({
      id: 'w',
      repo: { url: 'https://github.com/Codertocat/Hello-World.git' },
      github: { repo: 'codertocat/hello-world' },
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    });
    expect(githubReposOf(worker, 'github.com')).toEqual(['Codertocat/Hello-World']);
    expect(
      githubReposOf({ ...worker, github: { ...worker.github!, repo: 'Codertocat/Docs' } }, 'github.com'),
    ).toEqual(['Codertocat/Hello-World', 'Codertocat/Docs']);
  });
});
