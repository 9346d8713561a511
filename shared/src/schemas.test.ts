import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { AgentHeartbeatSchema, isAgentAlive } from './agent.js';
import { CreateRunSchema, checkoutOf, RunEventSchema, RunSchema } from './run.js';
import { fieldIssues } from './validation.js';
import {
  DEFAULT_PROMPT,
  mergeWorkerPatch,
  renderPrompt,
  WorkerPatchSchema,
  WorkerSchema,
  WorkerSpecSchema,
} from './worker.js';

/** The issues a schema reports for a bad value, as `path: message` pairs. */
function issuesOf(schema: z.ZodType, value: unknown) {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
  return fieldIssues(result.error);
}

describe('WorkerSpecSchema', () => {
  it('fills the defaults of a minimal worker', () => {
    const w = WorkerSpecSchema.parse({ id: 'blog', repo: { url: 'https://github.com/me/blog.git' } });
    expect(w).toEqual({
      id: 'blog',
      repo: { url: 'https://github.com/me/blog.git', branch: 'main', push: false },
      model: 'sonnet',
      prompt: DEFAULT_PROMPT,
      roadmapPath: 'docs/roadmap.md',
      progressPath: 'PROGRESS.md',
      maxDurationMinutes: 240,
      enabled: true,
      onUsageLimit: 'wait',
      onInterrupt: 'resume',
      maxWaits: 3,
      ciFixes: { enabled: true, maxPerDay: 2 },
      tasksPath: 'docs/TASKS.md',
      attribution: 'none',
      stallMinutes: 20,
      onStall: 'event',
    });
  });

  it('keeps a full worker as given', () => {
    const full = {
      id: 'api-server',
      workdir: '/home/me/projects/api',
      model: 'claude-sonnet-4-5',
      prompt: 'Do {{roadmapPath}}',
      roadmapPath: '../docs/roadmap.md',
      progressPath: '/home/me/worker/PROGRESS.md',
      maxTurns: 200,
      maxBudgetUsd: 5,
      maxDurationMinutes: 120,
      schedule: { cron: '0 2 * * *', timezone: 'Europe/Berlin', onBusy: 'queue' },
      github: { repo: 'me/api', label: 'agent', allowedBots: ['renovate[bot]'] },
      enabled: false,
      onUsageLimit: 'fail',
      onInterrupt: 'lost',
      maxWaits: 5,
      ciFixes: { enabled: false, maxPerDay: 0 },
      tasksPath: 'TODO.md',
      attribution: 'claude',
      stallMinutes: 45,
      onStall: 'stop',
      chain: { enabled: true, maxRunsPerDay: 4 },
    };
    expect(WorkerSpecSchema.parse(full)).toEqual(full);
  });

  it.each([
    ['a bad slug', { id: 'Bad Slug', workdir: '/x' }, 'id', 'expected a slug'],
    ['neither repo nor workdir', { id: 'a' }, 'repo', 'got neither'],
    ['both repo and workdir', { id: 'a', workdir: '/x', repo: { url: '/r' } }, 'workdir', 'got both'],
    ['a relative workdir', { id: 'a', workdir: 'x' }, 'workdir', 'absolute path'],
    ['a repo url that is an option', { id: 'a', repo: { url: '--upload-pack=x' } }, 'repo.url', 'git URL'],
    [
      'a branch that is an option',
      { id: 'a', repo: { url: '/r', branch: '-f' } },
      'repo.branch',
      'branch name',
    ],
    ['a branch with ..', { id: 'a', repo: { url: '/r', branch: 'a..b' } }, 'repo.branch', 'valid git branch'],
    ['a model that is a flag', { id: 'a', workdir: '/x', model: '--help' }, 'model', 'model name'],
    ['zero turns', { id: 'a', workdir: '/x', maxTurns: 0 }, 'maxTurns', '>=1'],
    ['a negative budget', { id: 'a', workdir: '/x', maxBudgetUsd: -1 }, 'maxBudgetUsd', '>0'],
    [
      'a bad cron',
      { id: 'a', workdir: '/x', schedule: { cron: 'every night' } },
      'schedule.cron',
      'cron expression',
    ],
    [
      'an unknown time zone',
      { id: 'a', workdir: '/x', schedule: { cron: '0 2 * * *', timezone: 'Mars/Base' } },
      'schedule.timezone',
      'IANA time zone',
    ],
    [
      'a bad onBusy',
      { id: 'a', workdir: '/x', schedule: { cron: '0 2 * * *', onBusy: 'wait' } },
      'schedule.onBusy',
      'skip',
    ],
    ['a bad onUsageLimit', { id: 'a', workdir: '/x', onUsageLimit: 'retry' }, 'onUsageLimit', 'wait'],
    ['a bad onInterrupt', { id: 'a', workdir: '/x', onInterrupt: 'restart' }, 'onInterrupt', 'resume'],
    ['too many maxWaits', { id: 'a', workdir: '/x', maxWaits: 21 }, 'maxWaits', '20'],
    [
      'too many ciFixes',
      { id: 'a', workdir: '/x', ciFixes: { enabled: true, maxPerDay: 21 } },
      'ciFixes.maxPerDay',
      '20',
    ],
    [
      'a bad GitHub repo',
      { id: 'a', workdir: '/x', github: { repo: 'just-a-name' } },
      'github.repo',
      'owner/name',
    ],
    ['an unknown field', { id: 'a', workdir: '/x', maxTurn: 3 }, '(root)', 'maxTurn'],
    [
      'a progress path that is an option',
      { id: 'a', workdir: '/x', progressPath: '-rf' },
      'progressPath',
      'not starting with "-"',
    ],
  ])('rejects %s at its path', (_name, value, path, message) => {
    const issues = issuesOf(WorkerSpecSchema, value);
    const issue = issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue?.message).toContain(message);
  });
});

describe('repo.credential', () => {
  it("names one of the agent's credentials and travels in the run's checkout", () => {
    const w = WorkerSchema.parse({
      id: 'blog',
      repo: { url: 'https://gitlab.com/me/blog.git', push: true, credential: 'gitlab' },
      createdAt: '2026-12-01T10:00:00.000Z',
      updatedAt: '2026-12-01T10:00:00.000Z',
    });
    expect(checkoutOf(w).repo).toEqual({
      url: 'https://gitlab.com/me/blog.git',
      branch: 'main',
      push: true,
      credential: 'gitlab',
    });
    expect(issuesOf(WorkerSpecSchema, { id: 'a', repo: { url: '/r', credential: '--x' } })).toEqual([
      {
        path: 'repo.credential',
        message: 'expected a credential name of letters, digits, "_" or "-" (such as "acme" or "github-app")',
      },
    ]);
  });
});

describe('worker patches', () => {
  const current = WorkerSpecSchema.parse({ id: 'a', repo: { url: '/r' }, maxTurns: 5 });

  it('merges fields and removes the ones set to null', () => {
    const patch = WorkerPatchSchema.parse({ repo: null, workdir: '/w', maxTurns: null, model: 'opus' });
    const merged = WorkerSpecSchema.parse(mergeWorkerPatch(current, patch));
    expect(merged.repo).toBeUndefined();
    expect(merged.workdir).toBe('/w');
    expect(merged.maxTurns).toBeUndefined();
    expect(merged.model).toBe('opus');
  });

  it('rejects an id change and unknown fields', () => {
    expect(issuesOf(WorkerPatchSchema, { id: 'b' })[0]?.message).toContain('id');
  });

  it('refuses a prompt with a NUL in a worker, a patch and a run request, naming the field', () => {
    const nul = 'do it\u0000now';
    const expected = [
      { path: 'prompt', message: 'must not contain NUL (U+0000): no process argument can carry it' },
    ];
    expect(issuesOf(WorkerSpecSchema, { id: 'a', workdir: '/w', prompt: nul })).toEqual(expected);
    expect(issuesOf(WorkerPatchSchema, { prompt: nul })).toEqual(expected);
    expect(issuesOf(CreateRunSchema, { workerId: 'a', prompt: nul })).toEqual(expected);
  });

  it('reports a merge that leaves two sources at the workdir path', () => {
    const merged = mergeWorkerPatch(current, WorkerPatchSchema.parse({ workdir: '/w' }));
    expect(issuesOf(WorkerSpecSchema, merged)).toEqual([
      { path: 'workdir', message: 'expected exactly one of repo or workdir, got both' },
    ]);
  });
});

describe('renderPrompt', () => {
  it('fills known variables and leaves the rest', () => {
    expect(
      renderPrompt('Read {{roadmapPath}}, write {{ progressPath }}, keep {{other}}', {
        roadmapPath: 'docs/roadmap.md',
        progressPath: 'P.md',
      }),
    ).toBe('Read docs/roadmap.md, write P.md, keep {{other}}');
  });

  it('makes the default prompt work on the open items of TASKS.md before the roadmap', () => {
    const prompt = renderPrompt(DEFAULT_PROMPT, {
      roadmapPath: 'docs/roadmap.md',
      progressPath: 'PROGRESS.md',
      tasksPath: 'docs/TASKS.md',
    });
    expect(prompt).not.toContain('{{');
    expect(prompt.indexOf('docs/TASKS.md')).toBeGreaterThan(0);
    expect(prompt.indexOf('docs/TASKS.md')).toBeLessThan(prompt.indexOf('Read docs/roadmap.md'));
    expect(prompt).toContain('`BLOCKED:`');
  });

  it('does not read variables from the object prototype', () => {
    expect(renderPrompt('{{constructor}}', {})).toBe('{{constructor}}');
  });
});

const now = '2026-11-24T05:00:00.000Z';

describe('WorkerSchema (stored)', () => {
  it('needs timestamps', () => {
    const issues = issuesOf(WorkerSchema, { id: 'a', workdir: '/x' });
    expect(issues.map((i) => i.path).sort()).toEqual(['createdAt', 'updatedAt']);
  });
});

describe('RunSchema', () => {
  const minimal = {
    id: 'run_1',
    workerId: 'blog',
    trigger: { type: 'api' },
    prompt: 'p',
    model: 'sonnet',
    checkout: {
      repo: null,
      workdir: '/srv/blog',
      roadmapPath: 'docs/roadmap.md',
      progressPath: 'PROGRESS.md',
    },
    maxDurationMinutes: 240,
    status: 'queued',
    createdAt: now,
    updatedAt: now,
  };

  it('fills null facts and zero usage', () => {
    const run = RunSchema.parse(minimal);
    expect(run).toMatchObject({
      startedAt: null,
      finishedAt: null,
      agentId: null,
      exitCode: null,
      error: null,
      commits: [],
      usage: { turns: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 },
      workBranch: null,
      pushedBranch: null,
    });
  });

  it.each([
    ['an unknown status', { status: 'done' }, 'status'],
    ['an unknown trigger', { trigger: { type: 'email' } }, 'trigger.type'],
    [
      'a github trigger without an issue',
      { trigger: { type: 'github', repo: 'a/b', sender: 'x', deliveryId: 'd' } },
      'trigger.issue',
    ],
    ['a schedule trigger without a slot', { trigger: { type: 'schedule' } }, 'trigger.slot'],
    ['a time without a zone', { createdAt: '2026-11-24 05:00' }, 'createdAt'],
    ['negative usage', { usage: { turns: -1, costUsd: 0, inputTokens: 0, outputTokens: 0 } }, 'usage.turns'],
    ['a work branch that could be read as an option', { workBranch: '--force' }, 'workBranch'],
    ['a work branch with ".."', { workBranch: 'nightshift/../main' }, 'workBranch'],
  ])('rejects %s at its path', (_name, change, path) => {
    expect(issuesOf(RunSchema, { ...minimal, ...change }).map((i) => i.path)).toContain(path);
  });
});

describe('CreateRunSchema', () => {
  it('accepts a worker id alone', () => {
    expect(CreateRunSchema.parse({ workerId: 'blog' })).toEqual({ workerId: 'blog' });
  });

  it.each([
    [{}, 'workerId'],
    [{ workerId: 'blog', maxTurns: 1.5 }, 'maxTurns'],
    [{ workerId: 'blog', prompt: '' }, 'prompt'],
    [{ workerId: 'blog', extra: true }, '(root)'],
  ])('rejects %j at %s', (value, path) => {
    expect(issuesOf(CreateRunSchema, value).map((i) => i.path)).toContain(path);
  });
});

describe('RunEventSchema', () => {
  it('reads a status event', () => {
    const e = RunEventSchema.parse({
      type: 'status',
      id: 'e1',
      runId: 'r1',
      at: now,
      from: 'queued',
      to: 'starting',
    });
    expect(e).toMatchObject({ reason: null, agentId: null });
  });

  it('rejects a status event with an unknown target', () => {
    expect(
      issuesOf(RunEventSchema, { type: 'status', id: 'e', runId: 'r', at: now, from: null, to: 'x' })[0]
        ?.path,
    ).toBe('to');
  });
});

describe('AgentHeartbeatSchema', () => {
  const agent = AgentHeartbeatSchema.parse({
    id: 'vm-1',
    version: '0.1.0',
    host: 'vm-1',
    state: 'running',
    capacity: 2,
    running: ['r1'],
    startedAt: now,
    heartbeatAt: now,
  });

  it('is alive within the window and not after it, or once stopped', () => {
    expect(isAgentAlive(agent, new Date(Date.parse(now) + 30_000))).toBe(true);
    expect(isAgentAlive(agent, new Date(Date.parse(now) + 46_000))).toBe(false);
    expect(isAgentAlive({ ...agent, state: 'stopped' }, new Date(now))).toBe(false);
  });

  it('rejects a negative capacity at its path', () => {
    expect(issuesOf(AgentHeartbeatSchema, { ...agent, capacity: -1 })[0]?.path).toBe('capacity');
  });
});
