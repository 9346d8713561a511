// /v1/workers: create, list, get, patch, delete.
import { createRoute } from '@hono/zod-openapi';
import { SlugSchema } from '@nightshift/shared';
import * as z from 'zod';
import type { Deps } from '../core/deps.js';
import {
  BODY_PROBLEMS,
  COMMON_PROBLEMS,
  json,
  Named,
  newRouter,
  problems,
  secured,
} from '../core/openapi.js';
import { APP_REACH } from '../github/installations.js';
import { DaySpendSchema } from './budget.js';
import {
  createWorker,
  deleteWorker,
  getWorkerWithReach,
  listWorkers,
  patchWorker,
  type WorkerReachOptions,
} from './service.js';

const tags = ['workers'];
const IdParams = z.object({ id: SlugSchema });
export const WorkerListSchema = z.object({ workers: z.array(Named.Worker) });

/** Whether the GitHub App reaches the worker's GitHub repository, from the recorded installations. */
export const WorkerGithubAppSchema = z
  .object({
    status: z.enum(APP_REACH).openapi({
      description:
        '`installed`: an installation covers the repository; `suspended`: it does but is suspended; ' +
        '`not_installed`: the owner has an installation (or had one) that does not cover it; `unknown`: ' +
        'no installation event for the owner reached nightshift, or only part of its selection did; ' +
        '`not_configured`: no GitHub App is configured (GITHUB_APP_ID), GITHUB_TOKEN is used if set.',
    }),
    repo: z.string().openapi({
      description:
        'The repository this is about, `owner/name`: of the checkout (`repo.url`) or the issue binding ' +
        '(`github.repo`), whichever the App reaches least',
    }),
    installationId: z.number().int().optional(),
    reason: z.string(),
  })
  .openapi('WorkerGithubApp');

export const WorkerWithReachSchema = z
  .intersection(
    Named.Worker,
    z.object({
      githubApp: WorkerGithubAppSchema.optional().openapi({
        description: 'Present when the worker has a repository on GitHub (its checkout or its issue binding)',
      }),
      // Lazy, like core/openapi.ts `named`: budget.ts may build its schema before zod has `.openapi()`.
      today: z
        .lazy(() => DaySpendSchema)
        .openapi('WorkerDaySpend', {
          description:
            "The worker's day (its schedule's time zone, else UTC): runs created and their cost since its " +
            "midnight, and what `budget` leaves (null where it sets no limit). A subscription run's cost is " +
            'the API-equivalent estimate Claude Code reports.',
        }),
      lastSlot: z
        .object({
          slot: z.string(),
          outcome: z.enum(['queued', 'skipped']),
          runId: z.string(),
          reason: z.string().nullable(),
          at: z.string(),
        })
        .nullable()
        .openapi('WorkerLastSlot', {
          description:
            'The last slot of its schedule the scheduler decided: `queued` (its run is `runId`), or `skipped` ' +
            'with the reason (a run still active with `onBusy: skip`, or a run that would wait for its budget or ' +
            "the account's usage limit past the next slot: no run is made). Null before the first slot.",
        }),
    }),
  )
  .openapi('WorkerWithGithubApp');

const create = createRoute({
  method: 'post',
  path: '/v1/workers',
  operationId: 'createWorker',
  tags,
  summary: 'Create a worker',
  security: secured,
  request: {
    body: { ...json(Named.WorkerSpec, 'The worker; omitted fields take their defaults'), required: true },
  },
  responses: {
    201: json(Named.Worker, 'The stored worker'),
    ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 409),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/workers',
  operationId: 'listWorkers',
  tags,
  summary: 'List workers, by id',
  security: secured,
  responses: { 200: json(WorkerListSchema, 'Every worker'), ...problems(...COMMON_PROBLEMS) },
});

const get = createRoute({
  method: 'get',
  path: '/v1/workers/{id}',
  operationId: 'getWorker',
  tags,
  summary: 'Get a worker',
  security: secured,
  description:
    'The worker, and with `githubApp` whether the GitHub App reaches its GitHub repository (by the ' +
    'installation events the webhook recorded).',
  request: { params: IdParams },
  responses: {
    200: json(WorkerWithReachSchema, 'The worker'),
    ...problems(...COMMON_PROBLEMS, 400, 404),
  },
});

const patch = createRoute({
  method: 'patch',
  path: '/v1/workers/{id}',
  operationId: 'updateWorker',
  tags,
  summary: 'Change a worker',
  description: 'Any field but the id; `null` removes an optional field. The result is validated as a whole.',
  security: secured,
  request: {
    params: IdParams,
    body: { ...json(Named.WorkerPatch, 'The fields to change'), required: true },
  },
  responses: {
    200: json(Named.Worker, 'The updated worker'),
    ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/workers/{id}',
  operationId: 'deleteWorker',
  tags,
  summary: 'Delete a worker',
  description: 'Refused (409) while the worker has a queued, starting or running run. Its runs are kept.',
  security: secured,
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted' }, ...problems(...COMMON_PROBLEMS, 400, 404, 409) },
});

export function workerRoutes(deps: Deps, reach: WorkerReachOptions = { githubAppConfigured: false }) {
  const app = newRouter();
  app.openapi(create, async (c) => c.json(await createWorker(deps, c.req.valid('json')), 201));
  app.openapi(list, async (c) => c.json({ workers: await listWorkers(deps) }, 200));
  app.openapi(get, async (c) => c.json(await getWorkerWithReach(deps, c.req.valid('param').id, reach), 200));
  app.openapi(patch, async (c) =>
    c.json(await patchWorker(deps, c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(remove, async (c) => {
    await deleteWorker(deps, c.req.valid('param').id);
    return c.body(null, 204);
  });
  return app;
}
