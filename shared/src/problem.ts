// RFC 9457 problem details: the error body of the HTTP API, read back by the CLI and dashboard.
import * as z from 'zod';

export const ProblemSchema = z.object({
  type: z.string().default('about:blank'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  /** Zod issue paths, for validation errors. */
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
