// Each request's context: its id (hono/request-id), its Cloud trace, the store its log entries read
// (hono/context-storage), and one Cloud Logging line for it once it is answered.
import { LABELS_FIELD, TRACE_FIELD } from '@nightshift/shared';
import type { MiddlewareHandler } from 'hono';
import { contextStorage, tryGetContext } from 'hono/context-storage';
import { type RequestIdVariables, requestId } from 'hono/request-id';
import type { Logger } from './log.js';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** Longer ids a caller sends are replaced by a new one, as are ids with characters other than [A-Za-z0-9_=-]. */
const REQUEST_ID_MAX_CHARS = 128;

/** What every app's context carries. */
export interface AppEnv {
  Variables: RequestIdVariables & {
    /** The request's trace as Cloud Logging links it (`projects/P/traces/T`), when Google sent one. */
    trace: string | undefined;
  };
}

export interface RequestContextOptions {
  log: Logger;
  /** The Google Cloud project, for the `logging.googleapis.com/trace` field. */
  projectId?: string;
}

/** Cloud Logging's duration format: seconds with a fraction, e.g. "0.012s". */
export function latencyOf(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

/** The trace id of an `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1` header. */
export function traceOf(header: string | undefined): string | undefined {
  const id = header?.split('/')[0]?.trim();
  return id && /^[0-9a-fA-F]{1,64}$/.test(id) ? id : undefined;
}

/**
 * The fields every entry written while handling a request carries (its id and trace), read from the
 * context store; none outside a request.
 */
export function requestFields(): Record<string, unknown> {
  const c = tryGetContext<AppEnv>();
  const id = c?.var.requestId;
  if (!c || !id) return {};
  const trace = c.var.trace;
  return {
    requestId: id,
    [LABELS_FIELD]: { requestId: id },
    ...(trace ? { [TRACE_FIELD]: trace } : {}),
  };
}

function remoteIpOf(forwardedFor: string | undefined, env: unknown): string | undefined {
  const first = forwardedFor?.split(',')[0]?.trim();
  if (first) return first;
  // @hono/node-server puts the Node request on the context's env.
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

/** Sets the `trace` variable from X-Cloud-Trace-Context, in the resource form Cloud Logging links. */
function cloudTrace(projectId: string | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const trace = traceOf(c.req.header('x-cloud-trace-context'));
    c.set('trace', trace && projectId ? `projects/${projectId}/traces/${trace}` : undefined);
    await next();
  };
}

/** One line per answered request, with `httpRequest` (Cloud Logging's request fields) and its severity. */
function requestLog(log: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const userAgent = c.req.header('user-agent');
    const remoteIp = remoteIpOf(c.req.header('x-forwarded-for'), c.env);
    const write = status >= 500 ? log.error : status >= 400 ? log.warn : log.info;
    write(`${c.req.method} ${c.req.path} ${status}`, {
      httpRequest: {
        requestMethod: c.req.method,
        requestUrl: c.req.url,
        status,
        latency: latencyOf(performance.now() - started),
        ...(userAgent ? { userAgent } : {}),
        ...(remoteIp ? { remoteIp } : {}),
      },
    });
  };
}

/**
 * The request's context, in order: its id (the caller's X-Request-Id when it looks like one, else a new
 * UUID; echoed on the response), its trace, the context store (so `requestFields()` finds both from any
 * code the request runs), and the request's log line (written inside the store, so it carries them too).
 */
export function requestContext({ log, projectId }: RequestContextOptions): MiddlewareHandler<AppEnv>[] {
  return [
    requestId({ headerName: REQUEST_ID_HEADER, limitLength: REQUEST_ID_MAX_CHARS }),
    cloudTrace(projectId),
    contextStorage(),
    requestLog(log),
  ];
}
