// The one log format: Cloud Logging's JSON fields, the console's one line, children, levels and context.
import { describe, expect, it } from 'vitest';
import { createLogger, formatPretty, LogFormatSchema, memoryLogger } from './log.js';

const NOW = new Date('2026-11-24T05:00:01.234Z');

function lines(options: Parameters<typeof createLogger>[0] = {}) {
  const out: string[] = [];
  const log = createLogger({ now: () => NOW, write: (line) => out.push(line), ...options });
  return { log, out };
}

describe('log format', () => {
  it('writes one JSON line per entry with severity, message and time first, then the fields', () => {
    const { log, out } = lines({ fields: { agent: 'vm-1' } });
    log.warn('lease lost', { runId: 'r-1', error: new Error('precondition failed') });
    expect(out).toHaveLength(1);
    expect(Object.keys(JSON.parse(out[0]!)).slice(0, 3)).toEqual(['severity', 'message', 'time']);
    expect(JSON.parse(out[0]!)).toEqual({
      severity: 'WARNING',
      message: 'lease lost',
      time: '2026-11-24T05:00:01.234Z',
      agent: 'vm-1',
      runId: 'r-1',
      error: 'precondition failed',
    });
  });

  it('maps the levels to Cloud Logging severities and drops those below the minimum', () => {
    const { log, out } = lines({ level: 'info' });
    log.debug('hidden');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(out.map((line) => JSON.parse(line).severity)).toEqual(['INFO', 'WARNING', 'ERROR']);
  });

  it('adds the fields of a child and of the current context to each entry; a call’s own win', () => {
    let context: Record<string, unknown> = { requestId: 'q-1' };
    const log = memoryLogger({ context: () => context });
    const run = log.child({ runId: 'r-1' });
    run.info('started', { step: 'claim' });
    context = {};
    run.child({ phase: 'launch' }).info('launched', { runId: 'r-2' });
    log.info('plain');
    expect(log.entries).toMatchObject([
      { message: 'started', requestId: 'q-1', runId: 'r-1', step: 'claim' },
      { message: 'launched', runId: 'r-2', phase: 'launch' },
      { message: 'plain' },
    ]);
    expect(log.entries[2]).not.toHaveProperty('runId');
  });

  it('writes one readable line for a console, without Cloud Logging’s bookkeeping fields', () => {
    const { log, out } = lines({ format: 'pretty' });
    log.info('GET /v1/runs 200', {
      requestId: 'abc-123',
      'logging.googleapis.com/labels': { requestId: 'abc-123' },
      'logging.googleapis.com/trace': 'projects/p/traces/t',
      httpRequest: { status: 200 },
      note: 'two words',
    });
    expect(out).toEqual([
      '05:00:01.234 INFO    GET /v1/runs 200  requestId=abc-123 httpRequest={"status":200} note="two words"',
    ]);
    expect(formatPretty({ severity: 'ERROR', message: 'x', time: NOW.toISOString() })).toBe(
      '05:00:01.234 ERROR   x',
    );
  });

  it('reads NIGHTSHIFT_LOG_FORMAT as json (the default) or pretty, and nothing else', () => {
    expect(LogFormatSchema.parse(undefined)).toBe('json');
    expect(LogFormatSchema.parse('pretty')).toBe('pretty');
    expect(LogFormatSchema.safeParse('text').success).toBe(false);
  });
});
