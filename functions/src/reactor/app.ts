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
import type { Deps } from '../core/deps.js';
import { onError } from '../core/problem.js';
import { readPush } from './push.js';
import { type Reactions, react } from './react.js';

export function createReactorApp(deps: Deps, reactions: Reactions): Hono {
  const app = new Hono();
  app.onError(onError(deps.log));
  app.post('/', async (c) => {
    const body = await c.req.json().catch(() => undefined);
    const push = readPush(body);
    if (!push.ok) {
      deps.log.error('reactor: dropping a message it cannot read', { reason: push.reason });
      return c.json({ dropped: push.reason }, 200);
    }
    const done = await react(deps, reactions, push.event);
    return c.json({ eventId: push.event.eventId, ...done }, 200);
  });
  return app;
}
