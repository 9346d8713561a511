import { RunIdSchema } from '@nightshift/shared';
import { describe, expect, it } from 'vitest';
import { compactSlot, dueSlot, scheduledRunId } from './slots.js';

const at = (iso: string) => new Date(iso);
const MINUTE = 60_000;

/** Ticks every `everyMinutes` from `from` to `to`, each one window after the last: the slots they queue. */
function simulate(
  schedule: { cron: string; timezone: string },
  from: string,
  to: string,
  everyMinutes = 5,
): string[] {
  const slots: string[] = [];
  let lastSlot = at(from);
  for (
    let t = at(from).getTime() + everyMinutes * MINUTE;
    t <= at(to).getTime();
    t += everyMinutes * MINUTE
  ) {
    const slot = dueSlot(schedule, lastSlot, new Date(t));
    if (slot) {
      slots.push(slot.toISOString());
      lastSlot = slot;
    }
  }
  return slots;
}

describe('Scheduler slots: the due slot (dueSlot)', () => {
  const nightlyUtc = { cron: '30 2 * * *', timezone: 'UTC' };

  it('finds the slot that fell in (floor, now]', () => {
    expect(dueSlot(nightlyUtc, at('2026-11-24T02:00:00Z'), at('2026-11-24T02:31:00Z'))?.toISOString()).toBe(
      '2026-11-24T02:30:00.000Z',
    );
  });

  it('includes a slot exactly at now and excludes one exactly at the floor', () => {
    expect(dueSlot(nightlyUtc, at('2026-11-24T02:00:00Z'), at('2026-11-24T02:30:00Z'))?.toISOString()).toBe(
      '2026-11-24T02:30:00.000Z',
    );
    expect(dueSlot(nightlyUtc, at('2026-11-24T02:30:00Z'), at('2026-11-24T02:35:00Z'))).toBeNull();
  });

  it('is null when no slot fell in the window', () => {
    expect(dueSlot(nightlyUtc, at('2026-11-24T02:31:00Z'), at('2026-11-24T09:00:00Z'))).toBeNull();
  });

  it('a tick hours (days) late gives only the latest missed slot, not a storm', () => {
    expect(dueSlot(nightlyUtc, at('2026-11-20T00:00:00Z'), at('2026-11-24T09:00:00Z'))?.toISOString()).toBe(
      '2026-11-24T02:30:00.000Z',
    );
    const everyFive = { cron: '*/5 * * * *', timezone: 'UTC' };
    expect(dueSlot(everyFive, at('2026-11-24T00:00:00Z'), at('2026-11-24T07:13:00Z'))?.toISOString()).toBe(
      '2026-11-24T07:10:00.000Z',
    );
  });

  it('a repeated tick (same window again) finds the same slot, so the derived run id is the same', () => {
    const first = dueSlot(nightlyUtc, at('2026-11-24T00:00:00Z'), at('2026-11-24T02:35:00Z'));
    const again = dueSlot(nightlyUtc, at('2026-11-24T00:00:00Z'), at('2026-11-24T02:36:00Z'));
    expect(first).toEqual(again);
    expect(scheduledRunId('blog', first!)).toBe(scheduledRunId('blog', again!));
  });

  it('reads the cron in the schedule time zone', () => {
    // 02:30 in Berlin in winter (UTC+1) is 01:30 UTC.
    const berlin = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    expect(dueSlot(berlin, at('2026-11-23T12:00:00Z'), at('2026-11-24T12:00:00Z'))?.toISOString()).toBe(
      '2026-11-24T01:30:00.000Z',
    );
  });

  it('is null when now is not after the floor', () => {
    expect(dueSlot(nightlyUtc, at('2026-11-24T03:00:00Z'), at('2026-11-24T03:00:00Z'))).toBeNull();
  });
});

describe('Scheduler slots: daylight saving (a nightly 02:30 job runs once per night, none skipped or doubled)', () => {
  it('Europe/Berlin spring forward (02:30 does not exist on 2026-03-29): runs once, at 03:00 local', () => {
    const slots = simulate(
      { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      '2026-03-27T12:00:00Z',
      '2026-03-31T12:00:00Z',
    );
    expect(slots).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first valid time after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('Europe/Berlin fall back (02:30 occurs twice on 2026-10-25): runs once, at the first occurrence', () => {
    const slots = simulate(
      { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      '2026-10-23T12:00:00Z',
      '2026-10-27T12:00:00Z',
    );
    expect(slots).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, first occurrence; not again at 01:30Z (02:30 CET)
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z',
    ]);
  });

  it('America/New_York: 02:30 on the spring-forward night, 01:30 (the repeated hour there) on fall back', () => {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT. Ticks every 7 minutes, so they do not line up with slots.
    const spring = simulate(
      { cron: '30 2 * * *', timezone: 'America/New_York' },
      '2026-03-07T12:00:00Z',
      '2026-03-10T12:00:00Z',
      7,
    );
    expect(spring).toEqual([
      '2026-03-08T07:00:00.000Z', // 03:00 EDT, the first valid time after the gap
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
      '2026-03-10T06:30:00.000Z',
    ]);
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice (05:30Z and 06:30Z).
    const fall = simulate(
      { cron: '30 1 * * *', timezone: 'America/New_York' },
      '2026-10-31T12:00:00Z',
      '2026-11-03T12:00:00Z',
      7,
    );
    expect(fall).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, first occurrence only
      '2026-11-02T06:30:00.000Z', // 01:30 EST
      '2026-11-03T06:30:00.000Z',
    ]);
  });

  it('one late tick over the spring-forward night still queues that night once', () => {
    const berlin = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    expect(dueSlot(berlin, at('2026-03-28T12:00:00Z'), at('2026-03-29T09:00:00Z'))?.toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
  });
});

describe('Scheduler slots: run ids (scheduledRunId)', () => {
  it('is derived from worker and slot and is a valid run id', () => {
    const id = scheduledRunId('my-blog', at('2026-11-24T02:30:00Z'));
    expect(id).toBe('s-my-blog-20261124T023000Z');
    expect(RunIdSchema.safeParse(id).success).toBe(true);
    expect(compactSlot(at('2026-11-24T02:30:15.000Z'))).toBe('20261124T023015Z');
    const longest = scheduledRunId('a'.repeat(63), at('2026-11-24T02:30:00Z'));
    expect(RunIdSchema.safeParse(longest).success).toBe(true);
  });
});
