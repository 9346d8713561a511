// The GitHub App's installations: `installation` and `installation_repositories` webhook events recorded
// as githubInstallations/<id>, and what they say about one repository (is the App there to reach it?).
import {
  type GithubDelivery,
  type GithubInstallation,
  isAlreadyExists,
  type Worker,
} from '@nightshift/shared';
import * as z from 'zod';
import type { Deps } from '../core/deps.js';
import { DELIVERY_TTL_MS } from '../timings.js';

const AccountSchema = z.object({
  // An organization or user has a login; an enterprise (which holds no repositories) a slug.
  login: z.string().min(1).nullish(),
  slug: z.string().min(1).nullish(),
  id: z.number().int(),
  type: z.string().nullish(),
});

const InstallationSchema = z.object({
  id: z.number().int().positive(),
  account: AccountSchema.nullish(),
  repository_selection: z.enum(['all', 'selected']).nullish(),
  permissions: z.record(z.string(), z.string()).nullish(),
  suspended_at: z.string().nullish(),
});

const RepositoryRefSchema = z.object({ full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/) });

export const InstallationPayloadSchema = z.object({
  action: z.string(),
  installation: InstallationSchema,
  /** The selected repositories (`created`, `deleted`, `new_permissions_accepted`); absent on some actions. */
  repositories: z.array(RepositoryRefSchema).nullish(),
});
export type InstallationPayload = z.infer<typeof InstallationPayloadSchema>;

export const InstallationRepositoriesPayloadSchema = z.object({
  action: z.string(),
  installation: InstallationSchema,
  repository_selection: z.enum(['all', 'selected']),
  repositories_added: z.array(RepositoryRefSchema),
  repositories_removed: z.array(RepositoryRefSchema),
});
export type InstallationRepositoriesPayload = z.infer<typeof InstallationRepositoriesPayloadSchema>;

export const INSTALLATION_ACTIONS = [
  'created',
  'deleted',
  'suspend',
  'unsuspend',
  'new_permissions_accepted',
] as const;
export const INSTALLATION_REPOSITORIES_ACTIONS = ['added', 'removed'] as const;

export type InstallationEvent =
  | { event: 'installation'; payload: InstallationPayload }
  | { event: 'installation_repositories'; payload: InstallationRepositoriesPayload };

interface Meta {
  deliveryId: string;
  at: string;
}

const lower = (s: string) => s.toLowerCase();

/** The repositories, each once (GitHub's names ignore case), in the order first seen. */
function unique(repos: string[]): string[] {
  const seen = new Set<string>();
  return repos.filter((r) => !seen.has(lower(r)) && seen.add(lower(r)));
}

/** A record from what the event's installation object says, for an installation not recorded before. */
function fresh(
  installation: InstallationPayload['installation'],
  meta: Meta,
  lastEvent: string,
): GithubInstallation | null {
  const account = installation.account;
  const login = account?.login ?? account?.slug;
  if (!account || !login) return null;
  return {
    installationId: installation.id,
    account: { login, id: account.id, type: account.type ?? 'User' },
    accountKey: lower(login),
    repositorySelection: installation.repository_selection ?? 'selected',
    repositories: [],
    repositoriesComplete: installation.repository_selection === 'all',
    suspended: Boolean(installation.suspended_at),
    deleted: false,
    permissions: installation.permissions ?? {},
    lastEvent,
    lastDeliveryId: meta.deliveryId,
    updatedAt: meta.at,
  };
}

/** What stays true of the installation whatever the event: its current account, selection, permissions. */
function refreshed(
  record: GithubInstallation,
  installation: InstallationPayload['installation'],
): GithubInstallation {
  const login = installation.account?.login ?? installation.account?.slug;
  return {
    ...record,
    ...(installation.account && login
      ? {
          account: {
            login,
            id: installation.account.id,
            type: installation.account.type ?? record.account.type,
          },
          accountKey: lower(login),
        }
      : {}),
    ...(installation.permissions ? { permissions: installation.permissions } : {}),
  };
}

export type Applied =
  | { outcome: 'recorded'; record: GithubInstallation }
  | { outcome: 'ignored'; reason: string };

/**
 * The installation's record after one event (pure). An installation id is never reused after the App is
 * uninstalled (installing again makes a new one), so once deleted a record takes no later event: a late
 * or out-of-order delivery cannot bring an uninstalled App back.
 */
export function applyInstallationEvent(
  current: GithubInstallation | undefined,
  change: InstallationEvent,
  meta: Meta,
): Applied {
  const { installation, action } = change.payload;
  const lastEvent = `${change.event}.${action}`;
  const known = change.event === 'installation' ? INSTALLATION_ACTIONS : INSTALLATION_REPOSITORIES_ACTIONS;
  if (!(known as readonly string[]).includes(action)) {
    return { outcome: 'ignored', reason: `${change.event} action "${action}" changes no repository access` };
  }
  if (current?.deleted) {
    return {
      outcome: 'ignored',
      reason: `installation ${installation.id} was uninstalled (${current.lastEvent}); it takes no later event`,
    };
  }
  const base = current ? refreshed(current, installation) : fresh(installation, meta, lastEvent);
  if (base === null) {
    return {
      outcome: 'ignored',
      reason: `installation ${installation.id} is not recorded and the event names no account to record it under`,
    };
  }
  const stamp = { lastEvent, lastDeliveryId: meta.deliveryId, updatedAt: meta.at };

  if (change.event === 'installation') {
    const payload = change.payload;
    const selection = installation.repository_selection ?? base.repositorySelection;
    const listed = payload.repositories?.map((r) => r.full_name);
    switch (payload.action) {
      case 'deleted':
        return {
          outcome: 'recorded',
          record: { ...base, ...stamp, deleted: true, repositories: [], repositoriesComplete: true },
        };
      case 'suspend':
        return { outcome: 'recorded', record: { ...base, ...stamp, suspended: true } };
      case 'unsuspend':
        return { outcome: 'recorded', record: { ...base, ...stamp, suspended: false } };
      default: {
        // created, new_permissions_accepted: the installation as it is now. `repositories` is the whole
        // selection when GitHub sends it; for `all` every repository of the account is covered anyway.
        const repositories = selection === 'all' ? [] : listed ? unique(listed) : base.repositories;
        const complete =
          selection === 'all' ||
          listed !== undefined ||
          (base.repositorySelection === 'selected' && base.repositoriesComplete);
        return {
          outcome: 'recorded',
          record: {
            ...base,
            ...stamp,
            repositorySelection: selection,
            repositories,
            repositoriesComplete: complete,
            ...(payload.action === 'created' ? { suspended: Boolean(installation.suspended_at) } : {}),
          },
        };
      }
    }
  }

  const payload = change.payload;
  const selection = payload.repository_selection;
  if (selection === 'all') {
    return {
      outcome: 'recorded',
      record: { ...base, ...stamp, repositorySelection: 'all', repositories: [], repositoriesComplete: true },
    };
  }
  const removed = new Set(payload.repositories_removed.map((r) => lower(r.full_name)));
  const added = payload.repositories_added.map((r) => r.full_name);
  // From `all` to `selected`, GitHub names what it removed, not what stays: the list is partial.
  const switched = base.repositorySelection === 'all';
  const before = switched ? [] : base.repositories;
  return {
    outcome: 'recorded',
    record: {
      ...base,
      ...stamp,
      repositorySelection: 'selected',
      repositories: unique([...before, ...added]).filter((r) => !removed.has(lower(r))),
      repositoriesComplete: switched ? false : current !== undefined && base.repositoriesComplete,
    },
  };
}

export type RecordOutcome =
  | { duplicate: true }
  | { duplicate: false; applied: Applied; installationId: number };

/**
 * Records one installation event, once per delivery id: the delivery's githubDeliveries record and the
 * installation's new state are written in one transaction, so a redelivery (the same X-GitHub-Delivery)
 * changes nothing, and two events of one installation at once are applied one after the other.
 */
export async function recordInstallationEvent(
  deps: Deps,
  change: InstallationEvent,
  deliveryId: string,
): Promise<RecordOutcome> {
  const installationId = change.payload.installation.id;
  const deliveryRef = deps.cols.githubDeliveries.doc(deliveryId);
  const installationRef = deps.cols.githubInstallations.doc(String(installationId));
  const now = deps.now();
  const meta = { deliveryId, at: now.toISOString() };
  try {
    return await deps.db.runTransaction(async (tx) => {
      if ((await tx.get(deliveryRef)).exists) return { duplicate: true } as const;
      let current: GithubInstallation | undefined;
      const snapshot = await tx.get(installationRef);
      try {
        current = snapshot.data();
      } catch (error) {
        // Rebuilt from the event rather than left broken: the event says what GitHub knows now.
        deps.log.error('githubInstallations document does not match its schema; rebuilding it', {
          path: installationRef.path,
          error: (error as Error).message,
        });
      }
      const applied = applyInstallationEvent(current, change, meta);
      if (applied.outcome === 'recorded') tx.set(installationRef, applied.record);
      const delivery: GithubDelivery = {
        deliveryId,
        event: change.event,
        action: change.payload.action,
        installationId,
        receivedAt: meta.at,
        handledAt: meta.at,
        expiresAt: new Date(now.getTime() + DELIVERY_TTL_MS),
        runIds: [],
      };
      tx.create(deliveryRef, delivery);
      return { duplicate: false, applied, installationId } as const;
    });
  } catch (error) {
    // The same delivery landed in another transaction between this one's read and commit.
    if (isAlreadyExists(error)) return { duplicate: true };
    throw error;
  }
}

/** Whether the GitHub App reaches a repository, by the recorded installations. */
export const APP_REACH = ['installed', 'suspended', 'not_installed', 'unknown', 'not_configured'] as const;
export type AppReachStatus = (typeof APP_REACH)[number];

export interface AppReach {
  status: AppReachStatus;
  /** The repository this is about, `owner/name`. */
  repo: string;
  installationId?: number;
  /** Why, in a sentence. */
  reason: string;
}

const covers = (record: GithubInstallation, repo: string) =>
  record.repositorySelection === 'all' || record.repositories.some((r) => lower(r) === lower(repo));

/** What the installations recorded for the repository's owner say about the repository (pure). */
export function reachOf(records: GithubInstallation[], repo: string): AppReach {
  const owner = lower(repo.split('/')[0] ?? '');
  const mine = records.filter((r) => r.accountKey === owner);
  const live = mine.filter((r) => !r.deleted);
  const covering = live.filter((r) => covers(r, repo));
  const active = covering.find((r) => !r.suspended);
  if (active) {
    return {
      status: 'installed',
      repo,
      installationId: active.installationId,
      reason:
        active.repositorySelection === 'all'
          ? `installed on every repository of ${active.account.login}`
          : `installed on ${repo}`,
    };
  }
  const suspended = covering[0];
  if (suspended) {
    return {
      status: 'suspended',
      repo,
      installationId: suspended.installationId,
      reason: `the installation on ${suspended.account.login} is suspended: unsuspend it in the App's settings`,
    };
  }
  const partial = live.find((r) => !r.repositoriesComplete);
  if (partial) {
    return {
      status: 'unknown',
      repo,
      installationId: partial.installationId,
      reason: `the installation on ${partial.account.login} was first seen by a change to its repositories, so nightshift knows only part of its selection`,
    };
  }
  if (live.length > 0) {
    return {
      status: 'not_installed',
      repo,
      reason: `the App is installed on ${live[0]?.account.login} but not on ${repo}: add the repository to the installation`,
    };
  }
  if (mine.length > 0) {
    return {
      status: 'not_installed',
      repo,
      reason: `the App was uninstalled from ${mine[0]?.account.login}: install it on ${repo}`,
    };
  }
  return {
    status: 'unknown',
    repo,
    reason: `no installation event for ${repo.split('/')[0]} reached nightshift: the App is not installed there, or was installed before its webhook pointed at nightshift (then change the installation's repositories once to tell it)`,
  };
}

/** The web host of GitHub for an API root: api.github.com is github.com; GitHub Enterprise serves both. */
export function githubHostOf(apiUrl: string | undefined): string {
  if (!apiUrl) return 'github.com';
  try {
    const host = new URL(apiUrl).host.toLowerCase();
    return host === 'api.github.com' ? 'github.com' : host;
  } catch {
    return 'github.com';
  }
}

/** `owner/name` of a git URL on the GitHub host (https, ssh, scp-like), or null for any other URL. */
export function githubRepoOfUrl(url: string, host: string): string | null {
  const match =
    /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url) ??
    /^[^@/]+@([^:/]+):\/?([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
  if (!match || lower(match[1] ?? '') !== host) return null;
  return `${match[2]}/${match[3]}`;
}

/** The GitHub repositories a worker needs the App on: its checkout's, and its issue binding's. */
export function githubReposOf(worker: Worker, host: string): string[] {
  const repos: string[] = [];
  const cloned = worker.repo ? githubRepoOfUrl(worker.repo.url, host) : null;
  if (cloned) repos.push(cloned);
  if (worker.github) repos.push(worker.github.repo);
  return unique(repos);
}

/** Worst first: the status a worker shows when its repositories differ. */
const SEVERITY: AppReachStatus[] = ['not_installed', 'suspended', 'unknown', 'installed'];

/**
 * Whether the App reaches the worker's GitHub repositories (its checkout, its issue binding), the least
 * reachable one named; null for a worker with none on GitHub. Reads the owners' installation records.
 */
export async function workerReach(
  deps: Deps,
  worker: Worker,
  options: { appConfigured: boolean; host: string },
): Promise<AppReach | null> {
  const repos = githubReposOf(worker, options.host);
  const first = repos[0];
  if (first === undefined) return null;
  if (!options.appConfigured) {
    return {
      status: 'not_configured',
      repo: first,
      reason: 'no GitHub App is configured (GITHUB_APP_ID): nightshift uses GITHUB_TOKEN, if set',
    };
  }
  const owners = unique(repos.map((r) => lower(r.split('/')[0] ?? '')));
  const records: GithubInstallation[] = [];
  for (const owner of owners) {
    const snapshot = await deps.cols.githubInstallations.where('accountKey', '==', owner).get();
    for (const doc of snapshot.docs) {
      try {
        records.push(doc.data());
      } catch (error) {
        deps.log.error('skipping a githubInstallations document that does not match its schema', {
          path: doc.ref.path,
          error: (error as Error).message,
        });
      }
    }
  }
  const reaches = repos.map((repo) => reachOf(records, repo));
  reaches.sort((a, b) => SEVERITY.indexOf(a.status) - SEVERITY.indexOf(b.status));
  return reaches[0] ?? null;
}
