// Test helpers: the documented webhook payloads re-signed with a test secret, and a stand-in for api.github.com.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import { sign } from '@octokit/webhooks-methods';

export const SECRET = 'test-webhook-secret';

// The package is the JSON file GitHub's documented examples are published as.
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];

// biome-ignore lint/suspicious/noExplicitAny: tests edit the documented payloads freely.
type Payload = Record<string, any>;

/** A deep copy of the first documented example of an event (and action). */
export function example(event: string, action?: string): Payload {
  const definition = examples.find((d) => d.name === event);
  const found = (definition?.examples as Array<Record<string, unknown>> | undefined)?.find(
    (e) => action === undefined || e.action === action,
  );
  if (!found) throw new Error(`no documented example for ${event}${action ? `.${action}` : ''}`);
  return structuredClone(found) as Payload;
}

export interface Delivery {
  event: string;
  payload: unknown;
  deliveryId?: string;
  /** Sign with this secret; null sends no signature header; a string starting "sha256=" is sent as is. */
  secret?: string | null;
  signature?: string;
}

export async function deliveryRequest(
  d: Delivery,
): Promise<{ headers: Record<string, string>; body: string }> {
  const body = JSON.stringify(d.payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': d.event,
    'x-github-delivery': d.deliveryId ?? randomUUID(),
    'user-agent': 'GitHub-Hookshot/test',
  };
  const secret = d.secret === undefined ? SECRET : d.secret;
  if (d.signature !== undefined) headers['x-hub-signature-256'] = d.signature;
  else if (secret !== null) headers['x-hub-signature-256'] = await sign(secret, body);
  return { headers, body };
}

/** Sends a delivery through app.request(). */
export async function deliver(
  app: { request(path: string, init: RequestInit): Response | Promise<Response> },
  d: Delivery,
): Promise<Response> {
  const { headers, body } = await deliveryRequest(d);
  return app.request('/', { method: 'POST', headers, body });
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Payload | null;
}

/** A test's own answer to a request; undefined falls back to `status`. */
export type Responder = (request: RecordedRequest) => { status: number; body: unknown } | undefined;

/**
 * A local HTTP server standing in for api.github.com; answers every request with `status`, unless the
 * test's `respond` answers it (e.g. a pull request as GitHub describes it).
 */
export async function fakeGithub(): Promise<{
  url: string;
  requests: RecordedRequest[];
  status: number;
  respond: Responder | null;
  close(): Promise<void>;
}> {
  const state = { requests: [] as RecordedRequest[], status: 201, respond: null as Responder | null };
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let data = '';
      req.on('data', (chunk) => {
        data += chunk;
      });
      req.on('end', () => resolve(data));
    });
  const server: Server = createServer(async (req, res) => {
    const text = await read(req);
    const request: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      body: text ? JSON.parse(text) : null,
    };
    state.requests.push(request);
    const answer = state.respond?.(request) ?? {
      status: state.status,
      body: state.status < 300 ? { id: state.requests.length } : { message: 'Server Error' },
    };
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: state.requests,
    get status() {
      return state.status;
    },
    set status(value: number) {
      state.status = value;
    },
    get respond() {
      return state.respond;
    },
    set respond(value: Responder | null) {
      state.respond = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
