// GitHub webhook payloads (only the fields nightshift reads) and the pure decision: which workers get a run.
import type { Worker } from '@nightshift/shared';
import * as z from 'zod';

const UserSchema = z.object({ login: z.string().min(1), type: z.string() });
const LabelSchema = z.object({ name: z.string() });
const RepositorySchema = z.object({ full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/) });
/** Present on every event a GitHub App's webhook delivers: the installation it came through. */
const InstallationRefSchema = z.object({ id: z.number().int().positive() });

const IssueSchema = z.object({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullish(),
  html_url: z.string().optional(),
  user: UserSchema.nullish(),
  author_association: z.string().optional(),
  labels: z.array(LabelSchema).nullish(),
  /** Present when the "issue" is a pull request (issue_comment fires for both). */
  pull_request: z.unknown().optional(),
});

export const IssuesPayloadSchema = z.object({
  action: z.string(),
  issue: IssueSchema,
  label: LabelSchema.nullish(),
  repository: RepositorySchema,
  sender: UserSchema,
  installation: InstallationRefSchema.nullish(),
});
export type IssuesPayload = z.infer<typeof IssuesPayloadSchema>;

export const IssueCommentPayloadSchema = z.object({
  action: z.string(),
  issue: IssueSchema,
  comment: z.object({
    id: z.number().int(),
    body: z.string().nullish(),
    user: UserSchema,
    author_association: z.string(),
  }),
  repository: RepositorySchema,
  sender: UserSchema,
  installation: InstallationRefSchema.nullish(),
});
export type IssueCommentPayload = z.infer<typeof IssueCommentPayloadSchema>;

/** Who may start a run with a comment: people with write access or membership, as GitHub reports them. */
export const TRUSTED_ASSOCIATIONS = ['OWNER', 'MEMBER', 'COLLABORATOR'] as const;
export const isTrustedAssociation = (association: string | undefined) =>
  (TRUSTED_ASSOCIATIONS as readonly string[]).includes(association ?? '');

/**
 * The `/nightshift run [extra instructions]` command on the first line of a comment; null when the
 * comment is not one. The extra instructions are the rest of the first line and every line after it.
 */
export function parseRunComment(body: string): { extra: string } | null {
  const [first = '', ...rest] = body.replace(/\r\n?/g, '\n').split('\n');
  const match = /^\s*\/nightshift\s+run(?:\s+(.*))?$/i.exec(first);
  if (!match) return null;
  const extra = [match[1] ?? '', ...rest].join('\n').trim();
  return { extra };
}

export const sameRepo = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export interface RunRequest {
  worker: Worker;
  kind: 'label' | 'comment';
  /** The login the run is attributed to. */
  sender: string;
  /** Extra instructions from a comment command. */
  comment?: { id: number; body: string; extra: string };
}

export interface Ignored {
  workerId?: string;
  reason: string;
}

export interface Plan {
  runs: RunRequest[];
  ignored: Ignored[];
}

/**
 * Which of the workers bound to the repository get a run for a label event (`labeled`, or `opened`
 * with the label already on). A label counts unless its sender is a bot that is not on the worker's
 * allowlist. GitHub lets only people with triage access add labels, but an issue template can add a
 * label for anyone who opens an issue: so when a person labels their own issue, their association with
 * the repository must be OWNER, MEMBER or COLLABORATOR too.
 */
export function planIssueEvent(payload: IssuesPayload, workers: Worker[]): Plan {
  const plan: Plan = { runs: [], ignored: [] };
  const { action, issue, sender } = payload;
  if (action !== 'labeled' && action !== 'opened') {
    plan.ignored.push({ reason: `issues action "${action}" does not start runs` });
    return plan;
  }
  for (const worker of workers) {
    const binding = worker.github;
    if (!binding) continue;
    const label = binding.label;
    const applies =
      action === 'labeled'
        ? payload.label?.name === label
        : (issue.labels ?? []).some((l) => l.name === label);
    if (!applies) {
      plan.ignored.push({
        workerId: worker.id,
        reason:
          action === 'labeled'
            ? `label "${payload.label?.name ?? ''}" is not the worker's label "${label}"`
            : `the new issue does not carry the worker's label "${label}"`,
      });
      continue;
    }
    if (sender.type === 'Bot') {
      const allowed = binding.allowedBots.some((bot) => bot.toLowerCase() === sender.login.toLowerCase());
      if (!allowed) {
        plan.ignored.push({
          workerId: worker.id,
          reason: `bot "${sender.login}" is not on the worker's allowedBots`,
        });
        continue;
      }
    } else if (
      issue.user &&
      issue.user.login.toLowerCase() === sender.login.toLowerCase() &&
      !isTrustedAssociation(issue.author_association)
    ) {
      plan.ignored.push({
        workerId: worker.id,
        reason: `"${sender.login}" labelled their own issue but is ${issue.author_association ?? 'not associated'} on the repository (needs OWNER, MEMBER or COLLABORATOR)`,
      });
      continue;
    }
    plan.runs.push({ worker, kind: 'label', sender: sender.login });
  }
  return plan;
}

/**
 * A `/nightshift run` comment on an issue: every worker bound to the repository gets a run, when the
 * comment's author is OWNER, MEMBER or COLLABORATOR. Comments on pull requests are follow-ups (followups.ts).
 */
export function planCommentEvent(payload: IssueCommentPayload, workers: Worker[]): Plan {
  const plan: Plan = { runs: [], ignored: [] };
  const { action, comment } = payload;
  if (action !== 'created') {
    plan.ignored.push({ reason: `issue_comment action "${action}" does not start runs` });
    return plan;
  }
  const command = parseRunComment(comment.body ?? '');
  if (!command) {
    plan.ignored.push({ reason: 'the comment is not a /nightshift run command' });
    return plan;
  }
  if (!isTrustedAssociation(comment.author_association)) {
    plan.ignored.push({
      reason: `comment author "${comment.user.login}" is ${comment.author_association} on the repository (needs OWNER, MEMBER or COLLABORATOR)`,
    });
    return plan;
  }
  for (const worker of workers) {
    if (!worker.github) continue;
    plan.runs.push({
      worker,
      kind: 'comment',
      sender: comment.user.login,
      comment: { id: comment.id, body: comment.body ?? '', extra: command.extra },
    });
  }
  return plan;
}
