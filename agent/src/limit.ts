// Usage limits: what the worker's stream says about the plan's limit, and when it resets (the event, else its text, else a fallback).

/** The limit as the stream reported it. Plain JSON (saved in tail.json with the stream state). */
export interface SeenLimit {
  /** When it resets, from the structured event (`rate_limit_info.resetsAt`, epoch seconds, as ms); null: unknown. */
  resetsAtMs: number | null;
  /** `rateLimitType` ("five_hour", "seven_day", …), or null. */
  type: string | null;
  /** The worker's own words about it (the result or assistant text), when it said any. */
  text: string | null;
}

/** Wordings Claude Code has used for a usage limit (it changed several times; the structured event comes first). */
const LIMIT_TEXT =
  /(hit your (usage |session |weekly )?limit|usage limit reached|limit reached\s*[∙·|]|limit reached.*resets|out of (extra )?usage)/i;

/** Whether a text reads as a usage limit message. */
export function isLimitText(text: string | null | undefined): boolean {
  return typeof text === 'string' && LIMIT_TEXT.test(text);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The offset of `timeZone` from UTC at the instant `ms`, in ms (e.g. +3_600_000 for Berlin in winter). */
function zoneOffsetMs(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of a wall-clock time in a zone (the offset looked up twice, so a DST change day is right). */
function wallToUtc(y: number, m: number, d: number, h: number, min: number, timeZone: string): number {
  const guess = Date.UTC(y, m, d, h, min);
  const first = guess - zoneOffsetMs(guess, timeZone);
  return guess - zoneOffsetMs(first, timeZone);
}

function validZone(zone: string | undefined): string | null {
  if (!zone) return null;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return null;
  }
}

/**
 * When a limit message's text says the limit resets, after `now`: "resets 1:10am", "resets 3pm
 * (Europe/Berlin)", "resets Oct 7, 1am", or the older "usage limit reached|<epoch seconds>". A time without
 * a zone is the worker's machine's local time (`localZone`), as Claude Code prints it. Null when it says
 * no time this can read.
 */
export function resetFromText(text: string, now: Date, localZone: string): number | null {
  const epoch = /limit reached\|(\d{9,11})\b/i.exec(text);
  if (epoch) return Number(epoch[1]) * 1000;
  const m =
    /resets\s+(?:at\s+)?(?:([A-Za-z]{3})[a-z]*\s+(\d{1,2}),?\s+(?:at\s+)?)?(\d{1,2})(?::(\d{2}))?\s*([ap]m)?(?:\s*\(([^)]+)\))?/i.exec(
      text,
    );
  if (!m) return null;
  let hour = Number(m[3]);
  const minute = Number(m[4] ?? 0);
  const meridiem = m[5]?.toLowerCase();
  if (meridiem === undefined && m[4] === undefined) return null; // "resets 5" alone is no time
  if (hour > 23 || minute > 59 || (meridiem !== undefined && (hour < 1 || hour > 12))) return null;
  if (meridiem === 'pm' && hour < 12) hour += 12;
  if (meridiem === 'am' && hour === 12) hour = 0;
  const zone = validZone(m[6]?.trim()) ?? localZone;
  // Today's date in that zone, then the first such time after now (a named date: that day, this year or next).
  const local = new Date(now.getTime() + zoneOffsetMs(now.getTime(), zone));
  const year = local.getUTCFullYear();
  if (m[1] !== undefined && m[2] !== undefined) {
    const month = MONTHS.indexOf(m[1].toLowerCase());
    if (month < 0) return null;
    const at = wallToUtc(year, month, Number(m[2]), hour, minute, zone);
    return at > now.getTime() ? at : wallToUtc(year + 1, month, Number(m[2]), hour, minute, zone);
  }
  for (let day = 0; day <= 1; day++) {
    const at = wallToUtc(year, local.getUTCMonth(), local.getUTCDate() + day, hour, minute, zone);
    if (at > now.getTime()) return at;
  }
  return null;
}

export interface ResumePlan {
  /** When the run may go on: the reset plus the margin. */
  resumeAtMs: number;
  /** How the reset was known, for the event: "the rate_limit_event", "the limit message", or the fallback. */
  source: 'event' | 'text' | 'fallback';
}

/** When a run stopped by `limit` resumes: its reset (event, else text, else now + fallback) plus a margin. */
export function resumePlanOf(
  limit: SeenLimit,
  now: Date,
  opts: { marginMs: number; fallbackMs: number; localZone: string },
): ResumePlan {
  if (limit.resetsAtMs !== null && limit.resetsAtMs > 0)
    return { resumeAtMs: Math.max(limit.resetsAtMs, now.getTime()) + opts.marginMs, source: 'event' };
  const fromText = limit.text === null ? null : resetFromText(limit.text, now, opts.localZone);
  if (fromText !== null) return { resumeAtMs: fromText + opts.marginMs, source: 'text' };
  return { resumeAtMs: now.getTime() + opts.fallbackMs + opts.marginMs, source: 'fallback' };
}
