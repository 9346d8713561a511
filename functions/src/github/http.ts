// problem+json answers and the onError of the trigger apps (githubWebhook, scheduler).
import { PROBLEM_CONTENT_TYPE } from '@nightshift/shared';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HttpError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

export function problem(
  c: Context,
  status: number,
  title: string,
  detail?: string,
  extra: Record<string, unknown> = {},
): Response {
  return c.body(
    JSON.stringify({ type: 'about:blank', title, status, ...(detail ? { detail } : {}), ...extra }),
    status as ContentfulStatusCode,
    { 'Content-Type': PROBLEM_CONTENT_TYPE },
  );
}

/** HttpError becomes its problem; anything else is logged and is a bare 500 problem. */
export function onTriggerError(log: Logger) {
  return (error: Error, c: Context): Response => {
    if (error instanceof HttpError) {
      const { headers: _headers, ...extra } = error.extra;
      return problem(c, error.status, error.title, error.detail, extra);
    }
    log.error(`unhandled error: ${error.message}`, {
      error: { name: error.name, message: error.message, stack: error.stack },
      path: c.req.path,
    });
    return problem(c, 500, 'Internal Server Error', 'something went wrong on our side; see the logs');
  };
}
