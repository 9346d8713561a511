// Pub/Sub: the client, the command topology for the local stack and tests, and publishing a command.
import { PubSub, type Topic } from '@google-cloud/pubsub';
import { type Command, encodeCommand } from './command.js';
import { isAlreadyExists } from './grpc.js';
import { PUBSUB } from './names.js';

/** A Pub/Sub client; it finds PUBSUB_EMULATOR_HOST itself, like Firestore. */
export function createPubSub(projectId: string): PubSub {
  return new PubSub({ projectId });
}

function ignoreExists(error: unknown): void {
  if (!isAlreadyExists(error)) throw error;
}

/**
 * Creates the topics and subscriptions if they are missing (terraform owns them in the cloud; the local
 * stack and tests call this). The agents' subscription dead-letters a command after a few failed deliveries.
 */
export async function ensureTopology(pubsub: PubSub): Promise<void> {
  await pubsub.createTopic(PUBSUB.commandsTopic).catch(ignoreExists);
  await pubsub.createTopic(PUBSUB.deadLetterTopic).catch(ignoreExists);
  await pubsub
    .topic(PUBSUB.deadLetterTopic)
    .createSubscription(PUBSUB.deadLetterSubscription, { ackDeadlineSeconds: 60 })
    .catch(ignoreExists);
  await pubsub
    .topic(PUBSUB.commandsTopic)
    .createSubscription(PUBSUB.agentSubscription, {
      ackDeadlineSeconds: 60,
      deadLetterPolicy: {
        deadLetterTopic: pubsub.topic(PUBSUB.deadLetterTopic).name,
        maxDeliveryAttempts: PUBSUB.maxDeliveryAttempts,
      },
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 60 } },
    })
    .catch(ignoreExists);
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
