import { describe, expect, it } from 'vitest';
import {
  IllegalTransitionError,
  isActive,
  isTerminal,
  RUN_STATUSES,
  type RunStatus,
  TERMINAL_STATUSES,
  transition,
} from './status.js';

// The whole table: every pair of statuses, legal ones listed, all others illegal.
const LEGAL: Record<RunStatus, RunStatus[]> = {
  queued: ['starting', 'waiting', 'cancelled', 'failed'],
  waiting: ['queued', 'cancelled', 'failed'],
  starting: ['running', 'waiting', 'queued', 'failed', 'cancelled', 'timed_out', 'lost'],
  running: ['succeeded', 'failed', 'cancelled', 'timed_out', 'lost', 'waiting', 'queued'],
  succeeded: [],
  failed: [],
  cancelled: [],
  timed_out: [],
  lost: [],
};

const pairs = RUN_STATUSES.flatMap((from) => RUN_STATUSES.map((to) => [from, to] as const));

describe('run status machine', () => {
  it.each(pairs.filter(([from, to]) => LEGAL[from].includes(to)))('%s → %s is legal', (from, to) => {
    expect(transition(from, to)).toEqual({ ok: true, status: to });
  });

  it.each(pairs.filter(([from, to]) => !LEGAL[from].includes(to)))('%s → %s is illegal', (from, to) => {
    const result = transition(from, to);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(IllegalTransitionError);
    expect(result.error.from).toBe(from);
    expect(result.error.to).toBe(to);
    expect(result.error.message).toContain(to);
  });

  it('names the terminal status in the error for a second succeeded', () => {
    const result = transition('succeeded', 'succeeded');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toBe('run is already succeeded and cannot become succeeded');
  });

  it('lists the allowed moves when a live run moves illegally', () => {
    const result = transition('queued', 'running');
    if (result.ok) throw new Error('expected illegal');
    expect(result.error.message).toBe(
      'run cannot move from queued to running (allowed: starting, waiting, cancelled, failed)',
    );
  });

  it('classifies statuses as terminal or active, never both', () => {
    for (const s of RUN_STATUSES) expect(isTerminal(s)).not.toBe(isActive(s));
    expect(TERMINAL_STATUSES.every(isTerminal)).toBe(true);
  });

  it('keeps a waiting run active: it holds its worker until it has resumed and ended', () => {
    expect(isActive('waiting')).toBe(true);
    expect(isTerminal('waiting')).toBe(false);
  });
});
