// The bench's write log: which commits belong to a run, counted by document and by process.
import { describe, expect, it } from 'vitest';
import { firstCommit, parseCommitLog, runOfDoc, writesOfRun } from './writes.js';

const log = [
  {
    p: 'api',
    m: 'commit',
    t0: 1,
    t1: 2,
    ok: true,
    w: [{ d: 'runs/r1', s: 'queued' }, { d: 'runs/r1/events/e1' }],
  },
  { p: 'agent', m: 'commit', t0: 3, t1: 4, ok: true, w: [{ d: 'workerLocks/w', r: 'r1' }] },
  { p: 'agent', m: 'commit', t0: 3, t1: 4, ok: true, w: [{ d: 'runs/r1', s: 'starting' }] },
  { p: 'agent', m: 'commit', t0: 5, t1: 6, ok: false, w: [{ d: 'runs/r1', f: ['progress', 'usage'] }] },
  { p: 'agent', m: 'commit', t0: 7, t1: 8, ok: true, w: [{ d: 'runs/r1', f: ['progress', 'usage'] }] },
  { p: 'agent', m: 'commit', t0: 9, t1: 10, ok: true, w: [{ d: 'runs/r10', s: 'starting' }] },
  { p: 'agent', m: 'commit', t0: 11, t1: 12, ok: true, w: [{ d: 'agents/bench' }] },
  { p: 'agent', m: 'commit', t0: 13, t1: 14, ok: true, w: [{ d: 'workerLocks/w', del: true }] },
  { p: 'agent', m: 'commit', t0: 15, t1: 16, ok: true, w: [{ d: 'workerLocks/w', r: 'r2' }] },
  { p: 'agent', m: 'commit', t0: 17, t1: 18, ok: true, w: [{ d: 'workerLocks/w', del: true }] },
]
  .map((l) => JSON.stringify(l))
  .join('\n');

describe('the write log', () => {
  it('counts the documents of a run, its events and its worker lock, by process, leaving out failed commits and other runs', () => {
    expect(writesOfRun(parseCommitLog(log), 'r1')).toEqual({
      documents: 6,
      commits: 5,
      byProcess: { api: 2, agent: 4 },
    });
    expect(writesOfRun(parseCommitLog(log), 'r2')).toEqual({
      documents: 2,
      commits: 2,
      byProcess: { agent: 2 },
    });
  });

  it('finds the first commit of a process that writes the run document as asked', () => {
    const lines = parseCommitLog(log);
    expect(firstCommit(lines, 'r1', 'agent', (w) => w.f?.includes('progress') ?? false)?.t1).toBe(8);
    expect(firstCommit(lines, 'r1', 'agent', (w) => w.s === 'succeeded')).toBeNull();
  });

  it('names a run only for its own documents', () => {
    expect(runOfDoc('runs/abc/events/x')).toBe('abc');
    expect(runOfDoc('workers/runs')).toBeNull();
    expect(runOfDoc(null)).toBeNull();
  });

  it('refuses a line that is no commit, naming it', () => {
    expect(() => parseCommitLog('{"p":"agent"}')).toThrow(/line 1 is not a commit/);
  });
});
