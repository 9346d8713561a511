// Bearer-token auth: every configured token compared in constant time; a miss says nothing about which exist.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { problem } from './problem.js';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export const WWW_AUTHENTICATE = 'Bearer realm="nightshift"';

/**
 * Checks `Authorization: Bearer <token>`. Both sides are hashed with SHA-256 first, so the comparison is
 * over equal lengths and neither a token's length nor its prefix leaks through timing; every configured
 * token is compared (no early exit), so timing does not tell which one matched either.
 */
export function bearerAuth(tokens: readonly string[]): MiddlewareHandler {
  const expected = tokens.map(digest);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    let ok = false;
    if (match) {
      const given = digest(match[1] as string);
      for (const token of expected) ok = timingSafeEqual(given, token) || ok;
    }
    if (!ok) {
      return problem(
        c,
        401,
        match ? 'the bearer token is not valid' : 'this route needs an Authorization: Bearer <token> header',
        {},
        { 'WWW-Authenticate': WWW_AUTHENTICATE },
      );
    }
    await next();
  };
}
