// Helpers for the functions' API tests: the app on a real port, authenticated fetches, commands pulled
// from the agents' subscription through the emulator's REST interface.
import type { AddressInfo } from 'node:net';
import type { Firestore } from '@google-cloud/firestore';
import { serve } from '@hono/node-server';
import { type Command, PUBSUB, parseCommand } from '@nightshift/shared';
import { createDeps, type Deps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { createApiApp } from './app.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';
export const OTHER_TOKEN = 'other-token-0123456789abcdef';

export interface TestApi {
  url: string;
  deps: Deps;
  log: ReturnType<typeof memoryLogger>;
  /** fetch with the bearer token and, for a body, JSON content type. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startApi(
  projectId: string,
  options: {
    now?: () => Date;
    deps?: Partial<Deps>;
    /** The Firestore client createDeps wraps (with its deadlines): one through a proxy, for outages. */
    createFirestore?: (projectId: string) => Firestore;
  } = {},
): Promise<TestApi> {
  const log = memoryLogger();
  const base = createDeps({
    projectId,
    log,
    ...(options.now ? { now: options.now } : {}),
    ...(options.createFirestore ? { createFirestore: options.createFirestore } : {}),
  });
  const deps: Deps & { close(): Promise<void> } = Object.create(
    base,
    Object.getOwnPropertyDescriptors(options.deps ?? {}),
  );
  const app = createApiApp(deps, { tokens: [TEST_TOKEN, OTHER_TOKEN], projectId });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    deps,
    log,
    call: (method, path, body, headers = {}) =>
      fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TEST_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await base.close();
    },
  };
}

/**
 * Pulls and acks every command waiting on the agents' subscription of `projectId`, until a pull comes
 * back empty. The emulator's REST interface answers an empty pull at once.
 */
export async function drainCommands(pubsubHost: string, projectId: string): Promise<Command[]> {
  const sub = `http://${pubsubHost}/v1/projects/${projectId}/subscriptions/${PUBSUB.agentSubscription}`;
  const commands: Command[] = [];
  for (;;) {
    const res = await fetch(`${sub}:pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ maxMessages: 100, returnImmediately: true }),
    });
    if (!res.ok) throw new Error(`pull failed: ${res.status} ${await res.text()}`);
    const { receivedMessages = [] } = (await res.json()) as {
      receivedMessages?: Array<{ ackId: string; message: { data: string } }>;
    };
    if (receivedMessages.length === 0) return commands;
    for (const m of receivedMessages) {
      const parsed = parseCommand(Buffer.from(m.message.data, 'base64'));
      if (!parsed.ok) throw new Error(`unreadable command on the subscription: ${parsed.reason}`);
      commands.push(parsed.command);
    }
    await fetch(`${sub}:acknowledge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ackIds: receivedMessages.map((m) => m.ackId) }),
    });
  }
}

/** A worker body that validates: a workdir source and defaults for the rest. */
export function workerBody(id: string, extra: Record<string, unknown> = {}) {
  return { id, workdir: `/srv/${id}`, ...extra };
}
