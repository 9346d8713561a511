// Supervise: a worker's exit.json wakes the finish at once, without waiting for a tick.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TERMINAL_STATUSES } from '@nightshift/shared';
import { describeEmulators, tempDir } from '@nightshift/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { RUN_FILES } from './rundir.js';
import { watchExit } from './supervise.js';
import { type AgentTest, setupAgentTest, TEST_TIMINGS } from './testing/harness.js';

const settle = () => new Promise((r) => setTimeout(r, 200));

describe('watchExit', () => {
  it('calls back when exit.json is renamed into the run directory, not for the other files', async () => {
    const dir = join(await tempDir('nightshift-watch-'), 'run');
    await mkdir(dir);
    let calls = 0;
    const close = watchExit(dir, () => calls++);
    await writeFile(join(dir, RUN_FILES.stream), '{}\n');
    await writeFile(join(dir, RUN_FILES.pids), '{}');
    await settle();
    expect(calls).toBe(0);
    // As the runner writes it: a temporary file, then a rename.
    await writeFile(join(dir, `${RUN_FILES.exit}.1.tmp`), '{"code":0,"signal":null}');
    await rename(join(dir, `${RUN_FILES.exit}.1.tmp`), join(dir, RUN_FILES.exit));
    await settle();
    expect(calls).toBeGreaterThan(0);
    close();
    const before = calls;
    await writeFile(join(dir, RUN_FILES.exit), '{"code":0,"signal":null}');
    await settle();
    expect(calls).toBe(before);
  });

  it('gives a no-op closer for a directory that does not exist', async () => {
    const close = watchExit(join(await tempDir('nightshift-watch-'), 'missing'), () => {});
    expect(() => close()).not.toThrow();
  });
});

describeEmulators('Supervise: the exit watch', () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await setupAgentTest();
    // Ten minutes between ticks: only the watch of exit.json can bring the finish within the test.
    await t.startAgent({ timings: { ...TEST_TIMINGS, tickMs: 600_000 } });
  });

  it('a worker that exits is finished without waiting for the next tick', async () => {
    await t.createWorker('watched');
    const run = await t.createRun('watched');
    await t.scenario(run.id, 'success');
    await t.publish('run.start', run.id);
    const done = await t.waitStatus(run.id, TERMINAL_STATUSES, 30_000);
    expect(done.status).toBe('succeeded');
    expect(await t.events(run.id)).toEqual(['queued->starting', 'starting->running', 'running->succeeded']);
  });
});
