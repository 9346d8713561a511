// Listing runs: newest first (createdAt desc, then id desc), filtered, with an opaque cursor.
//
// Firestore composite indexes this needs in the cloud (functions/firestore.indexes.json lists them for
// terraform; the emulator needs none): runs (createdAt desc, id desc); (workerId, createdAt desc, id desc);
// (status, createdAt desc, id desc); (workerId, status, createdAt desc, id desc). Deleting a worker asks
// for its active runs: (workerId, status).
import { IsoDateTimeSchema, type Run, RunIdSchema, type RunStatus } from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { badRequest } from '../core/errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface ListRunsQuery {
  workerId?: string;
  status?: RunStatus;
  limit?: number;
  cursor?: string;
}

export interface RunPage {
  runs: Run[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export function encodeCursor(run: Pick<Run, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([run.createdAt, run.id])).toString('base64url');
}

export function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // Only a createdAt and a run id, as encodeCursor writes them: anything else (a lone UTF-16 surrogate,
    // which Firestore cannot encode, included) is a forged cursor, not a query to send.
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      IsoDateTimeSchema.safeParse(value[0]).success &&
      RunIdSchema.safeParse(value[1]).success
    ) {
      return [value[0] as string, value[1] as string];
    }
  } catch {
    // fall through
  }
  throw badRequest('the cursor is not one this API handed out', [
    { path: 'cursor', message: 'expected the nextCursor of an earlier page' },
  ]);
}

export async function listRuns(deps: Deps, query: ListRunsQuery): Promise<RunPage> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  let q = deps.cols.runs.orderBy('createdAt', 'desc').orderBy('id', 'desc');
  if (query.workerId !== undefined) q = q.where('workerId', '==', query.workerId);
  if (query.status !== undefined) q = q.where('status', '==', query.status);
  if (query.cursor !== undefined) q = q.startAfter(...decodeCursor(query.cursor));
  const snapshot = await q.limit(limit + 1).get();
  const runs = snapshot.docs.slice(0, limit).map((d) => d.data());
  const last = runs[runs.length - 1];
  return { runs, nextCursor: snapshot.docs.length > limit && last ? encodeCursor(last) : null };
}
