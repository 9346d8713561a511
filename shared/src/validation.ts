// Turning zod issues into messages that name the field and what was expected.
import type { z } from 'zod';

export interface FieldIssue {
  /** Dotted path of the field, e.g. "repo.branch"; "(root)" for the value itself. */
  path: string;
  message: string;
}

export function pathOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => String(p)).join('.');
}

export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: pathOf(i.path), message: i.message }));
}

/** One line: `repo.branch: expected …; maxTurns: …`. */
export function formatIssues(error: z.ZodError): string {
  return fieldIssues(error)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
}
