// /v1/notifications: sinks (create, list, get, patch, delete) and the daily digest's time.
import { createRoute } from '@hono/zod-openapi';
import {
  DigestSettingsSchema,
  DigestSettingsSpecSchema,
  NotificationSinkIdSchema,
  NotificationSinkPatchSchema,
  NotificationSinkSpecSchema,
  NotificationSinkViewSchema,
} from '@nightshift/shared';
import * as z from 'zod';
import type { Deps } from '../core/deps.js';
import { notFound } from '../core/errors.js';
import {
  BODY_PROBLEMS,
  COMMON_PROBLEMS,
  json,
  named,
  newRouter,
  problems,
  secured,
} from '../core/openapi.js';
import {
  createSink,
  deleteSink,
  getDigestSettings,
  listSinks,
  loadSink,
  patchSink,
  putDigestSettings,
  viewOf,
} from './sinks.js';
import type { UrlPolicy } from './url-safety.js';

const tags = ['notifications'];
const Sink = named('NotificationSink', NotificationSinkViewSchema);
const SinkSpec = named('NotificationSinkSpec', NotificationSinkSpecSchema);
const SinkPatch = named('NotificationSinkPatch', NotificationSinkPatchSchema);
const Digest = named('DigestSettings', DigestSettingsSchema);
const DigestSpec = named('DigestSettingsSpec', DigestSettingsSpecSchema);
const CreatedSink = z
  .intersection(
    Sink,
    z.object({
      secret: z.string().openapi({
        description:
          "The HMAC-SHA256 key of this sink's `json` bodies. Shown only in this answer: keep it now.",
      }),
    }),
  )
  .openapi('CreatedNotificationSink');
const IdParams = z.object({ id: NotificationSinkIdSchema });

const URL_RULES =
  'The URL must be https and its host must not be, or resolve to, a private, loopback, link-local, CGNAT, ' +
  'IPv6 unique-local or metadata address (checked again at each send); redirects are never followed. ' +
  'A refused URL is a 400 naming `url` and why.';

const create = createRoute({
  method: 'post',
  path: '/v1/notifications',
  operationId: 'createNotificationSink',
  tags,
  summary: 'Create a notification sink',
  description: `${URL_RULES} The answer carries the sink's signing secret, once.`,
  security: secured,
  request: { body: { ...json(SinkSpec, 'The sink'), required: true } },
  responses: {
    201: json(CreatedSink, 'The stored sink, with its secret'),
    ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/notifications',
  operationId: 'listNotificationSinks',
  tags,
  summary: 'List notification sinks, oldest first',
  security: secured,
  responses: {
    200: json(z.object({ sinks: z.array(Sink) }), 'Every sink, without secrets'),
    ...problems(...COMMON_PROBLEMS),
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/notifications/{id}',
  operationId: 'getNotificationSink',
  tags,
  summary: 'Get a notification sink and its last delivery',
  security: secured,
  request: { params: IdParams },
  responses: { 200: json(Sink, 'The sink, without its secret'), ...problems(...COMMON_PROBLEMS, 400, 404) },
});

const patch = createRoute({
  method: 'patch',
  path: '/v1/notifications/{id}',
  operationId: 'updateNotificationSink',
  tags,
  summary: 'Change a notification sink',
  description: `Any field but the id and secret. ${URL_RULES}`,
  security: secured,
  request: { params: IdParams, body: { ...json(SinkPatch, 'The fields to change'), required: true } },
  responses: {
    200: json(Sink, 'The updated sink'),
    ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/notifications/{id}',
  operationId: 'deleteNotificationSink',
  tags,
  summary: 'Delete a notification sink',
  security: secured,
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted' }, ...problems(...COMMON_PROBLEMS, 400, 404) },
});

const getDigest = createRoute({
  method: 'get',
  path: '/v1/notifications/digest',
  operationId: 'getDigestSettings',
  tags,
  summary: 'When the daily digest is sent',
  security: secured,
  responses: { 200: json(Digest, 'The digest setting'), ...problems(...COMMON_PROBLEMS, 404) },
});

const putDigest = createRoute({
  method: 'put',
  path: '/v1/notifications/digest',
  operationId: 'putDigestSettings',
  tags,
  summary: 'Set the daily digest time and time zone',
  description:
    "The scheduler tick sends the digest (the last 24 hours per worker, and the month's spend) to every " +
    'sink that wants `digest`, once per day in `timeZone`, at the first tick at or after `time`.',
  security: secured,
  request: { body: { ...json(DigestSpec, 'The digest setting'), required: true } },
  responses: { 200: json(Digest, 'The stored setting'), ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS) },
});

export function notificationRoutes(deps: Deps, policy: UrlPolicy) {
  const app = newRouter();
  // The digest's routes before /{id}: the first match wins.
  app.openapi(getDigest, async (c) => {
    const settings = await getDigestSettings(deps);
    if (!settings) throw notFound('no digest is set: PUT /v1/notifications/digest sets one');
    return c.json(settings, 200);
  });
  app.openapi(putDigest, async (c) => c.json(await putDigestSettings(deps, c.req.valid('json')), 200));
  app.openapi(create, async (c) => c.json(await createSink(deps, c.req.valid('json'), policy), 201));
  app.openapi(list, async (c) => c.json({ sinks: await listSinks(deps) }, 200));
  app.openapi(get, async (c) => c.json(viewOf(await loadSink(deps, c.req.valid('param').id)), 200));
  app.openapi(patch, async (c) =>
    c.json(await patchSink(deps, c.req.valid('param').id, c.req.valid('json'), policy), 200),
  );
  app.openapi(remove, async (c) => {
    await deleteSink(deps, c.req.valid('param').id);
    return c.body(null, 204);
  });
  return app;
}
