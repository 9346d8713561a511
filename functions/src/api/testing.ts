// Helpers for the functions' API tests: the app on a real port, authenticated fetches, commands pulled
// from the agents' subscription through the emulator's REST interface.
import type { AddressInfo } from 'node:net';
import type { Firestore } from '@google-cloud/firestore';
import { serve } from '@hono/node-server';
import {
  type Command,
  PUBSUB,
  parseCommand,
  parseRunStatusEvent,
  type RunStatusEvent,
} from '@nightshift/shared';
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
 * Pulls and acks every message waiting on a subscription of `projectId`, until a pull comes back empty,
 * each read by `parse` (which throws on a message it cannot read). The emulator's REST interface answers
 * an empty pull at once.
 */
export async function drainSubscription<T>(
  pubsubHost: string,
  projectId: string,
  subscription: string,
  parse: (data: Buffer) => T,
): Promise<T[]> {
  const sub = `http://${pubsubHost}/v1/projects/${projectId}/subscriptions/${subscription}`;
  const messages: T[] = [];
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
    if (receivedMessages.length === 0) return messages;
    for (const m of receivedMessages) messages.push(parse(Buffer.from(m.message.data, 'base64')));
    await fetch(`${sub}:acknowledge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ackIds: receivedMessages.map((m) => m.ackId) }),
    });
  }
}

/** Every command waiting on the agents' subscription. */
export function drainCommands(pubsubHost: string, projectId: string): Promise<Command[]> {
  return drainSubscription(pubsubHost, projectId, PUBSUB.agentSubscription, (data) => {
    const parsed = parseCommand(data);
    if (!parsed.ok) throw new Error(`unreadable command on the subscription: ${parsed.reason}`);
    return parsed.command;
  });
}

/** Every run.status event waiting on the reactor's subscription (a pull one in tests). */
export function drainRunStatus(pubsubHost: string, projectId: string): Promise<RunStatusEvent[]> {
  return drainSubscription(pubsubHost, projectId, PUBSUB.reactorSubscription, (data) => {
    const parsed = parseRunStatusEvent(data);
    if (!parsed.ok) throw new Error(`unreadable run.status event on the subscription: ${parsed.reason}`);
    return parsed.event;
  });
}

/** A worker body that validates: a workdir source and defaults for the rest. */
export function workerBody(id: string, extra: Record<string, unknown> = {}) {
  return { id, workdir: `/srv/${id}`, ...extra };
}
