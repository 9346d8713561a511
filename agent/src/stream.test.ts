// Progress and Finish: the stream-json parser on a recorded stream, and the verdict table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeEmulators } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyChunk, applyLine, emptyStreamState, judge, pieceUsageOf } from './stream.js';
import { type AgentTest, setupAgentTest } from './testing/harness.js';

const FIXTURE = join(import.meta.dirname, 'testing', 'fixtures', 'recorded-stream.jsonl');
const recorded = readFileSync(FIXTURE);
const FINAL_TEXT =
  'Milestone 1 is complete: the RSS feed is generated at build time, tests pass, and PROGRESS.md is updated.';

describe('Progress: usage from a recorded stream', () => {
  it('reads usage, the last text and the result; skips the line that is not JSON', () => {
    const state = emptyStreamState();
    expect(applyChunk(state, recorded)).toBe(recorded.length);
    expect(state.sessionId).toBe('3b2a8f4e-7c1d-4e8a-9f0b-5d6c7e8f9a01');
    expect(state.usage).toEqual({ turns: 4, costUsd: 0.0829485, inputTokens: 50485, outputTokens: 333 });
    expect(state.lastText).toBe(FINAL_TEXT);
    expect(state.skippedLines).toBe(1);
    expect(state.result).toMatchObject({ subtype: 'success', isError: false, text: FINAL_TEXT, numTurns: 4 });
    expect(judge(state, { code: 0, signal: null })).toEqual({ status: 'succeeded' });
  });

  it('counts an API message once although it spans several lines, before the result arrives', () => {
    const state = emptyStreamState();
    const lines = recorded.toString('utf8').split('\n');
    for (const line of lines.slice(0, 7)) applyLine(state, line);
    // Two API messages so far (msg_01AbCdEf on two lines, msg_01GhIjKl): input includes the cache tokens.
    expect(state.usage).toEqual({ turns: 2, costUsd: 0, inputTokens: 16156 + 16970, outputTokens: 213 });
    expect(state.lastText).toBe("I'll start by reading the roadmap.");
  });

  it('gives the same state however the bytes are split, consuming whole lines only', () => {
    const whole = emptyStreamState();
    applyChunk(whole, recorded);
    for (const size of [1, 7, 64, 1000]) {
      const state = emptyStreamState();
      let pending = Buffer.alloc(0);
      for (let i = 0; i < recorded.length; i += size) {
        pending = Buffer.concat([pending, recorded.subarray(i, i + size)]);
        pending = pending.subarray(applyChunk(state, pending));
      }
      expect(pending.length).toBe(0);
      expect(state).toEqual(whole);
    }
  });
});

describe('Finish: the verdict table', () => {
  const withResult = (result: object) => {
    const state = emptyStreamState();
    applyLine(
      state,
      JSON.stringify({ type: 'result', num_turns: 1, total_cost_usd: 0.1, usage: {}, ...result }),
    );
    return state;
  };
  it.each([
    [{ subtype: 'success', is_error: false, result: 'ok' }, { code: 0, signal: null }, 'succeeded'],
    [
      { subtype: 'success', is_error: true, result: 'Credit balance is too low' },
      { code: 0, signal: null },
      'failed',
    ],
    [{ subtype: 'error_max_turns', is_error: false }, { code: 0, signal: null }, 'failed'],
    [{ subtype: 'error_max_budget_usd', is_error: true }, { code: 1, signal: null }, 'failed'],
    [{ subtype: 'success', is_error: false, result: 'ok' }, { code: 1, signal: null }, 'failed'],
    [{ subtype: 'success', is_error: false, result: 'ok' }, { code: null, signal: 'SIGTERM' }, 'failed'],
  ])('%j with exit %j is %s', (result, exit, status) => {
    const verdict = judge(withResult(result), exit);
    expect(verdict.status).toBe(status);
    if (verdict.status === 'failed') expect(verdict.error.length).toBeGreaterThan(0);
  });

  it('names the subtype and the reason', () => {
    expect(
      judge(withResult({ subtype: 'error_max_turns', is_error: false }), { code: 0, signal: null }),
    ).toEqual({
      status: 'failed',
      error: 'worker ended with error_max_turns',
    });
    expect(judge(emptyStreamState(), { code: 0, signal: null })).toEqual({
      status: 'failed',
      error: 'worker exited without a result message (code 0)',
    });
  });
});

describeEmulators('Progress: a recorded stream through the agent', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent();
  });

  it('writes the usage, result and PROGRESS.md of a recorded run to Firestore', async () => {
    await t.createWorker('recorded');
    const run = await t.createRun('recorded');
    await t.scenario(run.id, 'replay', FIXTURE);
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'lost']);
    expect(done.status).toBe('succeeded');
    expect(done.usage).toEqual({ turns: 4, costUsd: 0.0829485, inputTokens: 50485, outputTokens: 333 });
    expect(done.result).toBe(FINAL_TEXT);
    expect(done.progress?.text).toBe('# Progress\n\n## M1\n- RSS feed: done\n');
    // The raw stream is kept byte for byte, the non-JSON line included.
    expect(readFileSync(join(t.home, 'runs', run.id, 'stream.jsonl')).equals(recorded)).toBe(true);
  });
});

describe('Progress: usage across the pieces of a run', () => {
  it('adds a piece to the usage of the earlier ones, and starts over at the runner’s fresh start', () => {
    const base = { turns: 2, costUsd: 0.025, inputTokens: 230, outputTokens: 40 };
    const state = emptyStreamState(base);
    applyLine(
      state,
      JSON.stringify({
        type: 'assistant',
        message: { id: 'a', usage: { input_tokens: 10, output_tokens: 5 } },
      }),
    );
    expect(state.usage).toEqual({ turns: 3, costUsd: 0.025, inputTokens: 240, outputTokens: 45 });
    // A failed resume's result, then the runner's line: the fresh attempt counts from the base again.
    applyLine(
      state,
      JSON.stringify({
        type: 'result',
        subtype: 'error_during_execution',
        is_error: true,
        num_turns: 0,
        total_cost_usd: 0,
      }),
    );
    applyLine(
      state,
      JSON.stringify({ type: 'nightshift', subtype: 'fresh_start', reason: 'session not found' }),
    );
    expect(state.freshStarts).toEqual(['session not found']);
    expect(state.result).toBeNull();
    expect(state.usage).toEqual(base);
    applyLine(
      state,
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        is_error: false,
        num_turns: 3,
        total_cost_usd: 0.0375,
        usage: { input_tokens: 345, output_tokens: 60 },
      }),
    );
    expect(state.usage).toEqual({ turns: 5, costUsd: 0.0625, inputTokens: 575, outputTokens: 100 });
    expect(pieceUsageOf(state)).toEqual({ turns: 3, costUsd: 0.0375, inputTokens: 345, outputTokens: 60 });
  });

  it('reads a tail saved before pieces existed (no base) as a first piece', () => {
    const old = { ...emptyStreamState() } as Partial<ReturnType<typeof emptyStreamState>>;
    delete old.base;
    delete old.limit;
    delete old.freshStarts;
    const state = old as ReturnType<typeof emptyStreamState>;
    applyLine(
      state,
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        is_error: false,
        num_turns: 1,
        total_cost_usd: 0.01,
        usage: { input_tokens: 1, output_tokens: 2 },
      }),
    );
    expect(state.usage).toEqual({ turns: 1, costUsd: 0.01, inputTokens: 1, outputTokens: 2 });
  });
});
