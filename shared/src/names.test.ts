import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS, PUBSUB } from './names.js';

const terraform = JSON.parse(
  readFileSync(new URL('../../terraform/names.tf.json', import.meta.url), 'utf8'),
) as {
  locals: { names: Record<string, unknown> & { collections: Record<string, string> } };
};

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

describe('names shared with terraform', () => {
  it('has the Pub/Sub names the code uses', () => {
    const names = terraform.locals.names;
    expect({
      commandsTopic: names.commands_topic,
      agentSubscription: names.agent_subscription,
      deadLetterTopic: names.dead_letter_topic,
      deadLetterSubscription: names.dead_letter_subscription,
      maxDeliveryAttempts: names.max_delivery_attempts,
    }).toEqual(PUBSUB);
  });

  it('has every Firestore collection the code uses, and no other', () => {
    const expected = Object.fromEntries(
      Object.entries(COLLECTIONS).map(([key, value]) => [snake(key), value]),
    );
    expect(terraform.locals.names.collections).toEqual(expected);
  });
});
