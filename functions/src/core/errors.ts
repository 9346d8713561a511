// The one error type of the functions: an HTTP problem (RFC 9457), mapped to a response in one onError.
import { type FieldIssue, fieldIssues } from '@nightshift/shared';
import type { z } from 'zod';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { errors?: FieldIssue[]; headers?: Record<string, string>; [key: string]: unknown } = {},
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

export const badRequest = (detail: string, errors?: FieldIssue[]) =>
  new HttpError(400, 'Bad Request', detail, errors ? { errors } : {});
export const validationFailed = (error: z.ZodError, where = 'body') =>
  new HttpError(400, 'Validation Failed', `the request ${where} does not match its schema`, {
    errors: fieldIssues(error),
  });
export const notFound = (detail: string) => new HttpError(404, 'Not Found', detail);
export const conflict = (detail: string, extra: Record<string, unknown> = {}) =>
  new HttpError(409, 'Conflict', detail, extra);
export const unavailable = (detail: string, extra: Record<string, unknown> = {}) =>
  new HttpError(503, 'Service Unavailable', detail, extra);
