// Cloud Functions entry points: api, githubWebhook, scheduler and reactor, each a Hono app behind functions-framework.
import { http } from '@google-cloud/functions-framework';
import { getRequestListener } from '@hono/node-server';
import { createApiApp } from './api/app.js';
import {
  apiConfig,
  apiGithubOf,
  depsOptionsOf,
  githubOf,
  notificationsOf,
  reactorConfig,
  schedulerConfig,
  webhookConfig,
} from './config.js';
import { createDeps } from './core/deps.js';
import { createGithubApp } from './github/app.js';
import { createReactorApp } from './reactor/app.js';
import { createSchedulerApp } from './scheduler/app.js';

/**
 * The app (and its config and clients) is built on the first request, so a cold start only loads code.
 * functions-framework has already read the body into req.rawBody; getRequestListener uses it.
 */
function lazyListener(
  build: () => { fetch: Parameters<typeof getRequestListener>[0] },
): ReturnType<typeof getRequestListener> {
  let listener: ReturnType<typeof getRequestListener> | undefined;
  return (req, res) => {
    listener ??= getRequestListener(build().fetch);
    return listener(req, res);
  };
}

http(
  'api',
  lazyListener(() => {
    const config = apiConfig();
    return createApiApp(createDeps(depsOptionsOf(config)), {
      tokens: config.NIGHTSHIFT_API_TOKENS,
      projectId: config.GOOGLE_CLOUD_PROJECT,
      github: apiGithubOf(config),
      notifications: notificationsOf(config).policy,
    });
  }),
);

http(
  'githubWebhook',
  lazyListener(() => {
    const config = webhookConfig();
    return createGithubApp(createDeps(depsOptionsOf(config)), {
      webhookSecret: config.GITHUB_WEBHOOK_SECRET,
      ...githubOf(config),
      projectId: config.GOOGLE_CLOUD_PROJECT,
    });
  }),
);

http(
  'scheduler',
  lazyListener(() => {
    const config = schedulerConfig();
    return createSchedulerApp(createDeps(depsOptionsOf(config)), {
      ...githubOf(config),
      notifications: notificationsOf(config),
      projectId: config.GOOGLE_CLOUD_PROJECT,
    });
  }),
);

http(
  'reactor',
  lazyListener(() => {
    const config = reactorConfig();
    return createReactorApp(createDeps(depsOptionsOf(config)), {
      ...githubOf(config),
      notifications: notificationsOf(config),
      projectId: config.GOOGLE_CLOUD_PROJECT,
    });
  }),
);
