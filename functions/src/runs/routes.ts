// /v1/runs: start, list, get, events, cancel.
import { createRoute } from '@hono/zod-openapi';
import { RUN_STATUSES, RunIdSchema, SlugSchema } from '@nightshift/shared';
import * as z from 'zod';
import type { Deps } from '../core/deps.js';
import { notFound } from '../core/errors.js';
import {
  BODY_PROBLEMS,
  COMMON_PROBLEMS,
  json,
  Named,
  newRouter,
  problems,
  secured,
} from '../core/openapi.js';
import { cancelRun } from './cancel.js';
import { DEFAULT_PAGE_SIZE, listRuns, MAX_PAGE_SIZE } from './list.js';
import { createRun } from './service.js';

const tags = ['runs'];
const IdParams = z.object({ id: RunIdSchema });

export const RunPageSchema = z.object({
  runs: z.array(Named.Run),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});
export const RunEventListSchema = z.object({ events: z.array(Named.RunEvent) });
export const CancelResultSchema = z.object({
  run: Named.Run,
  action: z
    .enum(['cancelled', 'cancel_requested'])
    .describe('cancelled: the queued run was cancelled now; cancel_requested: its agent will stop it'),
});

const ListQuery = z.object({
  workerId: SlugSchema.optional(),
  status: z.enum(RUN_STATUSES, { message: `expected one of ${RUN_STATUSES.join(', ')}` }).optional(),
  limit: z.coerce
    .number({ message: `expected a whole number from 1 to ${MAX_PAGE_SIZE}` })
    .int({ message: `expected a whole number from 1 to ${MAX_PAGE_SIZE}` })
    .min(1, { message: `expected a whole number from 1 to ${MAX_PAGE_SIZE}` })
    .max(MAX_PAGE_SIZE, { message: `expected a whole number from 1 to ${MAX_PAGE_SIZE}` })
    .default(DEFAULT_PAGE_SIZE),
  cursor: z.string().min(1).max(1000).optional(),
});

const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('Retries with the same key and body return the same run; another body is 409'),
});

const create = createRoute({
  method: 'post',
  path: '/v1/runs',
  operationId: 'startRun',
  tags,
  summary: 'Start a run',
  description:
    'Writes the run as queued and publishes run.start. If the publish fails or times out, the run stays ' +
    'queued with a note and the answer is still 202: the scheduler tick publishes run.start again for a ' +
    'run left queued, and a second delivery is harmless.',
  security: secured,
  request: {
    headers: IdempotencyHeaders,
    body: { ...json(Named.CreateRun, 'Which worker, and overrides of its defaults'), required: true },
  },
  responses: {
    202: json(Named.Run, 'The queued run (or, on a retry with the same Idempotency-Key, the earlier run)'),
    ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 503),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/runs',
  operationId: 'listRuns',
  tags,
  summary: 'List runs, newest first',
  security: secured,
  request: { query: ListQuery },
  responses: { 200: json(RunPageSchema, 'One page of runs'), ...problems(...COMMON_PROBLEMS, 400) },
});

const get = createRoute({
  method: 'get',
  path: '/v1/runs/{id}',
  operationId: 'getRun',
  tags,
  summary: 'Get a run',
  security: secured,
  request: { params: IdParams },
  responses: { 200: json(Named.Run, 'The run'), ...problems(...COMMON_PROBLEMS, 400, 404) },
});

const events = createRoute({
  method: 'get',
  path: '/v1/runs/{id}/events',
  operationId: 'listRunEvents',
  tags,
  summary: "A run's history, oldest first",
  security: secured,
  request: { params: IdParams },
  responses: { 200: json(RunEventListSchema, 'The events'), ...problems(...COMMON_PROBLEMS, 400, 404) },
});

const cancel = createRoute({
  method: 'post',
  path: '/v1/runs/{id}/cancel',
  operationId: 'cancelRun',
  tags,
  summary: 'Cancel a run',
  description:
    'A queued run is cancelled at once; a starting or running run gets a cancel request that its agent ' +
    'acts on. A finished run is 409. The body is optional.',
  security: secured,
  request: { params: IdParams, body: { ...json(Named.CancelRun, 'Why'), required: false } },
  responses: {
    202: json(CancelResultSchema, 'What happened'),
    ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409),
  },
});

/** Events of one run come back in one answer; a run has a few dozen. */
const MAX_EVENTS = 1000;

export function runRoutes(deps: Deps) {
  const app = newRouter();

  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    // A fixed key order, so a retry whose JSON lists the same fields in another order is the same request.
    const overrides = {
      prompt: body.prompt,
      model: body.model,
      maxTurns: body.maxTurns,
      maxBudgetUsd: body.maxBudgetUsd,
    };
    const { run, created } = await createRun(deps, {
      workerId: body.workerId,
      trigger: idempotencyKey === undefined ? { type: 'api' } : { type: 'api', idempotencyKey },
      overrides,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    if (!created) c.header('Idempotent-Replayed', 'true');
    c.header('Location', `/v1/runs/${run.id}`);
    return c.json(run, 202);
  });

  app.openapi(list, async (c) => c.json(await listRuns(deps, c.req.valid('query')), 200));

  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const run = (await deps.cols.runs.doc(id).get()).data();
    if (!run) throw notFound(`run "${id}" does not exist`);
    return c.json(run, 200);
  });

  app.openapi(events, async (c) => {
    const { id } = c.req.valid('param');
    const [run, snapshot] = await Promise.all([
      deps.cols.runs.doc(id).get(),
      deps.cols.runEvents(id).orderBy('at').limit(MAX_EVENTS).get(),
    ]);
    if (!run.exists) throw notFound(`run "${id}" does not exist`);
    // By time, then id: ids are not always time-sortable (an agent may use deterministic ids).
    const list = snapshot.docs
      .map((d) => d.data())
      .sort((a, b) => (a.at === b.at ? a.id.localeCompare(b.id) : a.at < b.at ? -1 : 1));
    return c.json({ events: list }, 200);
  });

  app.openapi(cancel, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json') ?? {};
    return c.json(await cancelRun(deps, id, body.reason), 202);
  });

  return app;
}
