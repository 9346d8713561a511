// Worker flags to API bodies: a spec for add, and for edit a patch that merges a part of a nested setting.
import { describe, expect, it } from 'vitest';
import type { Worker } from '../api.js';
import type { Io } from '../context.js';
import { patchFromFlags, specFromFlags } from './workers.js';

const io = {} as Io;
const current: Worker = {
  id: 'blog',
  repo: { url: 'https://github.com/me/blog.git', branch: 'main', push: false },
  model: 'sonnet',
  prompt: 'p',
  roadmapPath: 'docs/roadmap.md',
  progressPath: 'PROGRESS.md',
  maxDurationMinutes: 120,
  schedule: { cron: '30 2 * * *', timezone: 'UTC', onBusy: 'skip' },
  onUsageLimit: 'wait',
  onInterrupt: 'resume',
  maxWaits: 3,
  ciFixes: { enabled: true, maxPerDay: 2 },
  enabled: true,
  createdAt: '2026-11-20T08:00:00.000Z',
  updatedAt: '2026-11-20T08:00:00.000Z',
  tasksPath: 'docs/TASKS.md',
  attribution: 'none',
  stallMinutes: 20,
  onStall: 'event',
  scheduleSince: '2026-11-20T08:00:00.000Z',
};

describe('specFromFlags', () => {
  it('sends only what was given, so the API fills in its defaults', async () => {
    expect(await specFromFlags('blog', { repo: 'file:///srv/blog.git' }, io)).toEqual({
      id: 'blog',
      repo: { url: 'file:///srv/blog.git' },
    });
    expect(
      await specFromFlags(
        'blog',
        {
          workdir: '/srv/blog',
          schedule: '0 3 * * *',
          tz: 'Europe/Berlin',
          github: 'me/blog',
          allowBot: ['a[bot]'],
          disabled: true,
          maxTurns: 5,
        },
        io,
      ),
    ).toEqual({
      id: 'blog',
      workdir: '/srv/blog',
      maxTurns: 5,
      schedule: { cron: '0 3 * * *', timezone: 'Europe/Berlin' },
      github: { repo: 'me/blog', allowedBots: ['a[bot]'] },
      enabled: false,
    });
  });

  it('refuses flags that belong to one that is missing', async () => {
    await expect(specFromFlags('b', { branch: 'dev' }, io)).rejects.toThrow(
      '--branch and --push go with --repo',
    );
    await expect(specFromFlags('b', { label: 'x' }, io)).rejects.toThrow(
      '--label and --allow-bot go with --github',
    );
    await expect(specFromFlags('b', { prompt: 'a', promptFile: 'f' }, io)).rejects.toMatchObject({
      exitCode: 2,
    });
  });
});

describe('patchFromFlags', () => {
  it("merges a part of the repo or schedule into the worker's current one", async () => {
    expect(await patchFromFlags(current, { tz: 'Asia/Tokyo' }, io)).toEqual({
      schedule: { cron: '30 2 * * *', timezone: 'Asia/Tokyo', onBusy: 'skip' },
    });
    expect(await patchFromFlags(current, { push: true }, io)).toEqual({
      repo: { url: 'https://github.com/me/blog.git', branch: 'main', push: true },
    });
  });

  it('removes with --no-schedule, --no-github and --no-max-turns, and switches repo for workdir', async () => {
    expect(await patchFromFlags(current, { schedule: false }, io)).toEqual({ schedule: null });
    expect(await patchFromFlags(current, { github: false }, io)).toEqual({ github: null });
    expect(await patchFromFlags(current, { workdir: '/srv/blog' }, io)).toEqual({
      workdir: '/srv/blog',
      repo: null,
    });
    expect(await patchFromFlags(current, { maxTurns: false, maxBudgetUsd: 2.5 }, io)).toEqual({
      maxTurns: null,
      maxBudgetUsd: 2.5,
    });
  });

  it('refuses an empty change and a part of a setting the worker does not have', async () => {
    await expect(patchFromFlags(current, {}, io)).rejects.toThrow(
      'nothing to change: give at least one option',
    );
    await expect(patchFromFlags(current, { label: 'x' }, io)).rejects.toThrow(
      'worker "blog" has no GitHub binding: give --github with --label or --allow-bot',
    );
    await expect(patchFromFlags(current, { schedule: false, tz: 'UTC' }, io)).rejects.toMatchObject({
      exitCode: 2,
    });
  });
});
