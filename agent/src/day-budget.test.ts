// The day budget at a piece's launch, on the emulators with the stand-in worker: --max-budget-usd is the smaller of the run's cap left and the worker's day left, the CLI's budget stop names the budget, and a spent day is not launched.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dayIn, pieceCapOf, type Run } from '@nightshift/shared';
import { describeEmulators, waitFor } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentTest, setupAgentTest } from './testing/harness.js';

describe('pieceCapOf', () => {
  const run = (maxBudgetUsd: number | null, costUsd: number) => ({
    maxBudgetUsd,
    usage: { turns: 1, costUsd, inputTokens: 1, outputTokens: 1 },
  });
  it('takes the smaller of the run cap left and the day left, and says which', () => {
    expect(pieceCapOf(run(null, 0), null)).toMatchObject({ limit: null, by: null });
    expect(pieceCapOf(run(1, 0.25), null)).toMatchObject({ limit: 0.75, by: 'run' });
    expect(pieceCapOf(run(null, 0.25), 0.4)).toMatchObject({ limit: 0.4, by: 'day' });
    expect(pieceCapOf(run(1, 0.25), 0.4)).toMatchObject({ limit: 0.4, by: 'day' });
    expect(pieceCapOf(run(0.5, 0.25), 0.4)).toMatchObject({ limit: 0.25, by: 'run' });
    expect(pieceCapOf(run(0.5, 0.75), 0.4)).toMatchObject({ limit: 0, by: 'run' });
    expect(pieceCapOf(run(null, 0), 0)).toMatchObject({ limit: 0, by: 'day' });
  });
});

describeEmulators('Launch: the day budget', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    await t.startAgent();
  });

  const argv = async (runId: string): Promise<string[]> =>
    JSON.parse(await readFile(join(t.fakeDir, `${runId}.argv.json`), 'utf8')) as string[];
  const flagOf = (args: string[], name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const spent = (costUsd: number) => ({ turns: 1, costUsd, inputTokens: 1, outputTokens: 1 });

  it("passes the day's USD left as --max-budget-usd; the CLI's stop on it ends the run naming the day budget", async () => {
    await t.createWorker('thrifty', { budget: { maxUsdPerDay: 0.05 } });
    const now = new Date().toISOString();
    await t.createRun('thrifty', { status: 'succeeded', usage: spent(0.02), createdAt: now, startedAt: now });
    const run = await t.createRun('thrifty', { createdAt: now });
    expect(run.autopilot.maxUsdPerDay).toBe(0.05);
    await t.scenario(run.id, 'spend', 8);
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'cancelled', 'lost']);
    expect(flagOf(await argv(run.id), '--max-budget-usd')).toBe('0.03');
    expect(done.status).toBe('cancelled');
    expect(done.error).toContain('stopped by the budget');
    expect(done.error).toContain('reached budget.maxUsdPerDay ($0.05)');
    expect(done.error).toContain('--max-budget-usd');
    // Three turns of 0.0125: the CLI stops after the one that crossed 0.03.
    expect(done.usage.costUsd).toBe(0.0375);
  });

  it("passes the run's own cap when it is the smaller; its stop fails the run naming maxBudgetUsd", async () => {
    await t.createWorker('capped', { budget: { maxUsdPerDay: 10 } });
    const run = await t.createRun('capped', { maxBudgetUsd: 0.02, createdAt: new Date().toISOString() });
    await t.scenario(run.id, 'spend', 8);
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, ['succeeded', 'failed', 'cancelled', 'lost']);
    expect(flagOf(await argv(run.id), '--max-budget-usd')).toBe('0.02');
    expect(done.status).toBe('failed');
    expect(done.error).toContain("stopped at the run's maxBudgetUsd ($0.02)");
  });

  it('does not launch a run once the day is spent: it waits for the next day with the reason', async () => {
    // thrifty's day: 0.02 + 0.0375 of 0.05 spent, so another 0.0375 run leaves nothing.
    const now = new Date().toISOString();
    await t.createRun('thrifty', {
      status: 'succeeded',
      usage: spent(0.0125),
      createdAt: now,
      startedAt: now,
    });
    const run = await t.createRun('thrifty', { createdAt: now });
    await t.publish('run.start', run.id);
    const waiting = await t.waitStatus(run.id, ['waiting', 'succeeded', 'failed', 'cancelled', 'lost']);
    expect(waiting.status).toBe('waiting');
    expect(waiting.resumeAt).toBe(dayIn('UTC', new Date()).end.toISOString());
    expect(waiting.waitReason).toContain("not launched: the worker's budget.maxUsdPerDay ($0.05) is spent");
    expect(waiting.waits).toBe(0);
    expect(waiting.pieces).toEqual([]);
    expect(await t.events(run.id)).toEqual(['queued->starting', 'starting->waiting']);
    // Nothing ran, and the worker is free again.
    await expect(readFile(join(t.fakeDir, `${run.id}.argv.json`), 'utf8')).rejects.toThrow();
    // The lock is released right after the move to waiting (a write of its own): wait for it, not race it.
    await waitFor('the worker lock to be released', async () =>
      (await t.env.cols.workerLocks.doc('thrifty').get()).exists ? undefined : true,
    );
    const stored = (await t.env.cols.runs.doc(run.id).get()).data() as Run;
    expect(stored.session).toBeNull();
  });
});
