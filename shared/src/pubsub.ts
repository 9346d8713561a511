// Pub/Sub: the client, the command topology for the local stack and tests, and publishing a command.
import { createRequire } from 'node:module';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { type Command, encodeCommand } from './command.js';
import { isAlreadyExists } from './grpc.js';
import { PUBSUB } from './names.js';
import { encodeRunStatusEvent, type RunStatusEvent } from './run-status.js';

const requireHere = createRequire(import.meta.url);

/** A failed load of @google-cloud/pubsub, naming it. */
function loadFailed(error: unknown): Error {
  return new Error(`could not load @google-cloud/pubsub: ${(error as Error).message}`, { cause: error });
}

/**
 * A Pub/Sub client; it finds PUBSUB_EMULATOR_HOST itself, like Firestore. The library is loaded on the
 * first client made, not when this module is imported (see loadPubSub).
 */
export function createPubSub(projectId: string): PubSub {
  let library: typeof import('@google-cloud/pubsub');
  try {
    library = requireHere('@google-cloud/pubsub') as typeof import('@google-cloud/pubsub');
  } catch (error) {
    throw loadFailed(error);
  }
  return new library.PubSub({ projectId });
}

/**
 * createPubSub, loading @google-cloud/pubsub with import(): what the deployables use. A function that only
 * publishes then keeps the library's load (about 110 ms here, on top of Firestore's) off its cold start and
 * pays it on its first publish; the bundler sees this import and installs the package beside the bundle.
 */
export async function loadPubSub(projectId: string): Promise<PubSub> {
  let library: typeof import('@google-cloud/pubsub');
  try {
    library = await import('@google-cloud/pubsub');
  } catch (error) {
    throw loadFailed(error);
  }
  return new library.PubSub({ projectId });
}

function ignoreExists(error: unknown): void {
  if (!isAlreadyExists(error)) throw error;
}

export interface TopologyOptions {
  /**
   * Where the reactor's subscription pushes run.status events (the local stack: its server's /reactor).
   * Without it the subscription is a pull one, which tests read to see what was announced.
   */
  reactorPushEndpoint?: string;
}

/**
 * Creates the topics and subscriptions if they are missing (terraform owns them in the cloud; the local
 * stack and tests call this). The agents' subscription dead-letters a command after a few failed deliveries.
 */
export async function ensureTopology(pubsub: PubSub, options: TopologyOptions = {}): Promise<void> {
  await ensureDeadLettered(pubsub, {
    topic: PUBSUB.commandsTopic,
    subscription: PUBSUB.agentSubscription,
    deadLetterTopic: PUBSUB.deadLetterTopic,
    deadLetterSubscription: PUBSUB.deadLetterSubscription,
  });
  // Run events: the reactor's subscription (a push subscription in the cloud, pulled by tests).
  await ensureDeadLettered(pubsub, {
    topic: PUBSUB.runStatusTopic,
    subscription: PUBSUB.reactorSubscription,
    deadLetterTopic: PUBSUB.runStatusDeadLetterTopic,
    deadLetterSubscription: PUBSUB.runStatusDeadLetterSubscription,
    ...(options.reactorPushEndpoint ? { pushEndpoint: options.reactorPushEndpoint } : {}),
  });
}

/** A topic and its subscription that dead-letters a message after a few failed deliveries, to a readable one. */
async function ensureDeadLettered(
  pubsub: PubSub,
  names: {
    topic: string;
    subscription: string;
    deadLetterTopic: string;
    deadLetterSubscription: string;
    pushEndpoint?: string;
  },
): Promise<void> {
  await pubsub.createTopic(names.topic).catch(ignoreExists);
  await pubsub.createTopic(names.deadLetterTopic).catch(ignoreExists);
  await pubsub
    .topic(names.deadLetterTopic)
    .createSubscription(names.deadLetterSubscription, { ackDeadlineSeconds: 60 })
    .catch(ignoreExists);
  await pubsub
    .topic(names.topic)
    .createSubscription(names.subscription, {
      ackDeadlineSeconds: 60,
      deadLetterPolicy: {
        deadLetterTopic: pubsub.topic(names.deadLetterTopic).name,
        maxDeliveryAttempts: PUBSUB.maxDeliveryAttempts,
      },
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 60 } },
      ...(names.pushEndpoint ? { pushConfig: { pushEndpoint: names.pushEndpoint } } : {}),
    })
    .catch(ignoreExists);
}

export function runStatusTopic(pubsub: PubSub): Topic {
  return pubsub.topic(PUBSUB.runStatusTopic);
}

/** Publishes a run.status event; resolves to the message id once Pub/Sub has it. */
export function publishRunStatus(topic: Topic, event: RunStatusEvent): Promise<string> {
  return topic.publishMessage({
    data: encodeRunStatusEvent(event),
    attributes: { type: event.type, runId: event.runId, to: event.to, version: String(event.version) },
  });
}

export function commandsTopic(pubsub: PubSub): Topic {
  return pubsub.topic(PUBSUB.commandsTopic);
}

/** Publishes a command; resolves to the message id once Pub/Sub has it. */
export function publishCommand(topic: Topic, command: Command): Promise<string> {
  return topic.publishMessage({
    data: encodeCommand(command),
    attributes: { type: command.type, runId: command.runId, version: String(command.version) },
  });
}
