// The local server of `npm start`: api, githubWebhook, scheduler and reactor mounted on one port.
import { serve } from '@hono/node-server';
import { ConfigError } from '@nightshift/shared';
import { Hono } from 'hono';
import { createApiApp } from './api/app.js';
import { apiGithubOf, depsOptionsOf, githubOf, localConfig, notificationsOf } from './config.js';
import { createDeps } from './core/deps.js';
import { answerClientErrors } from './core/keep-alive.js';
import { createGithubApp } from './github/app.js';
import { createReactorApp } from './reactor/app.js';
import { createSchedulerApp } from './scheduler/app.js';

let config: ReturnType<typeof localConfig>;
try {
  config = localConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`functions: bad configuration:\n${error.message}\n`);
  process.exit(1);
}

// NIGHTSHIFT_LOG_FORMAT: `npm start` sets pretty for a person at the console unless told otherwise.
const deps = createDeps(depsOptionsOf(config));
const app = new Hono();
const projectId = config.GOOGLE_CLOUD_PROJECT;
// Run links in notifications point at this server's dashboard unless NIGHTSHIFT_PUBLIC_URL says otherwise.
const configured = notificationsOf(config);
const notifications = {
  ...configured,
  publicUrl: configured.publicUrl ?? `http://127.0.0.1:${config.PORT}`,
};
app.route(
  '/github/webhook',
  createGithubApp(deps, {
    webhookSecret: config.GITHUB_WEBHOOK_SECRET,
    ...githubOf(config),
    projectId,
  }),
);
app.route('/scheduler/tick', createSchedulerApp(deps, { ...githubOf(config), projectId, notifications }));
app.route('/reactor', createReactorApp(deps, { ...githubOf(config), projectId, notifications }));
// The api app answers everything else through its own fetch, so its middleware, 404/405 and onError
// apply exactly as in the deployed function.
const api = createApiApp(deps, {
  tokens: config.NIGHTSHIFT_API_TOKENS,
  projectId,
  github: apiGithubOf(config),
  notifications: notifications.policy,
});
app.all('*', (c) => api.fetch(c.req.raw, c.env));

const server = serve({ fetch: app.fetch, port: config.PORT, hostname: '127.0.0.1' }, (info) => {
  deps.log.info(`functions listening on http://127.0.0.1:${info.port}`);
});
answerClientErrors(server);

const shutdown = () => {
  server.close();
  void deps.close().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
