// States: every status move of the agent goes through the shared mover and is announced as a run.status event.
import type { Message } from '@google-cloud/pubsub';
import {
  createPubSub,
  PUBSUB,
  parseRunStatusEvent,
  type RunStatusEvent,
  TERMINAL_STATUSES,
} from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './log.js';
import { createStore } from './store.js';
import { type AgentTest, setupAgentTest } from './testing/harness.js';

describeEmulators('States: run.status events', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent();
  });

  describe('States: every status change is published', () => {
    it('a real run queued → starting → running → succeeded publishes each move on the run-status topic', async () => {
      const received: { event: RunStatusEvent; attributes: Record<string, string> }[] = [];
      const malformed: string[] = [];
      // The test topology makes the reactor's subscription a pull subscription.
      const subscription = t.env.pubsub.subscription(PUBSUB.reactorSubscription);
      subscription.on('message', (message: Message) => {
        const parsed = parseRunStatusEvent(message.data);
        if (parsed.ok) received.push({ event: parsed.event, attributes: message.attributes });
        else malformed.push(parsed.reason);
        message.ack();
      });
      try {
        await t.createWorker('announced');
        const run = await t.createRun('announced');
        await t.publish('run.start', run.id);
        const done = await t.waitStatus(run.id, TERMINAL_STATUSES);
        expect(done.status).toBe('succeeded');
        const ofRun = () => received.filter((r) => r.event.runId === run.id);
        await waitFor('the run.status events of the run', () => (ofRun().length >= 3 ? true : undefined));
        const events = ofRun()
          .map((r) => r.event)
          .sort((a, b) => a.eventId.localeCompare(b.eventId));
        expect(events.map((e) => `${e.from}->${e.to}`)).toEqual([
          'queued->starting',
          'starting->running',
          'running->succeeded',
        ]);
        for (const e of events) {
          expect(e.workerId).toBe('announced');
          expect(e.trigger).toEqual({ type: 'api' });
        }
        expect(events[0]?.reason).toBe('claimed by agent agent-test');
        // The event ids are those of the run's history, time-sortable, and none repeats.
        const history = (await t.env.cols.runEvents(run.id).get()).docs
          .map((d) => d.data())
          .flatMap((e) => (e.type === 'status' ? [e] : []))
          .sort((a, b) => a.id.localeCompare(b.id));
        expect(events.map((e) => e.eventId)).toEqual(history.map((e) => e.id));
        expect(history.map((e) => e.at)).toEqual([...history.map((e) => e.at)].sort());
        expect(
          ofRun()
            .map((r) => r.attributes.to)
            .sort(),
        ).toEqual(['running', 'starting', 'succeeded']);
        expect(
          ofRun().every((r) => r.attributes.type === 'run.status' && r.attributes.runId === run.id),
        ).toBe(true);
        expect(malformed).toEqual([]);
      } finally {
        subscription.removeAllListeners();
        await subscription.close();
      }
    });

    it('a move whose announcement cannot be published still lands, with a warning', async () => {
      const warnings: { message: string; runId?: string }[] = [];
      // A project with no run-status topic: every publish fails.
      const nowhere = createPubSub('t-no-topics-here');
      const store = createStore({
        db: t.env.db,
        pubsub: nowhere,
        agentId: 'agent-unheard',
        deadlineMs: 5_000,
        publishDeadlineMs: 2_000,
        clock: { now: () => new Date() },
        log: createLogger({}, (line) => warnings.push(JSON.parse(line))),
      });
      await t.createWorker('unheard');
      const run = await t.createRun('unheard');
      const moved = await store.move(run.id, 'cancelled', { reason: 'test', expect: ['queued'] });
      expect(moved.ok).toBe(true);
      expect((await t.env.cols.runs.doc(run.id).get()).data()?.status).toBe('cancelled');
      expect(warnings.some((w) => w.message === 'run.status event not published' && w.runId === run.id)).toBe(
        true,
      );
      await nowhere.close();
    });
  });
});
