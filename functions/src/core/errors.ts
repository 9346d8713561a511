// The one error type of the functions: an HTTP problem (RFC 9457) that carries its whole response.
import { type FieldIssue, fieldIssues, PROBLEM_CONTENT_TYPE, type Problem } from '@nightshift/shared';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type * as z from 'zod';

/** Extension members of a problem (errors, runId, …) and, apart, the response headers it needs. */
export type ProblemExtra = { errors?: FieldIssue[]; headers?: Record<string, string> } & Record<
  string,
  unknown
>;

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

/**
 * Thrown anywhere in a handler (or built and returned by middleware): the onError of every app answers it
 * with `response()`, so status, title, detail, extension members and headers (Allow, Retry-After,
 * WWW-Authenticate) travel together and no handler formats a problem by hand.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  /** Extension members, beside the standard ones in the body (RFC 9457 allows them). */
  readonly fields: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    readonly title: string = titleOf(status),
    readonly detail?: string,
    extra: ProblemExtra = {},
  ) {
    super(detail ? `${title}: ${detail}` : title);
    const { headers = {}, ...fields } = extra;
    this.fields = fields;
    this.headers = headers;
  }

  /** The problem+json body. */
  problem(): Problem & Record<string, unknown> {
    return {
      type: 'about:blank',
      title: this.title,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...this.fields,
    };
  }

  /**
   * The whole answer: the body as application/problem+json, with this error's headers. Made through the
   * context, so headers middleware set before (X-Request-Id) are kept.
   */
  response(c: Context): Response {
    return c.body(JSON.stringify(this.problem()), this.status as ContentfulStatusCode, {
      ...this.headers,
      'Content-Type': PROBLEM_CONTENT_TYPE,
    });
  }
}

/** A problem of `status` with the standard title for it. */
export const httpError = (status: number, detail?: string, extra: ProblemExtra = {}) =>
  new HttpError(status, titleOf(status), detail, extra);

export const badRequest = (detail: string, errors?: FieldIssue[]) =>
  new HttpError(400, 'Bad Request', detail, errors ? { errors } : {});
export const validationFailed = (error: z.ZodError, where = 'body') =>
  invalidFields(fieldIssues(error), where);
/** 400 naming each field (by its path) that does not match the schema of the request's `where`. */
export const invalidFields = (errors: FieldIssue[], where = 'body') =>
  new HttpError(400, 'Validation Failed', `the request ${where} does not match its schema`, { errors });
export const unauthorized = (detail: string, headers: Record<string, string> = {}) =>
  new HttpError(401, 'Unauthorized', detail, { headers });
export const notFound = (detail: string) => new HttpError(404, 'Not Found', detail);
export const conflict = (detail: string, extra: Record<string, unknown> = {}) =>
  new HttpError(409, 'Conflict', detail, extra);
export const unavailable = (detail: string, extra: ProblemExtra = {}) =>
  new HttpError(503, 'Service Unavailable', detail, extra);
