// The API docs page: Swagger UI from the pinned swagger-ui-dist package, served by the function, no CDN.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { html } from 'hono/html';
import type { Html } from './layout.js';

/** The package's files the page needs, read from disk on first ask (the bundle alone is 1.5 MB). */
const FILES = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;
export type SwaggerFile = keyof typeof FILES;

/** Our own start script: the CSP allows no inline script, so this is a file too. */
const INIT = `'use strict';
window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: false });
});
`;
export const INIT_SCRIPT = {
  path: `/docs/assets/init-${createHash('sha256').update(INIT).digest('hex').slice(0, 12)}.js`,
  body: INIT,
};

let root: Promise<{ dir: string; version: string }> | undefined;

/**
 * Where swagger-ui-dist is installed: found through its own absolute-path module, a real import, so the
 * build keeps the package beside the bundle (it is external there) and installs the pinned version.
 */
export function swaggerRoot(): Promise<{ dir: string; version: string }> {
  root ??= import('swagger-ui-dist/absolute-path.js').then(async (mod) => {
    const locate = (mod as { default: () => string }).default;
    const dir = locate();
    const { version } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string };
    return { dir, version };
  });
  return root;
}

const cache = new Map<SwaggerFile, Promise<Buffer>>();

export function isSwaggerFile(name: string): name is SwaggerFile {
  return Object.hasOwn(FILES, name);
}

export async function swaggerFile(name: SwaggerFile): Promise<{ body: Buffer; type: string }> {
  let body = cache.get(name);
  if (!body) {
    body = swaggerRoot().then(({ dir }) => readFile(join(dir, name)));
    cache.set(name, body);
    body.catch(() => cache.delete(name));
  }
  return { body: await body, type: FILES[name] };
}

/** The page: its files under /docs/assets/<version>/, so a new version is a new URL and caches stay long. */
export async function docsPage(): Promise<Html> {
  const { version } = await swaggerRoot();
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nightshift API</title>
<link rel="stylesheet" href="/docs/assets/${version}/swagger-ui.css">
<script src="/docs/assets/${version}/swagger-ui-bundle.js" defer></script>
<script src="${INIT_SCRIPT.path}" defer></script>
</head>
<body>
<div id="swagger-ui"></div>
</body>
</html>`;
}
