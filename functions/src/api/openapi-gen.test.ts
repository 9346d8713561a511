// The OpenAPI document passes redocly's recommended lint, and the CLI's generated client types are in step with it.
import { readFile } from 'node:fs/promises';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { CLI_SCHEMA_PATH, cliSchemaSource, openApiDocument } from './openapi-gen.js';

describe('the OpenAPI document', () => {
  it('has no error and no warning under redocly lint with the recommended rules', async () => {
    const config = await createConfig({
      extends: ['recommended'],
      // redocly 2's recommended set no longer asks for a license (1.x warns); the repository declares none.
      rules: { 'info-license': 'off' },
    });
    const problems = await lintFromString({
      source: JSON.stringify(await openApiDocument(), null, 2),
      absoluteRef: 'openapi.json',
      config,
    });
    expect(
      problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? '?'}`),
    ).toEqual([]);
  });

  it('gives every operation an operationId, and the open ones `security: []`', async () => {
    const doc = (await openApiDocument()) as {
      paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
    };
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, ...op })),
    );
    expect(ops.length).toBeGreaterThan(10);
    for (const op of ops) {
      expect(op.operationId, `${op.method} ${op.path}`).toMatch(/^[a-z][A-Za-z]+$/);
      if (!op.path.startsWith('/v1/')) expect(op.security, op.path).toEqual([]);
    }
    expect(new Set(ops.map((o) => o.operationId)).size).toBe(ops.length);
  });
});

describe("the CLI's generated types", () => {
  it('are what the document generates today (run `npm run openapi` after changing a route or schema)', async () => {
    const committed = await readFile(CLI_SCHEMA_PATH, 'utf8');
    expect(committed === (await cliSchemaSource()), `${CLI_SCHEMA_PATH} is stale: run npm run openapi`).toBe(
      true,
    );
  });
});
