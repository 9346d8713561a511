// One structured log line per request, in Cloud Logging's format, with a request id in and out.
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { type Logger, type Severity, withLogContext } from './log.js';

export const REQUEST_ID_HEADER = 'X-Request-Id';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestLogOptions {
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

function remoteIpOf(forwardedFor: string | undefined, env: unknown): string | undefined {
  const first = forwardedFor?.split(',')[0]?.trim();
  if (first) return first;
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

function severityOf(status: number): Severity {
  return status >= 500 ? 'ERROR' : status >= 400 ? 'WARNING' : 'INFO';
}

/**
 * Sets `requestId` on the context (the caller's X-Request-Id when it looks like one, else a new UUID),
 * echoes it on the response, and logs the request once it is answered.
 */
export function requestLog({ log, projectId }: RequestLogOptions): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const given = c.req.header(REQUEST_ID_HEADER);
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId' as never, requestId as never);
    const trace = traceOf(c.req.header('x-cloud-trace-context'));
    const correlation = {
      requestId,
      'logging.googleapis.com/labels': { requestId },
      ...(trace && projectId
        ? { 'logging.googleapis.com/trace': `projects/${projectId}/traces/${trace}` }
        : {}),
    };
    // Entries written while handling the request (through a contextual logger) carry the same ids.
    await withLogContext(correlation, next);
    c.header(REQUEST_ID_HEADER, requestId);
    const status = c.res.status;
    const userAgent = c.req.header('user-agent');
    const remoteIp = remoteIpOf(c.req.header('x-forwarded-for'), c.env);
    log.log(severityOf(status), `${c.req.method} ${c.req.path} ${status}`, {
      httpRequest: {
        requestMethod: c.req.method,
        requestUrl: c.req.url,
        status,
        latency: latencyOf(performance.now() - started),
        ...(userAgent ? { userAgent } : {}),
        ...(remoteIp ? { remoteIp } : {}),
      },
      ...correlation,
    });
  };
}
