// Identifier schemas: worker slugs, run ids, agent ids, GitHub repository names.
import * as z from 'zod';

/** A worker id: lowercase letters, digits and dashes; safe as a path segment, tmux name and Firestore id. */
export const SlugSchema = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, {
  message: 'expected a slug: 1-63 lowercase letters, digits or dashes, not starting or ending with a dash',
});
export type Slug = z.infer<typeof SlugSchema>;

/** A run id: letters, digits, dashes and underscores (generated ids and ids derived from a schedule slot). */
export const RunIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, {
  message: 'expected a run id: up to 128 letters, digits, dashes or underscores',
});
export type RunId = z.infer<typeof RunIdSchema>;

/** An agent id: usually the VM's hostname. */
export const AgentIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
  message: 'expected an agent id: up to 128 letters, digits, dots, dashes or underscores',
});
export type AgentId = z.infer<typeof AgentIdSchema>;

/** `owner/name` of a GitHub repository. */
export const GitHubRepoSchema = z.string().regex(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/, {
  message: 'expected a GitHub repository as owner/name',
});

/** An ISO-8601 timestamp with a time zone, as every time appears in documents and the API. */
export const IsoDateTimeSchema = z.iso.datetime({ offset: true, message: 'expected an ISO-8601 date-time' });
export type IsoDateTime = z.infer<typeof IsoDateTimeSchema>;
