// The api function: the HTTP API of DESIGN.md, its OpenAPI document and docs page, on one Hono app.

import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import * as z from 'zod';
import { agentRoutes } from '../agents/routes.js';
import { functionApp } from '../core/app.js';
import { bearerAuth } from '../core/auth.js';
import type { Deps } from '../core/deps.js';
import { BEARER, json, OPEN, PLATFORM_PROBLEMS, SERVERS } from '../core/openapi.js';
import { problem } from '../core/problem.js';
import type { AppEnv } from '../core/request-context.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import { notificationRoutes } from '../notifications/routes.js';
import type { UrlPolicy } from '../notifications/url-safety.js';
import { runRoutes } from '../runs/routes.js';
import { MAX_BODY_BYTES } from '../timings.js';
import { vmRoutes } from '../vms/routes.js';
import { workerRoutes } from '../workers/routes.js';
import type { WorkerReachOptions } from '../workers/service.js';

export interface ApiAppConfig {
  tokens: string[];
  /** The Google Cloud project, for trace links in the request logs. */
  projectId?: string;
  /** Whether a GitHub App is configured, for GET /v1/workers/:id's `githubApp`; default: none. */
  github?: WorkerReachOptions;
  /** What notification URLs may be: default https to public addresses only. */
  notifications?: UrlPolicy;
}

export { MAX_BODY_BYTES };

export const API_VERSION = '1.0.0';

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['meta'],
  summary: 'Liveness; needs no token',
  security: OPEN,
  responses: { 200: json(z.object({ ok: z.literal(true) }), 'The function answers'), ...PLATFORM_PROBLEMS },
});

/**
 * Open routes: /healthz, and the pages that describe the API rather than serve its data: the OpenAPI
 * document and the docs page. The dashboard (/, dashboard/routes.ts) asks for a sign-in itself. The document describes routes and schemas that
 * are public in this repository anyway, holds no data and names no token; a browser cannot send a bearer
 * header when it loads a page, so behind auth the docs page could not load at all. Its "Authorize"
 * button takes a token for the calls it makes. Everything under /v1 needs a token.
 */
export function createApiApp(deps: Deps, config: ApiAppConfig): Hono<AppEnv> {
  const app = functionApp(new OpenAPIHono<AppEnv>(), {
    log: deps.log,
    ...(config.projectId ? { projectId: config.projectId } : {}),
  });

  app.openapi(healthz, (c) => c.json({ ok: true as const }, 200));
  app.route(
    '/',
    dashboardRoutes(deps, { tokens: config.tokens, ...(config.github ? { github: config.github } : {}) }),
  );
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    servers: SERVERS,
    info: {
      title: 'nightshift API',
      version: API_VERSION,
      description:
        'Drive nightshift workers and runs. Every /v1 route needs `Authorization: Bearer <token>`; errors are ' +
        'application/problem+json (RFC 9457) with the zod issue paths in `errors`.',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', BEARER, {
    type: 'http',
    scheme: 'bearer',
    description: 'One of the tokens in NIGHTSHIFT_API_TOKENS',
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    tags: ['meta'],
    summary: 'This document; needs no token',
    security: OPEN,
    responses: { 200: { description: 'The OpenAPI 3.1 document' }, ...PLATFORM_PROBLEMS },
  });

  app.use('/v1/*', bearerAuth(config.tokens));
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => problem(c, 413, `the request body is larger than ${MAX_BODY_BYTES} bytes (1 MiB)`),
    }),
  );
  app.route('/', workerRoutes(deps, config.github));
  app.route('/', runRoutes(deps));
  app.route('/', agentRoutes(deps));
  app.route('/', vmRoutes(deps));
  app.route('/', notificationRoutes(deps, config.notifications ?? { allowLoopback: false }));
  return app;
}
