// RFC 9457 problem responses, the one onError that maps typed errors to them, and 404/405 for unknown routes.
import { fieldIssues, GRPC, PROBLEM_CONTENT_TYPE, type Problem } from '@nightshift/shared';
import type { Context, Env, Hono, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import { HttpError } from './errors.js';
import type { Logger } from './log.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function titleOf(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** A problem+json response. Extension members (e.g. runId) sit beside the standard ones, as RFC 9457 allows. */
export function problemResponse(
  c: Context,
  problem: Problem & Record<string, unknown>,
  headers: Record<string, string> = {},
): Response {
  return c.body(JSON.stringify(problem), problem.status as ContentfulStatusCode, {
    ...headers,
    'Content-Type': PROBLEM_CONTENT_TYPE,
  });
}

export function problem(
  c: Context,
  status: number,
  detail?: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return problemResponse(
    c,
    { type: 'about:blank', title: titleOf(status), status, ...(detail ? { detail } : {}), ...extra },
    headers,
  );
}

/** The onError of every app: typed errors become their problem; anything else is logged and is a bare 500. */
export function errorHandler(log: Logger) {
  return (error: Error, c: Context): Response => {
    if (error instanceof HttpError) {
      const { headers, ...extra } = error.extra;
      return problemResponse(
        c,
        {
          type: 'about:blank',
          title: error.title,
          status: error.status,
          ...(error.detail ? { detail: error.detail } : {}),
          ...extra,
        },
        headers ?? {},
      );
    }
    if (error instanceof ZodError) {
      return problem(c, 400, 'the request does not match its schema', { errors: fieldIssues(error) });
    }
    if (error instanceof HTTPException && error.status < 500) {
      const detail =
        error.status === 400
          ? /JSON/.test(error.message)
            ? DETAILS[400]
            : error.message
          : DETAILS[error.status];
      return problem(c, error.status, detail ?? error.message);
    }
    const requestId = c.get('requestId' as never) as string | undefined;
    if (TRANSIENT_GRPC_CODES.has((error as { code?: unknown }).code as number)) {
      // Firestore or Pub/Sub did not answer in time: worth a retry, and the answer says so.
      log.error(`a Google service is unavailable: ${error.message}`, {
        error: { name: error.name, message: error.message, code: (error as { code?: unknown }).code },
        requestId,
      });
      return problem(
        c,
        503,
        'a backing service did not answer; retry shortly (with the same Idempotency-Key for POST /v1/runs)',
        {},
        { 'Retry-After': '5' },
      );
    }
    log.error(`unhandled error: ${error.message}`, {
      error: { name: error.name, message: error.message, stack: error.stack },
      requestId,
      method: c.req.method,
      path: c.req.path,
    });
    return problem(
      c,
      500,
      `something went wrong on our side${requestId ? `; the logs have the details under request id ${requestId}` : ''}`,
    );
  };
}

/** gRPC codes of a Google client that mean "try again": DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE. */
const TRANSIENT_GRPC_CODES = new Set<number>([
  GRPC.DEADLINE_EXCEEDED,
  GRPC.RESOURCE_EXHAUSTED,
  GRPC.UNAVAILABLE,
]);

const DETAILS: Record<number, string> = {
  400: 'the request body is not valid JSON',
  413: 'the request body is larger than 1 MiB',
  415: 'expected a JSON body with Content-Type: application/json',
};

/** Turns a route pattern (`/v1/runs/:id`) into a regular expression over paths. */
function patternOf(path: string): RegExp {
  const escaped = path
    .split('/')
    .map((segment) =>
      segment.startsWith(':')
        ? '[^/]+'
        : segment === '*'
          ? '.*'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  // Exact, as Hono routes match: `/v1/runs/` is no route of any method (404), not a 405 for GET.
  return new RegExp(`^${escaped}$`);
}

/**
 * Unknown routes are 404 problem+json; a known path asked with another method is 405 with an Allow header.
 * Reads the app's routes on first use, after every route is registered.
 */
export function notFoundHandler<E extends Env>(app: Hono<E>): NotFoundHandler<E> {
  let routes: Array<{ method: string; pattern: RegExp }> | undefined;
  return (c) => {
    routes ??= app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ method: r.method, pattern: patternOf(r.path) }));
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
    if (allowed.length > 0) {
      if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
      return problem(
        c,
        405,
        `${c.req.method} is not allowed on ${c.req.path}`,
        {},
        { Allow: allowed.join(', ') },
      );
    }
    return problem(c, 404, `no route for ${c.req.method} ${c.req.path}`);
  };
}
