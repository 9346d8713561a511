// Turning zod issues into messages that name the field and what was expected.
import type * as z from 'zod';

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

export type ParsedJsonObject = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/** A message body as a JSON object; never throws (`what` names it in the reason: "command", …). */
export function parseJsonObject(data: Buffer | string | Uint8Array, what: string): ParsedJsonObject {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    return { ok: false, reason: `${what} is not JSON` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: `${what} is not a JSON object` };
  }
  return { ok: true, value: json as Record<string, unknown> };
}
