// Keep-alive after an early answer: a response sent before the request body arrived closes the connection.
import type { MiddlewareHandler } from 'hono';

/**
 * Marks with `Connection: close` every answer given before the whole request body arrived (a 413 on its
 * declared length, a 401, 404 or 400 before the handler read it). Left to itself, the server answers
 * `keep-alive` and then drains or drops the rest of the body on its own terms (@hono/node-server gives it
 * 500 ms and 64 MiB, then closes the socket): a client that reuses the connection sees its next request
 * fail. Told to close, the client opens a fresh connection instead. An answer after the app read the
 * body keeps the connection, as does every request without a body; a small body not read by the app
 * may or may not have arrived whole by the answer (a second packet): when not, it is closed too, which
 * costs that client one new connection after an error.
 *
 * It reads the Node request that @hono/node-server puts on the env; behind functions-framework the body
 * has been read before the app runs, so nothing is marked there.
 */
export function closeAfterEarlyAnswer(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const incoming = (c.env as { incoming?: { complete?: unknown } } | undefined)?.incoming;
    if (incoming?.complete === false) c.header('Connection', 'close');
  };
}
