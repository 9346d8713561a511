// Cloud Functions entry points: api, githubWebhook, scheduler and reactor, each a Hono app behind functions-framework.
import { http } from '@google-cloud/functions-framework';
import { getRequestListener } from '@hono/node-server';
import { functionTarget } from './config.js';

type App = { fetch: Parameters<typeof getRequestListener>[0] };

/**
 * Each entry point's code, imported on its own: an instance serves one entry point (FUNCTION_TARGET), so
 * its cold start loads that function's routes and libraries only (the webhook's octokit stays out of the
 * api, the api's OpenAPI routes out of the others). Each resolves to the builder of its app.
 */
const ENTRIES: Record<string, () => Promise<() => App>> = {
  api: async () => {
    const [{ createApiApp }, { apiConfig, apiGithubOf, depsOptionsOf, notificationsOf }, { createDeps }] =
      await Promise.all([import('./api/app.js'), import('./config.js'), import('./core/deps.js')]);
    return () => {
      const config = apiConfig();
      return createApiApp(createDeps(depsOptionsOf(config)), {
        tokens: config.NIGHTSHIFT_API_TOKENS,
        projectId: config.GOOGLE_CLOUD_PROJECT,
        github: apiGithubOf(config),
        notifications: notificationsOf(config).policy,
      });
    };
  },
  githubWebhook: async () => {
    const [{ createGithubApp }, { depsOptionsOf, githubOf, webhookConfig }, { createDeps }] =
      await Promise.all([import('./github/app.js'), import('./config.js'), import('./core/deps.js')]);
    return () => {
      const config = webhookConfig();
      return createGithubApp(createDeps(depsOptionsOf(config)), {
        webhookSecret: config.GITHUB_WEBHOOK_SECRET,
        ...githubOf(config),
        projectId: config.GOOGLE_CLOUD_PROJECT,
      });
    };
  },
  scheduler: async () => {
    const [
      { createSchedulerApp },
      { depsOptionsOf, githubOf, notificationsOf, schedulerConfig },
      { createDeps },
    ] = await Promise.all([import('./scheduler/app.js'), import('./config.js'), import('./core/deps.js')]);
    return () => {
      const config = schedulerConfig();
      return createSchedulerApp(createDeps(depsOptionsOf(config)), {
        ...githubOf(config),
        notifications: notificationsOf(config),
        projectId: config.GOOGLE_CLOUD_PROJECT,
      });
    };
  },
  reactor: async () => {
    const [
      { createReactorApp },
      { depsOptionsOf, githubOf, notificationsOf, reactorConfig },
      { createDeps },
    ] = await Promise.all([import('./reactor/app.js'), import('./config.js'), import('./core/deps.js')]);
    return () => {
      const config = reactorConfig();
      return createReactorApp(createDeps(depsOptionsOf(config)), {
        ...githubOf(config),
        notifications: notificationsOf(config),
        projectId: config.GOOGLE_CLOUD_PROJECT,
      });
    };
  },
};

const ENTRY_POINTS = Object.keys(ENTRIES);

/**
 * The app (and its config and clients) is built on the first request, so a cold start only loads code.
 * functions-framework has already read the body into req.rawBody; getRequestListener uses it.
 */
function lazyListener(build: () => App): ReturnType<typeof getRequestListener> {
  let listener: ReturnType<typeof getRequestListener> | undefined;
  return (req, res) => {
    listener ??= getRequestListener(build().fetch);
    return listener(req, res);
  };
}

// The code is loaded here, at import, not on the first request: the runtime imports this module before it
// takes traffic, so the first request only builds the app. A target that is none of ours registers all,
// and functions-framework names the one it could not find.
const target = functionTarget();
const serves = target !== undefined && target in ENTRIES ? [target] : ENTRY_POINTS;
const builders = await Promise.all(serves.map((name) => (ENTRIES[name] as () => Promise<() => App>)()));
serves.forEach((name, i) => {
  http(name, lazyListener(builders[i] as () => App));
});
