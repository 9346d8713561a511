// What the run's own files say when it ends: a blocker the worker reported (`BLOCKED:`), and how many items of the roadmap and TASKS.md are still open.
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { BLOCKED_MARKER, type Blocked, type RunCheckout } from '@nightshift/shared';
import { git } from './workspace.js';

/** The longest blocker text kept on the run. */
export const BLOCKED_TEXT_MAX_CHARS = 2_000;
/** The most of a roadmap or TASKS.md read for its open items. */
const LIST_READ_MAX_CHARS = 1_000_000;

/** The blocker lines of a text: each line starting with the marker (after spaces or a list dash), without it. */
export function blockerLinesOf(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(?:[-*]\s+)?BLOCKED:\s*(.*)$/.exec(line);
    if (match) lines.push((match[1] ?? '').trim().slice(0, BLOCKED_TEXT_MAX_CHARS));
  }
  return lines;
}

/**
 * The run's blocker: the last marker line of its final result, else the last marker line of PROGRESS.md
 * that was not there when the run started (PROGRESS.md keeps old entries; a blocker an earlier run wrote
 * is not this run's).
 */
export function blockerOf(
  resultText: string | null,
  progressText: string | null,
  progressAtStart: string | null,
): Blocked | null {
  const fromResult = blockerLinesOf(resultText ?? '').at(-1);
  if (fromResult !== undefined) return { text: fromResult || BLOCKED_MARKER, source: 'result' };
  const before = new Set(blockerLinesOf(progressAtStart ?? ''));
  const fromProgress = blockerLinesOf(progressText ?? '')
    .filter((l) => !before.has(l))
    .at(-1);
  return fromProgress === undefined ? null : { text: fromProgress || BLOCKED_MARKER, source: 'progress' };
}

/** Unchecked `- [ ]` (or `* [ ]`) items of a Markdown checklist. */
export function openItemsOf(text: string): number {
  return text.split('\n').filter((l) => /^\s*[-*+]\s+\[ \]/.test(l)).length;
}

/** A workspace file as committed at `rev` (a path outside the checkout, or not there: null). */
async function committedFile(workspace: string, path: string, rev: string): Promise<string | null> {
  const rel = relative(workspace, resolve(workspace, path));
  if (rel.startsWith('..') || isAbsolute(rel)) return null;
  return git(workspace, ['show', `${rev}:${rel}`]).catch(() => null);
}

/** PROGRESS.md as it was committed when the run started (null: not known). */
export async function progressAtStartOf(
  workspace: string | null,
  checkout: Pick<RunCheckout, 'progressPath'>,
  startCommit: string | null,
): Promise<string | null> {
  if (workspace === null || startCommit === null) return null;
  return committedFile(workspace, checkout.progressPath, startCommit);
}

/**
 * Open items of the roadmap and TASKS.md as the next run finds them: as committed at HEAD (uncommitted
 * changes go to the wip branch), or on the disk when the workspace is no git checkout. Null when neither
 * file is there.
 */
export async function roadmapOpenOf(
  workspace: string | null,
  checkout: Pick<RunCheckout, 'roadmapPath' | 'tasksPath'>,
): Promise<number | null> {
  if (workspace === null) return null;
  const isGit = await git(workspace, ['rev-parse', '--verify', '-q', 'HEAD']).then(
    () => true,
    () => false,
  );
  let total: number | null = null;
  for (const path of [checkout.roadmapPath, checkout.tasksPath]) {
    const text = isGit
      ? ((await committedFile(workspace, path, 'HEAD')) ??
        (isAbsolute(path) ? await readFile(path, 'utf8').catch(() => null) : null))
      : await readFile(resolve(workspace, path), 'utf8').catch(() => null);
    if (text !== null) total = (total ?? 0) + openItemsOf(text.slice(0, LIST_READ_MAX_CHARS));
  }
  return total;
}
