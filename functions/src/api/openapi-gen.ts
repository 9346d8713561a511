// The OpenAPI document of the api app, built without a server, and the CLI's typed client generated from it (`npm run openapi -w functions`).
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createApiApp } from './app.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the CLI keeps the generated types (cli/ may import only @nightshift/shared, so they are written there). */
export const CLI_SCHEMA_PATH = join(REPO_ROOT, 'cli/src/api/schema.d.ts');

/** GET /openapi.json of the api app. Its collaborators are made on first use, and the document needs none. */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const deps = createDeps({ projectId: 'openapi-document', log: memoryLogger() });
  const app = createApiApp(deps, { tokens: ['openapi-document-token'] });
  const res = await app.request('/openapi.json');
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

const HEADER =
  '// Generated from GET /openapi.json by functions/src/api/openapi-gen.ts (`npm run openapi`); do not edit.\n';

/** The TypeScript types of the document, as openapi-typescript writes them for openapi-fetch. */
export async function cliSchemaSource(): Promise<string> {
  const ast = await openapiTS((await openApiDocument()) as never, { alphabetize: true });
  return HEADER + astToString(ast);
}

/** Writes cli/src/api/schema.d.ts; true when it changed. */
export async function writeCliSchema(path = CLI_SCHEMA_PATH): Promise<boolean> {
  const source = await cliSchemaSource();
  const before = await readFile(path, 'utf8').catch(() => null);
  if (before === source) return false;
  await writeFile(path, source);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeCliSchema()
    .then((changed) => {
      process.stdout.write(`${CLI_SCHEMA_PATH}: ${changed ? 'written' : 'up to date'}\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`openapi-gen: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
