// Bearer auth over hono/bearer-auth: tokens of RFC 6750's full syntax work; one it could never read is
// refused at start, without naming it.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bearerAuth } from './auth.js';
import { memoryLogger } from './log.js';
import { onError } from './problem.js';

function appWith(tokens: string[]) {
  const app = new Hono();
  app.onError(onError(memoryLogger()));
  app.use('*', bearerAuth(tokens));
  app.get('/', (c) => c.text('ok'));
  return app;
}

describe('bearer auth', () => {
  it('accepts every configured token of the RFC 6750 syntax, and only those', async () => {
    const tokens = ['abc.DEF_ghi~jkl+mno/pqr-stu==', 'second-token-0123456789'];
    const app = appWith(tokens);
    for (const token of tokens) {
      expect((await app.request('/', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    const wrong = await app.request('/', {
      headers: { authorization: 'Bearer abc.DEF_ghi~jkl+mno/pqr-stu=' },
    });
    expect(wrong.status).toBe(401);
  });

  it('refuses at start a configured token no bearer header can carry, naming its position only', () => {
    expect(() => appWith(['good-token-0123456789', 'has space or!bang-0123'])).toThrow(
      /^NIGHTSHIFT_API_TOKENS: token 2 has characters/,
    );
    expect(() => appWith(['good-token-0123456789', 'has space or!bang-0123'])).not.toThrow(/bang/);
  });
});
