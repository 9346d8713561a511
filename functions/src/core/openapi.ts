// Helpers for the OpenAPI routers: one validation hook, JSON and problem bodies, the bearer scheme.
import { OpenAPIHono } from '@hono/zod-openapi';
import { PROBLEM_CONTENT_TYPE, ProblemSchema } from '@nightshift/shared';
import type { z } from 'zod';
import { validationFailed } from './errors.js';
import { titleOf } from './problem.js';

/** What every app's context carries. */
export interface AppEnv {
  Variables: { requestId: string };
}

const WHERE = { json: 'body', query: 'query', param: 'path', header: 'headers' } as Record<string, string>;

/** A router whose request validation failures become 400 problems naming each field's path. */
export function newRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationFailed(result.error, WHERE[result.target] ?? result.target);
    },
  });
}

export const BEARER = 'bearer';
export const secured = [{ [BEARER]: [] }];

export function json<S extends z.ZodType>(schema: S, description: string) {
  return { content: { 'application/json': { schema } }, description };
}

/** Problem responses for the given statuses, for the OpenAPI document. */
export function problems(...statuses: number[]) {
  const out: Record<
    number,
    { content: Record<string, { schema: typeof ProblemSchema }>; description: string }
  > = {};
  for (const status of statuses) {
    out[status] = {
      content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
      description: titleOf(status),
    };
  }
  return out;
}

/** The errors every authenticated JSON route can answer with. */
export const COMMON_PROBLEMS = [401, 500] as const;
export const BODY_PROBLEMS = [400, 413, 415] as const;
