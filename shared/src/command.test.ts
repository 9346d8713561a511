import { beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand, makeCommand, parseCommand } from './command.js';
import { PUBSUB } from './names.js';
import { commandsTopic, publishCommand } from './pubsub.js';
import { describeEmulators, type TestEnv, useTestEnv } from './testing/index.js';

describe('command envelope', () => {
  it('round-trips through its encoding', () => {
    const command = makeCommand('run.start', 'run_1', new Date('2026-11-24T05:00:00Z'));
    expect(parseCommand(encodeCommand(command))).toEqual({ ok: true, command });
  });

  it.each([
    ['not JSON', 'nope', 'command is not JSON'],
    ['an array', '[]', 'command is not a JSON object'],
    [
      'an unknown version',
      { ...makeCommand('run.start', 'r'), version: 2 },
      'unsupported command version 2 (this reader understands 1)',
    ],
    [
      'a missing version',
      { type: 'run.start' },
      'unsupported command version undefined (this reader understands 1)',
    ],
    [
      'an unknown type',
      { ...makeCommand('run.start', 'r'), type: 'run.delete' },
      'unknown command type "run.delete" (expected one of run.start, run.cancel)',
    ],
    ['a bad run id', { ...makeCommand('run.start', 'r'), runId: '../x' }, 'runId: expected a run id'],
    ['a missing sentAt', { ...makeCommand('run.start', 'r'), sentAt: undefined }, 'sentAt:'],
  ])('rejects %s with a reason instead of throwing', (_name, value, reason) => {
    const result = parseCommand(typeof value === 'string' ? value : JSON.stringify(value));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });
});

describeEmulators('command envelope through Pub/Sub', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await useTestEnv();
  });

  it('arrives through a real topic and subscription as it was sent', async () => {
    const command = makeCommand('run.cancel', 'run_42');
    const received = new Promise<{ data: Buffer; attributes: Record<string, string> }>((resolve, reject) => {
      const sub = env.pubsub.subscription(PUBSUB.agentSubscription);
      sub.on('error', reject);
      sub.on('message', (message) => {
        message.ack();
        void sub.close();
        resolve({ data: message.data, attributes: message.attributes });
      });
    });
    await publishCommand(commandsTopic(env.pubsub), command);
    const message = await received;
    expect(parseCommand(message.data)).toEqual({ ok: true, command });
    expect(message.attributes).toEqual({ type: 'run.cancel', runId: 'run_42', version: '1' });
  });
});
