// The one onError of all four apps (api, githubWebhook, scheduler, reactor) and their 404/405 problems.
import { DeadlineError, fieldIssues, GRPC, grpcCode } from '@nightshift/shared';
import type { Context, Env, ErrorHandler, Hono, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { ZodError } from 'zod';
import { RETRY_AFTER_SECONDS } from '../timings.js';
import { HttpError, httpError, unavailable } from './errors.js';
import type { Logger } from './log.js';

export { titleOf } from './errors.js';

/** A problem+json response of `status` with its standard title. */
export function problem(
  c: Context,
  status: number,
  detail?: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return httpError(status, detail, { ...extra, headers }).response(c);
}

/** gRPC codes of a Google client that mean "try again": DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE. */
const TRANSIENT_GRPC_CODES = new Set<number>([
  GRPC.DEADLINE_EXCEEDED,
  GRPC.RESOURCE_EXHAUSTED,
  GRPC.UNAVAILABLE,
]);

/**
 * Whether `error` is a Google client's "try again" (Firestore or Pub/Sub did not answer in time), or our
 * own deadline on such a call (withDeadline) ran out first.
 */
export const isTransient = (error: unknown): boolean => {
  if (error instanceof DeadlineError) return true;
  const code = grpcCode(error);
  return code !== undefined && TRANSIENT_GRPC_CODES.has(code);
};

/** What Hono's own exceptions (its JSON parser, body limit, bearer auth, …) say, in our words. */
const DETAILS: Record<number, string> = {
  400: 'the request body is not valid JSON',
  413: 'the request body is larger than 1 MiB',
  415: 'expected a JSON body with Content-Type: application/json',
};

/**
 * The onError of every app: an HttpError is its own response; a zod error is 400 naming the fields; Hono's
 * own 4xx exceptions become problems (or keep the response they carry); a transient gRPC error is 503 with
 * Retry-After, so a caller (GitHub, Cloud Scheduler, a Pub/Sub push, a client) tries again; anything else
 * is logged with its stack and answered with a 500 that reveals nothing.
 */
export function onError(log: Logger): ErrorHandler {
  return (error, c) => {
    if (error instanceof HttpError) return error.response(c);
    if (error instanceof ZodError) {
      return problem(c, 400, 'the request does not match its schema', { errors: fieldIssues(error) });
    }
    if (error instanceof HTTPException && error.status < 500) {
      if (error.res) {
        // Made through the context, so headers set by earlier middleware (X-Request-Id) are kept.
        const res = error.getResponse();
        return c.newResponse(res.body, res);
      }
      const detail =
        error.status === 400
          ? /JSON/.test(error.message)
            ? DETAILS[400]
            : error.message
          : DETAILS[error.status];
      return problem(c, error.status, detail ?? error.message);
    }
    const requestId = c.get('requestId') as string | undefined;
    if (isTransient(error)) {
      log.error(`a Google service is unavailable: ${error.message}`, {
        error: { name: error.name, message: error.message, code: grpcCode(error) },
        requestId,
      });
      return unavailable(
        'a backing service did not answer; retry shortly (with the same Idempotency-Key for POST /v1/runs)',
        { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
      ).response(c);
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

/** Unknown routes are 404 problem+json (a known path asked with another method: see methodNotAllowedProblem). */
export const notFoundProblem: NotFoundHandler = (c) =>
  problem(c, 404, `no route for ${c.req.method} ${c.req.path}`);

/**
 * Hono's method-not-allowed, answering with a 405 problem. It does all our hand-written one did: it reads
 * the app's routes, leaves ALL routes (middleware) out, adds HEAD beside GET, matches paths exactly (so
 * `/v1/runs/` stays a 404, never a 405 whose Allow names the method asked) and leaves thrown 404s alone.
 */
export function methodNotAllowedProblem<E extends Env>(app: Hono<E>) {
  return methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) =>
      problem(c, 405, `${c.req.method} is not allowed on ${c.req.path}`, {}, { Allow: methods.join(', ') }),
  });
}
