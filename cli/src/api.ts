// The typed API client (openapi-fetch over the types generated from /openapi.json) and its errors in the CLI's words.
import createClient from 'openapi-fetch';
import pkg from '../package.json' with { type: 'json' };
import type { components, paths } from './api/schema.js';
import { CliError, EXIT } from './errors.js';
import { REQUEST_TIMEOUT_MS } from './timings.js';

export type Schemas = components['schemas'];
export type Run = Schemas['Run'];
export type RunEvent = Schemas['RunEvent'];
export type Worker = Schemas['Worker'];
export type WorkerSpec = Schemas['WorkerSpec'];
export type WorkerPatch = Schemas['WorkerPatch'];
export type AgentStatus = Schemas['AgentStatus'];
export type Vm = Schemas['Vm'];
export type VmList = paths['/v1/vms']['get']['responses'][200]['content']['application/json'];
export type VmAction = NonNullable<Schemas['VmAction']>;
export type NotificationSink = Schemas['NotificationSink'];
export type CreatedNotificationSink = Schemas['CreatedNotificationSink'];
export type NotificationSinkSpec = Schemas['NotificationSinkSpec'];
export type NotificationSinkPatch = Schemas['NotificationSinkPatch'];
export type NotificationEvent = NotificationSink['events'][number];
export type NotificationFormat = NotificationSink['format'];
export type DigestSettings = Schemas['DigestSettings'];
export type DigestSettingsSpec = Schemas['DigestSettingsSpec'];
export type Problem = Schemas['Problem'];
export type RunStatus = Run['status'];

export const CLI_VERSION: string = pkg.version;

export type Client = ReturnType<typeof createClient<paths>>;

export interface Connection {
  url: string;
  token: string;
}

/**
 * A client of the API at `url`. Every request carries the token and a deadline; a request that never gets
 * an answer (refused, unresolvable, timed out) is a CliError naming the URL it went to.
 */
export function apiClient({ url, token }: Connection, fetchImpl: typeof fetch = globalThis.fetch): Client {
  const fetchWithDeadline = async (request: Request): Promise<Response> => {
    try {
      return await fetchImpl(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw networkError(request.url, error);
    }
  };
  return createClient<paths>({
    baseUrl: url.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${token}`, 'user-agent': `nightshift-cli/${CLI_VERSION}` },
    fetch: fetchWithDeadline,
  });
}

/** What went wrong on the way, in a few words: the error's own code and message, then its cause's. */
function networkError(url: string, error: unknown): CliError {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  let reason = e.message || String(error);
  if (e.name === 'TimeoutError') reason = `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  else if (e.cause?.message) reason = e.cause.message;
  return new CliError(`cannot reach ${url}: ${oneLine(reason)}`, EXIT.failure, { cause: error });
}

export const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, ' ').trim();

function isProblem(value: unknown): value is Problem {
  const p = value as Problem;
  return typeof p === 'object' && p !== null && typeof p.title === 'string' && typeof p.status === 'number';
}

/** The exit code an API answer of `status` means. */
export function exitCodeOf(status: number): CliError['exitCode'] {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  return EXIT.failure;
}

/** An error answer as one line: the problem's title and detail, then each field's path and message. */
export function problemLine(status: number, body: unknown, statusText = ''): string {
  if (!isProblem(body)) {
    const text = typeof body === 'string' ? oneLine(body).slice(0, 200) : '';
    return `the API answered ${status}${statusText ? ` ${statusText}` : ''}${text ? `: ${text}` : ''}`;
  }
  let line = body.title;
  if (body.detail) line += `: ${body.detail}`;
  for (const issue of body.errors ?? []) line += `; ${issue.path || '(body)'}: ${issue.message}`;
  return oneLine(line);
}

/** The answer's data, or a CliError from its problem. */
export async function unwrap<D>(
  call: Promise<{ data?: D; error?: unknown; response: Response }>,
): Promise<D> {
  const { data, error, response } = await call;
  if (!response.ok) {
    throw new CliError(problemLine(response.status, error, response.statusText), exitCodeOf(response.status));
  }
  return data as D;
}
