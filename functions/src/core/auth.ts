// Bearer-token auth (hono/bearer-auth): every configured token compared in constant time; a miss says
// nothing about which tokens exist.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth as honoBearerAuth } from 'hono/bearer-auth';
import { unauthorized } from './errors.js';
import type { AppEnv } from './request-context.js';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export const WWW_AUTHENTICATE = 'Bearer realm="nightshift"';

/**
 * Checks `Authorization: Bearer <token>` with Hono's middleware; ours are the comparison and the answers.
 * Both sides are hashed with SHA-256 first, so the comparison is over equal lengths and neither a token's
 * length nor its prefix leaks through timing; every configured token is compared (no early exit, which
 * Hono's own list comparison has), so timing does not tell which one matched either. Every refusal is the
 * same 401 problem with one challenge, also for another scheme or a malformed header (Hono: 400).
 */
export function bearerAuth(tokens: readonly string[]): MiddlewareHandler<AppEnv> {
  const expected = tokens.map(digest);
  const refuse = (detail: string) => (c: Context) =>
    unauthorized(detail, { 'WWW-Authenticate': WWW_AUTHENTICATE }).response(c);
  const missing = refuse('this route needs an Authorization: Bearer <token> header');
  return honoBearerAuth<AppEnv>({
    verifyToken: (token) => {
      const given = digest(token);
      let ok = false;
      for (const candidate of expected) ok = timingSafeEqual(given, candidate) || ok;
      return ok;
    },
    noAuthenticationHeader: { message: missing, wwwAuthenticateHeader: WWW_AUTHENTICATE },
    invalidAuthenticationHeader: { message: missing, wwwAuthenticateHeader: WWW_AUTHENTICATE },
    invalidToken: {
      message: refuse('the bearer token is not valid'),
      wwwAuthenticateHeader: WWW_AUTHENTICATE,
    },
  });
}
