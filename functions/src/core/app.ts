// The Hono app every function starts from: the request's context and log line, 404/405 problems, the
// one onError, and keep-alive kept honest after early answers.
import type { Hono } from 'hono';
import { closeAfterEarlyAnswer } from './keep-alive.js';
import type { Logger } from './log.js';
import { methodNotAllowedProblem, notFoundProblem, onError } from './problem.js';
import { type AppEnv, requestContext } from './request-context.js';

export interface FunctionAppOptions {
  log: Logger;
  /** The Google Cloud project, for trace links in the logs. */
  projectId?: string;
}

/** Sets `app` up as a function of nightshift (before its routes: middleware runs in the order it is added). */
export function functionApp<A extends Hono<AppEnv>>(app: A, options: FunctionAppOptions): A {
  app.use('*', ...requestContext(options));
  // Inside the request log: it sees the final headers of every answer, the onError's and 404/405 too.
  app.use('*', closeAfterEarlyAnswer());
  // After the request log, so the line it writes has the final status (405, not 404).
  app.use('*', methodNotAllowedProblem(app));
  app.notFound(notFoundProblem);
  app.onError(onError(options.log));
  return app;
}
