// The reactor function: everything that follows a run's status change, fed run.status events by a push
// subscription.
//
// Auth: in the cloud only the push subscription's service account may call it (Cloud Run IAM with the
// subscription's OIDC token; no allUsers; terraform). Locally (`npm start`) the emulator pushes to
// POST /reactor on 127.0.0.1.
//
// Answers: 2xx acks the message (also for a message that can never be handled: it is logged, not retried
// forever); 5xx nacks it, so Pub/Sub retries with backoff and dead-letters it after a few attempts.
import { Hono } from 'hono';
import { functionApp } from '../core/app.js';
import type { Deps } from '../core/deps.js';
import type { AppEnv } from '../core/request-context.js';
import { createGithub, type GithubConfig } from '../github/client.js';
import type { NotifyOptions } from '../notifications/send.js';
import { readPush } from './push.js';
import { react } from './react.js';

/** With a GitHub App or token, the reactor posts the summaries (and pull requests) of GitHub-triggered runs. */
export interface ReactorAppConfig extends GithubConfig {
  /** The Google Cloud project, for trace links in the logs. */
  projectId?: string;
  /** How notifications are sent; default: https to public addresses only, no dashboard link. */
  notifications?: NotifyOptions;
}

export function createReactorApp(deps: Deps, config: ReactorAppConfig = {}): Hono<AppEnv> {
  const app = functionApp(new Hono<AppEnv>(), {
    log: deps.log,
    ...(config.projectId ? { projectId: config.projectId } : {}),
  });
  const reactions = {
    github: createGithub(config, deps.log),
    notifications: config.notifications ?? { policy: { allowLoopback: false }, publicUrl: null },
  };
  app.post('/', async (c) => {
    const body = await c.req.json().catch(() => undefined);
    const push = readPush(body);
    if (!push.ok) {
      deps.log.error('reactor: dropping a message it cannot read', { reason: push.reason });
      return c.json({ dropped: push.reason }, 200);
    }
    const done = await react(deps, reactions, push.event);
    return c.json({ eventId: push.event.eventId, ...done }, done.retry ? 503 : 200);
  });
  return app;
}
