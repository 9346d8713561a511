// Bearer-token auth (hono/bearer-auth): every configured token compared in constant time; a miss says
// nothing about which tokens exist.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth as honoBearerAuth } from 'hono/bearer-auth';
import { unauthorized } from './errors.js';
import type { AppEnv } from './request-context.js';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export const WWW_AUTHENTICATE = 'Bearer realm="nightshift"';
/** RFC 6750's b64token: the tokens hono/bearer-auth accepts in a header. */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * Checks `Authorization: Bearer <token>` with Hono's middleware; ours are the comparison and the answers.
 * Both sides are hashed with SHA-256 first, so the comparison is over equal lengths and neither a token's
 * length nor its prefix leaks through timing; every configured token is compared (no early exit, which
 * Hono's own list comparison has), so timing does not tell which one matched either. Every refusal is the
 * same 401 problem with one challenge, also for another scheme or a malformed header (Hono: 400).
 */
export function bearerAuth(tokens: readonly string[]): MiddlewareHandler<AppEnv> {
  // Hono's middleware reads only tokens of RFC 6750's syntax (a header with any other token is refused
  // before verifyToken sees it); a configured token it could never accept is a configuration error, said
  // at start rather than as a 401 for every call. The message names the position, never the token.
  const unusable = tokens.findIndex((token) => !BEARER_TOKEN.test(token));
  if (unusable >= 0) {
    throw new Error(
      `NIGHTSHIFT_API_TOKENS: token ${unusable + 1} has characters a bearer token cannot carry (RFC 6750: letters, digits, - . _ ~ + / and a trailing =)`,
    );
  }
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
