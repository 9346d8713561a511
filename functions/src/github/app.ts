// The githubWebhook function: GitHub issue events as run requests. (Placeholder until the triggers issue.)
import { Hono } from 'hono';
import type { Deps } from '../core/deps.js';

export interface GithubAppConfig {
  webhookSecret: string;
  githubToken?: string;
}

export function createGithubApp(_deps: Deps, _config: GithubAppConfig): Hono {
  const app = new Hono();
  app.post('/', (c) => c.json({ title: 'Not Implemented' }, 501));
  return app;
}
