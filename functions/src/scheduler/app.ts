// The scheduler function: Cloud Scheduler ticks queue due cron slots. (Placeholder until the triggers issue.)
import { Hono } from 'hono';
import type { Deps } from '../core/deps.js';

export function createSchedulerApp(_deps: Deps): Hono {
  const app = new Hono();
  app.post('/', (c) => c.json({ title: 'Not Implemented' }, 501));
  return app;
}
