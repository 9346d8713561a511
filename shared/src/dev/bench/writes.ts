// The bench's write log (count-writes.mjs): the Firestore commits of each run, by process, with their times.
import { readFile } from 'node:fs/promises';
import * as z from 'zod';

export const CommitLineSchema = z.object({
  /** The process that committed (agent, api, reactor). */
  p: z.string(),
  m: z.string(),
  /** When the commit was sent and answered (epoch ms). */
  t0: z.number(),
  t1: z.number(),
  ok: z.boolean(),
  w: z.array(
    z.object({
      d: z.string().nullable(),
      s: z.string().optional(),
      /** The runId field of the document written (a worker lock's run). */
      r: z.string().optional(),
      f: z.array(z.string()).optional(),
      del: z.boolean().optional(),
    }),
  ),
});
export type CommitLine = z.infer<typeof CommitLineSchema>;

export function parseCommitLog(text: string): CommitLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const parsed = CommitLineSchema.safeParse(JSON.parse(l));
      if (!parsed.success) throw new Error(`write log line ${i + 1} is not a commit: ${l.slice(0, 200)}`);
      return parsed.data;
    });
}

export const readCommitLog = async (path: string) =>
  parseCommitLog(await readFile(path, 'utf8').catch(() => ''));

/** The run a document belongs to: runs/<id> and anything under it. */
export function runOfDoc(doc: string | null): string | null {
  const m = doc === null ? null : /^runs\/([^/]+)/.exec(doc);
  return m?.[1] ?? null;
}

export interface RunWrites {
  /** Documents written (a commit of a run document and its event is two). */
  documents: number;
  commits: number;
  byProcess: Record<string, number>;
}

/**
 * Writes of one run, successful commits only: its document and its events, and its worker lock (written
 * with the run's id, deleted when the run ends: the delete of a lock is the run's that last wrote it).
 */
export function writesOfRun(lines: readonly CommitLine[], runId: string): RunWrites {
  const out: RunWrites = { documents: 0, commits: 0, byProcess: {} };
  const lockHolder = new Map<string, string>();
  for (const line of lines) {
    if (!line.ok) continue;
    const mine = line.w.filter((w) => {
      if (w.d === null) return false;
      if (runOfDoc(w.d) === runId) return true;
      if (!w.d.startsWith('workerLocks/')) return false;
      const holder = w.del ? lockHolder.get(w.d) : w.r;
      if (w.r !== undefined) lockHolder.set(w.d, w.r);
      return holder === runId;
    }).length;
    if (mine === 0) continue;
    out.commits++;
    out.documents += mine;
    out.byProcess[line.p] = (out.byProcess[line.p] ?? 0) + mine;
  }
  return out;
}

/** The first successful commit of `proc` that writes the run's document and passes `test` (its answer time). */
export function firstCommit(
  lines: readonly CommitLine[],
  runId: string,
  proc: string,
  test: (w: CommitLine['w'][number]) => boolean,
): CommitLine | null {
  for (const line of lines) {
    if (line.ok && line.p === proc && line.w.some((w) => w.d === `runs/${runId}` && test(w))) return line;
  }
  return null;
}
