// Usage limits: reading when a limit resets from the worker's words, and when a run resumes.
import { describe, expect, it } from 'vitest';
import { isLimitText, resetFromText, resumePlanOf } from './limit.js';

describe('Usage limits: the reset time from the text', () => {
  const now = new Date('2026-03-10T22:30:00Z');
  it.each([
    ["You've hit your limit · resets 1:10am", 'UTC', '2026-03-11T01:10:00.000Z'],
    ["You've hit your limit · resets 11pm", 'UTC', '2026-03-10T23:00:00.000Z'],
    ["You've hit your limit · resets 10pm", 'UTC', '2026-03-11T22:00:00.000Z'],
    ['5-hour limit reached ∙ resets 3am (Europe/Berlin)', 'UTC', '2026-03-11T02:00:00.000Z'],
    ["You've hit your limit · resets 12am (America/New_York)", 'UTC', '2026-03-11T04:00:00.000Z'],
    ['Opus weekly limit reached ∙ resets Mar 14, 1am', 'UTC', '2026-03-14T01:00:00.000Z'],
    ['Weekly limit reached ∙ resets Jan 2 at 5pm', 'UTC', '2027-01-02T17:00:00.000Z'],
    ['Claude AI usage limit reached|1773201600', 'UTC', '2026-03-11T04:00:00.000Z'],
    // No zone named: the machine's own (where Claude Code printed it).
    ["You've hit your limit · resets 9:30am", 'Asia/Tokyo', '2026-03-11T00:30:00.000Z'],
  ])('%s (local zone %s) → %s', (text, zone, expected) => {
    expect(new Date(resetFromText(text, now, zone) ?? 0).toISOString()).toBe(expected);
  });

  it.each([
    ["You've hit your limit"],
    ['resets 5'],
    ['resets 25:00'],
    ['resets 13pm'],
    ['resets Foo 3, 1am'],
  ])('reads no time from %s', (text) => {
    expect(resetFromText(text, now, 'UTC')).toBeNull();
  });

  it('knows the wordings of a limit, and not ordinary errors', () => {
    expect(isLimitText("You've hit your limit · resets 1:10am")).toBe(true);
    expect(isLimitText('Claude AI usage limit reached|1773201600')).toBe(true);
    expect(isLimitText('5-hour limit reached ∙ resets 3pm')).toBe(true);
    expect(isLimitText('Invalid API key · Please run /login')).toBe(false);
    expect(isLimitText('API Error: 529 overloaded')).toBe(false);
    expect(isLimitText(null)).toBe(false);
  });
});

describe('Usage limits: when the run resumes', () => {
  const now = new Date('2026-03-10T22:30:00Z');
  const opts = { marginMs: 120_000, fallbackMs: 5 * 3_600_000, localZone: 'UTC' };
  it('takes the event first, then the text, then five hours, each with the margin', () => {
    const event = Date.parse('2026-03-11T00:00:00Z');
    expect(resumePlanOf({ resetsAtMs: event, type: 'five_hour', text: 'resets 9am' }, now, opts)).toEqual({
      resumeAtMs: event + 120_000,
      source: 'event',
    });
    expect(resumePlanOf({ resetsAtMs: null, type: null, text: 'resets 11pm' }, now, opts)).toEqual({
      resumeAtMs: Date.parse('2026-03-10T23:00:00Z') + 120_000,
      source: 'text',
    });
    expect(resumePlanOf({ resetsAtMs: null, type: null, text: "You've hit your limit" }, now, opts)).toEqual({
      resumeAtMs: now.getTime() + 5 * 3_600_000 + 120_000,
      source: 'fallback',
    });
  });

  it('never resumes before now, even for a reset already past', () => {
    const plan = resumePlanOf({ resetsAtMs: now.getTime() - 60_000, type: null, text: null }, now, opts);
    expect(plan.resumeAtMs).toBe(now.getTime() + 120_000);
  });
});
