// The dashboard's routes on the api function: pages, sign-in and sign-out, its forms, its files and the docs page.
import { CreateRunSchema, RunIdSchema, SlugSchema } from '@nightshift/shared';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { etag } from 'hono/etag';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { sessions } from '../core/auth.js';
import type { Deps } from '../core/deps.js';
import { HttpError, notFound, validationFailed } from '../core/errors.js';
import { onError } from '../core/problem.js';
import type { AppEnv } from '../core/request-context.js';
import { cancelRun } from '../runs/cancel.js';
import { createRun } from '../runs/service.js';
import { MAX_BODY_BYTES, SESSION_LIFETIME_MS, STATIC_MAX_AGE_SECONDS } from '../timings.js';
import { patchWorker, type WorkerReachOptions } from '../workers/service.js';
import { ASSETS } from './assets.js';
import { loadOverview, loadRunPage, loadWorkerPage } from './data.js';
import { docsPage, INIT_SCRIPT, isSwaggerFile, swaggerFile, swaggerRoot } from './docs.js';
import { errorPage, signInPage } from './layout.js';
import { overviewPage, runPage, workerPage } from './pages.js';

export interface DashboardOptions {
  tokens: readonly string[];
  github?: WorkerReachOptions;
}

/** The paths the dashboard serves (pages, forms, files): none is part of the API or its document. */
export function isDashboardPath(path: string): boolean {
  return /^\/(?:$|workers\/|runs\/|session(?:\/|$)|assets\/|docs(?:\/|$))/.test(path);
}

/**
 * No inline script or style anywhere, nothing from another origin: Markdown a worker wrote cannot run
 * script even if it got past the sanitiser, and nothing leaves for a third party.
 */
const PAGE_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

const IMMUTABLE = `public, max-age=${STATIC_MAX_AGE_SECONDS}, immutable`;

/** A `next` the sign-in may send the browser on to: a path of this site only, never another origin. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\w\-./]*$/.test(next) ? next : '/';
}

const formText = (body: Record<string, unknown>, name: string): string | undefined => {
  const value = body[name];
  return typeof value === 'string' ? value : undefined;
};

export function dashboardRoutes(deps: Deps, options: DashboardOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const session = sessions(options.tokens, { lifetimeMs: SESSION_LIFETIME_MS, now: () => deps.now() });
  const reach = options.github ?? { githubAppConfigured: false };

  const secure = secureHeaders({
    contentSecurityPolicy: PAGE_CSP,
    xFrameOptions: 'DENY',
    referrerPolicy: 'same-origin',
  });
  // Pages are private and always asked again; the ETag makes an unchanged page a bodiless 304.
  const fresh: MiddlewareHandler<AppEnv> = async (c, next) => {
    await next();
    c.header('Cache-Control', 'private, no-cache');
    c.header('Vary', 'Cookie');
  };
  const signedIn: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (await session.isSignedIn(c)) return next();
    return c.html(signInPage(c.req.method === 'GET' ? c.req.path : '/', null), 401);
  };
  // Behind Google's front end the function sees http, the browser https: the host alone is this origin.
  const sameOrigin = csrf({
    origin: (origin, c) => {
      try {
        return new URL(origin).host === (c.req.header('host') ?? new URL(c.req.url).host);
      } catch {
        return false;
      }
    },
  });
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new HttpError(413, undefined, 'the form is larger than 1 MiB');
    },
  });
  const page = [secure, fresh, etag(), signedIn] as const;
  const form = [secure, sameOrigin, limit, signedIn] as const;
  const formBody = async (c: Context) => (await c.req.parseBody()) as Record<string, unknown>;

  app.onError((error, c) => {
    if (error instanceof HttpError) {
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      return c.html(errorPage(error.status, error.title, error.detail, true), error.status as 400);
    }
    if (error instanceof HTTPException && error.status === 403) {
      return c.html(
        errorPage(403, 'Forbidden', "the form was not sent from this site's own pages", false),
        403,
      );
    }
    return onError(deps.log)(error, c);
  });

  app.get('/', ...page, async (c) => c.html(overviewPage(await loadOverview(deps))));

  app.get('/workers/:id', ...page, async (c) => {
    const id = SlugSchema.safeParse(c.req.param('id'));
    if (!id.success) throw notFound(`there is no worker "${c.req.param('id')}"`);
    return c.html(workerPage(await loadWorkerPage(deps, id.data, reach)));
  });

  app.get('/runs/:id', ...page, async (c) => {
    const id = RunIdSchema.safeParse(c.req.param('id'));
    const data = id.success ? await loadRunPage(deps, id.data) : null;
    if (!data) throw notFound(`there is no run "${c.req.param('id')}"`);
    return c.html(await runPage(data, reach.githubApiUrl));
  });

  app.post('/session', secure, sameOrigin, limit, async (c) => {
    const body = await formBody(c);
    const next = safeNext(formText(body, 'next'));
    if (await session.signIn(c, formText(body, 'token') ?? '')) return c.redirect(next, 303);
    return c.html(signInPage(next, 'That is not one of the API tokens of this deployment.'), 401);
  });

  app.post('/session/delete', secure, sameOrigin, limit, (c) => {
    session.signOut(c);
    return c.redirect('/', 303);
  });

  app.post('/workers/:id/runs', ...form, async (c) => {
    const prompt = formText(await formBody(c), 'prompt')?.trim();
    const parsed = CreateRunSchema.safeParse({ workerId: c.req.param('id'), ...(prompt ? { prompt } : {}) });
    if (!parsed.success) throw validationFailed(parsed.error, 'form');
    const { run } = await createRun(deps, {
      workerId: parsed.data.workerId,
      trigger: { type: 'api' },
      overrides: parsed.data.prompt === undefined ? {} : { prompt: parsed.data.prompt },
    });
    return c.redirect(`/runs/${run.id}`, 303);
  });

  app.post('/workers/:id/enabled', ...form, async (c) => {
    const id = SlugSchema.safeParse(c.req.param('id'));
    if (!id.success) throw notFound(`there is no worker "${c.req.param('id')}"`);
    const enabled = formText(await formBody(c), 'enabled') === 'true';
    await patchWorker(deps, id.data, { enabled });
    return c.redirect(`/workers/${id.data}`, 303);
  });

  app.post('/runs/:id/cancel', ...form, async (c) => {
    const id = RunIdSchema.safeParse(c.req.param('id'));
    if (!id.success) throw notFound(`there is no run "${c.req.param('id')}"`);
    await cancelRun(deps, id.data, 'cancelled from the dashboard');
    return c.redirect(`/runs/${id.data}`, 303);
  });

  for (const file of Object.values(ASSETS)) {
    app.get(file.path, (c) =>
      c.body(file.body, 200, { 'Content-Type': file.type, 'Cache-Control': IMMUTABLE }),
    );
  }

  // The docs page is open, as before: it describes the API and holds no data. Swagger UI sets styles
  // from script and draws its icons from data: URLs, which its own CSP allows; nothing else differs.
  const docsSecure = secureHeaders({
    contentSecurityPolicy: {
      ...PAGE_CSP,
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
    },
    xFrameOptions: 'DENY',
    referrerPolicy: 'same-origin',
  });
  app.get('/docs', docsSecure, async (c) => c.html(await docsPage()));
  app.get(INIT_SCRIPT.path, (c) =>
    c.body(INIT_SCRIPT.body, 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': IMMUTABLE,
    }),
  );
  app.get('/docs/assets/:version/:file', async (c) => {
    const name = c.req.param('file');
    const { version } = await swaggerRoot();
    if (c.req.param('version') !== version || !isSwaggerFile(name)) {
      throw notFound(`no file ${c.req.path} here`);
    }
    const file = await swaggerFile(name);
    return c.body(new Uint8Array(file.body), 200, { 'Content-Type': file.type, 'Cache-Control': IMMUTABLE });
  });

  return app;
}
