import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS, FUNCTION_ENTRY_POINTS, PUBSUB } from './names.js';

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
      runStatusTopic: names.run_status_topic,
      reactorSubscription: names.reactor_subscription,
      runStatusDeadLetterTopic: names.run_status_dead_letter_topic,
      runStatusDeadLetterSubscription: names.run_status_dead_letter_subscription,
    }).toEqual(PUBSUB);
  });

  it('has the function entry points the bundle exports', () => {
    expect(terraform.locals.names.function_entry_points).toEqual([...FUNCTION_ENTRY_POINTS]);
  });

  it('has every Firestore collection the code uses, and no other', () => {
    const expected = Object.fromEntries(
      Object.entries(COLLECTIONS).map(([key, value]) => [snake(key), value]),
    );
    expect(terraform.locals.names.collections).toEqual(expected);
  });
});
