// Progress and Finish: the stream-json parser on a recorded stream, and the verdict table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeEmulators } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  applyChunk,
  applyLine,
  emptyStreamState,
  judge,
  pieceAccountOf,
  pieceSpendOf,
  pieceUsageOf,
  sessionBaseOf,
} from './stream.js';
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

describe('Progress: a result that continued the session’s saved total', () => {
  // The stand-in's turn: 115 input tokens (cache included), 20 output, $0.0125.
  const turns = (n: number) => ({
    turns: n,
    costUsd: Math.round(0.0125 * n * 1e9) / 1e9,
    inputTokens: 115 * n,
    outputTokens: 20 * n,
  });
  const counted = (n: number) => ({ turns: n, mainTurns: n, inputTokens: 115 * n, outputTokens: 20 * n });

  it('takes the saved total off a result that carried it', () => {
    // 2 turns saved, 3 of its own: the result says 5.
    expect(pieceSpendOf(turns(5), counted(3), turns(2))).toEqual({
      usage: turns(3),
      usageFrom: 'cumulative',
      turnsFrom: 'cumulative',
    });
  });

  it('keeps a result that counted only its own piece (no saved total)', () => {
    expect(pieceSpendOf(turns(3), counted(3), turns(2))).toEqual({
      usage: turns(3),
      usageFrom: 'piece',
      turnsFrom: 'piece',
    });
    // Calls the stream never shows (a compaction) put a piece's own result a little over its messages.
    const compacted = { ...turns(3), inputTokens: 115 * 3 + 100 };
    expect(pieceSpendOf(compacted, counted(3), turns(2)).usageFrom).toBe('piece');
  });

  it('counts an earlier piece whose spend was never seen into the piece that reports it', () => {
    // Piece 1 was interrupted after 2 messages (seen, no cost); its transcript saved a total of 4 turns.
    const earlier = { turns: 2, costUsd: 0, inputTokens: 230, outputTokens: 40 };
    const spend = pieceSpendOf(turns(7), counted(3), earlier);
    expect(spend.usageFrom).toBe('cumulative');
    // The tokens seen before are taken off; the cost never seen stays: the run's total is the result's.
    expect(spend.usage).toEqual({ turns: 5, costUsd: 0.0875, inputTokens: 115 * 5, outputTokens: 100 });
    // None of it was seen before (killed before its first message): nothing to take off.
    expect(
      pieceSpendOf(turns(7), counted(3), { ...earlier, inputTokens: 0, outputTokens: 0, turns: 0 }),
    ).toEqual({ usage: turns(7), usageFrom: 'piece', turnsFrom: 'piece' });
  });

  it("takes a fork's parent's spend off its first result", () => {
    const parent = turns(3);
    expect(pieceSpendOf(turns(5), counted(2), parent)).toEqual({
      usage: turns(2),
      usageFrom: 'cumulative',
      turnsFrom: 'cumulative',
    });
  });

  it("leaves a zeroed crash result's piece to its messages, at no known cost", () => {
    const zero = { turns: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 };
    expect(pieceSpendOf(zero, counted(1), turns(2))).toEqual({
      usage: { turns: 1, costUsd: 0, inputTokens: 115, outputTokens: 20 },
      usageFrom: 'stream',
      turnsFrom: 'stream',
    });
  });

  it('judges turns on their own: a num_turns that did not continue is kept', () => {
    const costsContinued = { ...turns(5), turns: 3 };
    expect(pieceSpendOf(costsContinued, counted(3), turns(2))).toEqual({
      usage: turns(3),
      usageFrom: 'cumulative',
      turnsFrom: 'piece',
    });
  });

  it('reads modelUsage for the totals, through the stream, and adds the piece to the earlier ones', () => {
    const earlier = turns(2);
    const state = emptyStreamState(earlier, earlier);
    for (const id of ['m1', 'm2', 'm3'])
      applyLine(
        state,
        JSON.stringify({
          type: 'assistant',
          parent_tool_use_id: null,
          message: { id, usage: { input_tokens: 100, cache_read_input_tokens: 15, output_tokens: 20 } },
        }),
      );
    applyLine(
      state,
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        is_error: false,
        num_turns: 5,
        total_cost_usd: 0.0625,
        // The main loop's per-query usage; modelUsage carries the session's totals.
        usage: { input_tokens: 345, output_tokens: 60 },
        modelUsage: {
          'claude-sonnet-4-5': {
            inputTokens: 400,
            cacheReadInputTokens: 75,
            cacheCreationInputTokens: 100,
            outputTokens: 100,
            costUSD: 0.0625,
          },
        },
      }),
    );
    expect(state.usageFrom).toBe('cumulative');
    expect(state.usage).toEqual(turns(5));
    expect(pieceUsageOf(state)).toEqual(turns(3));
    expect(pieceAccountOf(state, 'resume', false)).toEqual({
      usage: turns(3),
      usageFrom: 'cumulative',
      turnsFrom: 'cumulative',
      session: 'resumed',
    });
  });

  it('knows which pieces the session holds: back to the one that began it, a fork with its parent', () => {
    const piece = (
      session: 'new' | 'resumed' | 'forked' | undefined,
      n: number,
      mode: 'fresh' | 'resume',
    ) => ({
      usage: turns(n),
      mode,
      session,
    });
    expect(sessionBaseOf([], null)).toEqual({ turns: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 });
    expect(sessionBaseOf([piece('new', 2, 'fresh'), piece('resumed', 1, 'resume')], null)).toEqual(turns(3));
    // Taken over afresh by another agent (a new session): the pieces before it are not in it.
    expect(sessionBaseOf([piece('new', 2, 'fresh'), piece('new', 1, 'fresh')], null)).toEqual(turns(1));
    // The runner's fresh start in a resumed piece began a new session too.
    expect(sessionBaseOf([piece('new', 2, 'fresh'), piece('new', 4, 'resume')], null)).toEqual(turns(4));
    expect(sessionBaseOf([piece('forked', 2, 'fresh'), piece('resumed', 1, 'resume')], turns(3))).toEqual(
      turns(6),
    );
    // Pieces recorded before `session` was: a fresh one began it.
    expect(sessionBaseOf([piece(undefined, 2, 'fresh'), piece(undefined, 1, 'resume')], turns(9))).toEqual(
      turns(3),
    );
  });
});
