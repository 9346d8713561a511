// An API error in one line with its exit code; a request that gets no answer names its URL.
import { describe, expect, it } from 'vitest';
import { apiClient, exitCodeOf, problemLine, unwrap } from './api.js';
import { CliError, EXIT } from './errors.js';

describe('problemLine', () => {
  it("is the problem's title, its detail, then each field's path and message", () => {
    expect(
      problemLine(400, {
        type: 'about:blank',
        title: 'Validation Failed',
        status: 400,
        detail: 'the request body does not match its schema',
        errors: [
          { path: 'schedule.cron', message: 'expected a cron expression' },
          { path: '', message: 'expected an object' },
        ],
      }),
    ).toBe(
      'Validation Failed: the request body does not match its schema; schedule.cron: expected a cron expression; (body): expected an object',
    );
  });

  it('keeps to one line, and names the status of an answer that is no problem+json', () => {
    expect(problemLine(409, { title: 'Conflict', status: 409, detail: 'two\nlines' })).toBe(
      'Conflict: two lines',
    );
    expect(problemLine(429, '<html>\n<body>Too many</body></html>', 'Too Many Requests')).toBe(
      'the API answered 429 Too Many Requests: <html> <body>Too many</body></html>',
    );
  });

  it('maps statuses to exit codes: 401 and 403 auth, 404 not found, the rest failure', () => {
    expect([401, 403, 404, 400, 409, 500, 503].map(exitCodeOf)).toEqual([4, 4, 3, 1, 1, 1, 1]);
  });
});

describe('apiClient', () => {
  it('sends the bearer token, and turns a problem answer into a CliError with its exit code', async () => {
    const seen: Request[] = [];
    const client = apiClient({ url: 'http://api.test/', token: 't0k' }, (async (request: Request) => {
      seen.push(request);
      return new Response(
        JSON.stringify({ title: 'Not Found', status: 404, detail: 'run "x" does not exist' }),
        {
          status: 404,
          headers: { 'content-type': 'application/problem+json' },
        },
      );
    }) as typeof fetch);
    const error = await unwrap(client.GET('/v1/runs/{id}', { params: { path: { id: 'x' } } })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ exitCode: EXIT.notFound, message: 'Not Found: run "x" does not exist' });
    expect(seen[0]?.url).toBe('http://api.test/v1/runs/x');
    expect(seen[0]?.headers.get('authorization')).toBe('Bearer t0k');
  });

  it('names the URL of a request that got no answer', async () => {
    const client = apiClient({ url: 'http://api.test', token: 't' }, (async () => {
      throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND api.test') });
    }) as typeof fetch);
    await expect(unwrap(client.GET('/v1/agents'))).rejects.toMatchObject({
      exitCode: EXIT.failure,
      message: 'cannot reach http://api.test/v1/agents: getaddrinfo ENOTFOUND api.test',
    });
  });
});
