// Heartbeat: a lease renewed by a progress write since the last beat is left to the next beat.
import { describe, expect, it } from 'vitest';
import { leaseRenewedSinceLastBeat } from './heartbeat.js';

const timings = { leaseMs: 60_000, heartbeatMs: 15_000 };
const at = new Date('2026-12-01T10:00:00.000Z');
const leaseIn = (ms: number) => new Date(at.getTime() + ms).toISOString();

describe('leaseRenewedSinceLastBeat', () => {
  it('is true for a lease renewed less than a heartbeat ago (more than lease − heartbeat left)', () => {
    expect(leaseRenewedSinceLastBeat(leaseIn(50_000), at, timings)).toBe(true);
  });

  it('is false once a heartbeat has passed since the renewal, so no lease goes two beats unrenewed', () => {
    expect(leaseRenewedSinceLastBeat(leaseIn(45_000), at, timings)).toBe(false);
    expect(leaseRenewedSinceLastBeat(leaseIn(10_000), at, timings)).toBe(false);
    expect(leaseRenewedSinceLastBeat(leaseIn(-1_000), at, timings)).toBe(false);
  });

  it('is false for a run without a lease', () => {
    expect(leaseRenewedSinceLastBeat(null, at, timings)).toBe(false);
  });
});
