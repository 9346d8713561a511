// Auth: bearer tokens for /v1 (hono/bearer-auth), and the dashboard's session cookie exchanged for a token;
// every configured token compared in constant time, and a miss says nothing about which tokens exist.
import { createHash, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth as honoBearerAuth } from 'hono/bearer-auth';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
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

/** Whether `token` is one of `expected` (digests): every one compared, no early exit. */
function matchesAny(expected: readonly Buffer[], token: string): number {
  const given = digest(token);
  let found = -1;
  expected.forEach((candidate, i) => {
    if (timingSafeEqual(given, candidate) && found < 0) found = i;
  });
  return found;
}

/** A request to a loopback host (the local stack, tests): plain http, so its cookie cannot be Secure. */
export function isLoopback(c: Context): boolean {
  const host = new URL(c.req.url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The session cookie's name: `__Host-` wherever it is Secure, so the browser holds it only from this
 * origin over https, for path /, and no subdomain can set or shadow it.
 */
export function sessionCookieName(c: Context): string {
  return isLoopback(c) ? 'nightshift-session' : '__Host-nightshift-session';
}

export interface SessionOptions {
  lifetimeMs: number;
  now: () => Date;
}

/**
 * Dashboard sessions: a pasted API token is exchanged for a signed cookie (HttpOnly, SameSite=Strict,
 * Secure except on loopback) that holds only its expiry. Its key is derived from the token that signed in
 * (HKDF-SHA256), so there is no other secret to configure, and removing a token from
 * NIGHTSHIFT_API_TOKENS ends every session made with it. The cookie never carries the token.
 */
export function sessions(tokens: readonly string[], options: SessionOptions) {
  const expected = tokens.map(digest);
  const keys = tokens.map((token) =>
    Buffer.from(hkdfSync('sha256', token, 'nightshift dashboard session', 'session cookie v1', 32)).toString(
      'base64url',
    ),
  );
  const VALUE = /^v1\.(\d{1,16})$/;
  return {
    /** Sets the cookie when `token` is a configured one; false (and no cookie) otherwise. */
    async signIn(c: Context, token: string): Promise<boolean> {
      const index = matchesAny(expected, token.trim());
      const key = keys[index];
      if (key === undefined) return false;
      const expires = options.now().getTime() + options.lifetimeMs;
      await setSignedCookie(c, sessionCookieName(c), `v1.${expires}`, key, {
        path: '/',
        httpOnly: true,
        sameSite: 'Strict',
        secure: !isLoopback(c),
        maxAge: Math.floor(options.lifetimeMs / 1000),
      });
      return true;
    },
    /** Whether the request carries a session cookie signed with a configured token's key, unexpired. */
    async isSignedIn(c: Context): Promise<boolean> {
      const name = sessionCookieName(c);
      let ok = false;
      for (const key of keys) {
        const value = await getSignedCookie(c, key, name);
        const expires = typeof value === 'string' ? VALUE.exec(value)?.[1] : undefined;
        // The expiry inside the signed value counts, not the browser's Max-Age, which a client may ignore.
        if (expires !== undefined && Number(expires) > options.now().getTime()) ok = true;
      }
      return ok;
    },
    signOut(c: Context): void {
      deleteCookie(c, sessionCookieName(c), {
        path: '/',
        httpOnly: true,
        sameSite: 'Strict',
        secure: !isLoopback(c),
      });
    },
  };
}
export type Sessions = ReturnType<typeof sessions>;
