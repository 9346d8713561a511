// The api function: the HTTP API of DESIGN.md. (Placeholder until the control API issue.)
import { Hono } from 'hono';
import type { Deps } from '../core/deps.js';

export interface ApiAppConfig {
  tokens: string[];
}

export function createApiApp(_deps: Deps, _config: ApiAppConfig): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true }));
  return app;
}
