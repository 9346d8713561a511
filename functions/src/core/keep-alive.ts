// Keep-alive after an early answer: a response sent before the request body arrived closes the connection; so does a request the HTTP parser refused.
import type { Duplex } from 'node:stream';
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

/** How long a refused connection is still read from after its answer, before it is dropped. */
const REFUSED_DRAIN_MS = 1_000;

/**
 * Answers what Node's HTTP parser refuses before any app sees it (headers over its limit: 431; anything
 * else that is not HTTP: 400) as problem+json with `Connection: close`, like every other answer. Then it
 * half-closes and reads on for a moment: destroyed at once with the client's bytes still arriving, the
 * socket is reset and the client's kernel may drop the answer under it (npm run chaos saw ECONNRESET
 * instead of 431 under load). The local server's only: in the cloud, Google's front end answers these.
 */
export function answerClientErrors(server: {
  on(event: 'clientError', listener: (error: NodeJS.ErrnoException, socket: Duplex) => void): unknown;
}): void {
  server.on('clientError', (error, socket) => {
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const title = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
    const detail = tooLarge
      ? 'the request headers are larger than the server takes'
      : `the request is not well-formed HTTP (${error.code ?? error.message})`;
    if (!socket.writable || (error as { code?: string }).code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ type: 'about:blank', title, status, detail });
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    socket.on('error', () => {});
    socket.resume();
    setTimeout(() => socket.destroy(), REFUSED_DRAIN_MS).unref();
  });
}
