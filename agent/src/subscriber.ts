// The command subscriber: streaming pull on the shared subscription, each message handed over and settled.
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { type Command, PUBSUB, parseCommand } from '@nightshift/shared';
import { errorMessage, type Logger } from './log.js';

/** What the handler decided: ack (done with it, whatever the outcome) or nack (try again later). */
export type Settle = 'ack' | 'nack';

export interface Subscriber {
  open(): void;
  close(): Promise<void>;
}

export function createSubscriber(opts: {
  pubsub: PubSub;
  capacity: number;
  logger: Logger;
  resubscribeMs: number;
  handle(command: Command): Promise<Settle>;
  subscriptionName?: string;
}): Subscriber {
  const { logger } = opts;
  let subscription: Subscription | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const onMessage = (message: Message) => {
    const parsed = parseCommand(message.data);
    if (!parsed.ok) {
      logger.warn('malformed command acked and ignored', { messageId: message.id, reason: parsed.reason });
      message.ack();
      return;
    }
    opts.handle(parsed.command).then(
      (settle) => (settle === 'ack' ? message.ack() : message.nack()),
      (error: unknown) => {
        logger.error('command handling failed; it will be redelivered', {
          runId: parsed.command.runId,
          error: errorMessage(error),
        });
        message.nack();
      },
    );
  };

  const open = () => {
    if (closed) return;
    const sub = opts.pubsub.subscription(opts.subscriptionName ?? PUBSUB.agentSubscription, {
      // A message is held only while its run is claimed, never for the run itself.
      flowControl: { maxMessages: opts.capacity, allowExcessMessages: false },
    });
    sub.on('message', onMessage);
    sub.on('error', (error: unknown) => {
      logger.error('subscription error; reopening', { error: errorMessage(error) });
      sub.removeAllListeners();
      void sub.close().catch(() => {});
      if (subscription === sub) subscription = null;
      if (!closed) retry = setTimeout(open, opts.resubscribeMs);
    });
    subscription = sub;
  };

  return {
    open() {
      closed = false;
      open();
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const sub = subscription;
      subscription = null;
      if (sub) {
        sub.removeListener('message', onMessage);
        await sub.close().catch(() => {});
        sub.removeAllListeners();
      }
    },
  };
}
