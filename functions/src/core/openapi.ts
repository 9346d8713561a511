// Helpers for the OpenAPI routers: one validation hook, JSON and problem bodies, the bearer scheme.
import { OpenAPIHono } from '@hono/zod-openapi';
import {
  CancelRunSchema,
  CreateRunSchema,
  type FieldIssue,
  PROBLEM_CONTENT_TYPE,
  ProblemSchema,
  pathOf,
  RunEventSchema,
  RunSchema,
  WorkerPatchSchema,
  WorkerSchema,
  WorkerSpecSchema,
} from '@nightshift/shared';
import * as z from 'zod';
import { invalidFields, titleOf, validationFailed } from './errors.js';
import type { AppEnv } from './request-context.js';

/** The part of the request each validation target reads, in the words of our problems. */
const WHERE: Record<string, string> = { json: 'body', query: 'query', param: 'path', header: 'headers' };

/** A router whose request validation failures become 400 problems naming each field's path. */
export function newRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      const where = WHERE[result.target] ?? result.target;
      if (!result.success) throw validationFailed(result.error, where);
      const errors = loneSurrogates(result.data);
      if (errors.length > 0) {
        throw invalidFields(errors, where);
      }
    },
  });
}

/** Half of a UTF-16 surrogate pair on its own: JSON can escape one ("\ud800"), Firestore cannot store it. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** The paths of strings in a parsed request that are not valid Unicode text. */
function loneSurrogates(value: unknown, path: PropertyKey[] = [], out: FieldIssue[] = []): FieldIssue[] {
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) {
      out.push({ path: pathOf(path), message: 'expected valid Unicode text (a lone UTF-16 surrogate)' });
    }
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) loneSurrogates(item, [...path, i], out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) loneSurrogates(item, [...path, key], out);
  }
  return out;
}

export const BEARER = 'bearer';
export const secured = [{ [BEARER]: [] }];
/** An open route (no token): declared so, rather than left without `security`. */
export const OPEN: Array<Record<string, string[]>> = [];

/**
 * The API is wherever the document is served (a function URL, or the local stack): one relative server,
 * so clients resolve paths against the address they fetched the document from.
 */
export const SERVERS = [{ url: '/', description: 'The address this document was served from' }];

/**
 * What an open route can answer besides 200 without nightshift saying it: Cloud Run answers 429 when every
 * instance of the function is busy (terraform caps them with max_instance_count).
 */
export const PLATFORM_PROBLEMS = {
  429: { description: 'Every instance of the function is busy (Cloud Run, max instances); retry shortly' },
};

export function json<S extends z.ZodType>(schema: S, description: string) {
  return { content: { 'application/json': { schema } }, description };
}

/** Problem responses for the given statuses, for the OpenAPI document. */
export function problems(...statuses: number[]) {
  const out: Record<
    number,
    { content: Record<string, { schema: typeof Named.Problem }>; description: string }
  > = {};
  for (const status of statuses) {
    out[status] = {
      content: { [PROBLEM_CONTENT_TYPE]: { schema: Named.Problem } },
      description: titleOf(status),
    };
  }
  return out;
}

/** The errors every authenticated JSON route can answer with. */
export const COMMON_PROBLEMS = [401, 500] as const;
export const BODY_PROBLEMS = [400, 413, 415] as const;

/**
 * The shared contracts under their names, so the document lists them once under components.schemas and
 * refers to them. The contracts may be built before @hono/zod-openapi gives zod schemas `.openapi()`, so
 * each is wrapped in a lazy schema made here; validation is the contract's own.
 */
export function named<S extends z.ZodType>(name: string, schema: S) {
  return z.lazy(() => schema).openapi(name);
}

export const Named = {
  Worker: named('Worker', WorkerSchema),
  WorkerSpec: named('WorkerSpec', WorkerSpecSchema),
  WorkerPatch: named('WorkerPatch', WorkerPatchSchema),
  Run: named('Run', RunSchema),
  CreateRun: named('CreateRun', CreateRunSchema),
  CancelRun: named('CancelRun', CancelRunSchema),
  RunEvent: named('RunEvent', RunEventSchema),
  Problem: named('Problem', ProblemSchema),
};
