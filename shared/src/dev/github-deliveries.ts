// Webhook deliveries as GitHub sends them: a documented example payload (@octokit/webhooks-examples) filled in with the stand-in's issue or comment as its REST API returns them, signed with the webhook secret and posted.
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { WebhookDefinition } from '@octokit/webhooks-examples';

// biome-ignore lint/suspicious/noExplicitAny: the documented payloads are edited freely.
type Payload = Record<string, any>;

// The package is the JSON file GitHub's documented examples are published as; read on first use, so an
// importer of the dev index that sends no delivery never loads it.
let examples: WebhookDefinition[] | undefined;

/** A deep copy of the first documented example of an event (and action). */
export function webhookExample(event: string, action?: string): Payload {
  examples ??= createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];
  const definition = examples.find((d) => d.name === event);
  const found = (definition?.examples as Payload[] | undefined)?.find(
    (e) => action === undefined || e.action === action,
  );
  if (!found) throw new Error(`no documented example for ${event}${action ? `.${action}` : ''}`);
  return structuredClone(found);
}

/**
 * The headers and exact body of a delivery, signed as GitHub signs it (X-Hub-Signature-256 over the raw
 * body). A null secret sends no signature header; `signature` is sent as given instead (a forged one).
 */
export function signedDelivery(
  secret: string | null,
  event: string,
  payload: unknown,
  options: { deliveryId?: string; signature?: string } = {},
): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify(payload);
  const signature =
    options.signature ??
    (secret === null ? undefined : `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  return {
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': options.deliveryId ?? randomUUID(),
      ...(signature === undefined ? {} : { 'x-hub-signature-256': signature }),
      'user-agent': 'GitHub-Hookshot/standin',
    },
    body,
  };
}

/** One delivery for a webhook app; `secret` (a wrong one, or null for none) overrides the app's own. */
export interface AppDelivery {
  event: string;
  payload: unknown;
  deliveryId?: string;
  secret?: string | null;
  signature?: string;
}

/** Sends a signed delivery through a Hono app's `request()` (no server), signed with `secret` unless `d` says otherwise. */
export async function deliverToApp(
  app: { request(path: string, init: RequestInit): Response | Promise<Response> },
  secret: string,
  d: AppDelivery,
): Promise<Response> {
  const { headers, body } = signedDelivery(d.secret === undefined ? secret : d.secret, d.event, d.payload, {
    ...(d.deliveryId === undefined ? {} : { deliveryId: d.deliveryId }),
    ...(d.signature === undefined ? {} : { signature: d.signature }),
  });
  return app.request('/', { method: 'POST', headers, body });
}

/** Posts a signed delivery to the webhook; resolves with the status and the answer's JSON (or text). */
export async function postDelivery(
  webhookUrl: string,
  secret: string,
  event: string,
  payload: unknown,
): Promise<{ status: number; body: unknown }> {
  const { headers, body } = signedDelivery(secret, event, payload);
  const res = await fetch(webhookUrl, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed };
}

/** A caller of the stand-in's API: a person's token (a PAT), as `curl -H "authorization: token …"` is. */
export interface GitHubCaller {
  apiUrl: string;
  token: string;
}

/** One REST call; throws with GitHub's message on an error status. */
export async function callGitHub(
  caller: GitHubCaller,
  method: string,
  path: string,
  body?: unknown,
): Promise<Payload> {
  const res = await fetch(`${caller.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `token ${caller.token}`,
      accept: 'application/vnd.github+json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json().catch(() => ({}))) as Payload;
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${json.message ?? ''}`);
  return json;
}

/** The example's repository, sender and installation made those of the stand-in's. */
function place(payload: Payload, repository: Payload, sender: Payload, installationId?: number): Payload {
  payload.repository = { ...payload.repository, ...repository };
  payload.sender = { ...payload.sender, ...sender };
  if (installationId === undefined) delete payload.installation;
  else payload.installation = { id: installationId, node_id: `I_${installationId}` };
  return payload;
}

/** `issues` `labeled`: `sender` put `label` on the issue (the REST API's JSON of each). */
export function issueLabeledPayload(d: {
  issue: Payload;
  repository: Payload;
  label: string;
  sender: Payload;
  installationId?: number;
}): Payload {
  const payload = webhookExample('issues', 'labeled');
  const labels = [...(d.issue.labels ?? []).filter((l: Payload) => l.name !== d.label), { name: d.label }];
  payload.issue = { ...payload.issue, ...d.issue, labels };
  payload.label = { ...payload.label, name: d.label };
  return place(payload, d.repository, d.sender, d.installationId);
}

/** `issue_comment` `created`: the comment on an issue or pull request (then `issue.pull_request` is set). */
export function issueCommentPayload(d: {
  issue: Payload;
  comment: Payload;
  repository: Payload;
  installationId?: number;
}): Payload {
  const payload = webhookExample('issue_comment', 'created');
  payload.issue = { ...payload.issue, ...d.issue };
  if (d.issue.pull_request === undefined) delete payload.issue.pull_request;
  payload.comment = { ...payload.comment, ...d.comment };
  return place(payload, d.repository, d.comment.user, d.installationId);
}

/** `check_suite` `completed` with `conclusion` on the pull request's head commit (the pulls API's JSON of it). */
export function checkSuiteCompletedPayload(d: {
  pull: Payload;
  repository: Payload;
  conclusion: string;
  installationId?: number;
}): Payload {
  const payload = webhookExample('check_suite', 'completed');
  const { head, base } = d.pull;
  Object.assign(payload.check_suite, {
    head_branch: head.ref,
    head_sha: head.sha,
    after: head.sha,
    conclusion: d.conclusion,
    pull_requests: [
      {
        url: d.pull.url,
        id: d.pull.id,
        number: d.pull.number,
        head: { ref: head.ref, sha: head.sha, repo: { id: d.repository.id, name: d.repository.name } },
        base: { ref: base.ref, sha: base.sha, repo: { id: d.repository.id, name: d.repository.name } },
      },
    ],
  });
  return place(payload, d.repository, payload.sender, d.installationId);
}

/**
 * `pull_request_review` `submitted`: the review as the REST API made it (its state upper case there, lower
 * case in the webhook, as GitHub sends it) on the pull request (the pulls API's JSON of it).
 */
export function pullRequestReviewPayload(d: {
  review: Payload;
  pull: Payload;
  repository: Payload;
  installationId?: number;
}): Payload {
  const payload = webhookExample('pull_request_review', 'submitted');
  payload.review = { ...payload.review, ...d.review, state: String(d.review.state).toLowerCase() };
  payload.pull_request = { ...payload.pull_request, ...d.pull };
  return place(payload, d.repository, d.review.user, d.installationId);
}

/** Where deliveries go and how they are signed. */
export interface WebhookTarget {
  webhookUrl: string;
  secret: string;
  installationId?: number;
}

/** Opens an issue on the stand-in as the caller and delivers `issues.labeled` with `label`, as GitHub would. */
export async function openLabeledIssue(
  caller: GitHubCaller,
  target: WebhookTarget,
  repo: string,
  issue: { title: string; body?: string; label: string },
) {
  const repository = await callGitHub(caller, 'GET', `/repos/${repo}`);
  const made = await callGitHub(caller, 'POST', `/repos/${repo}/issues`, {
    title: issue.title,
    body: issue.body ?? '',
    labels: [issue.label],
  });
  const payload = issueLabeledPayload({
    issue: made,
    repository,
    label: issue.label,
    sender: made.user,
    ...(target.installationId === undefined ? {} : { installationId: target.installationId }),
  });
  const delivery = await postDelivery(target.webhookUrl, target.secret, 'issues', payload);
  return { issue: made, delivery };
}

/** Comments on an issue or pull request of the stand-in as the caller and delivers `issue_comment.created`. */
export async function commentAndDeliver(
  caller: GitHubCaller,
  target: WebhookTarget,
  repo: string,
  number: number,
  body: string,
) {
  const repository = await callGitHub(caller, 'GET', `/repos/${repo}`);
  const comment = await callGitHub(caller, 'POST', `/repos/${repo}/issues/${number}/comments`, { body });
  const issue = await callGitHub(caller, 'GET', `/repos/${repo}/issues/${number}`);
  const payload = issueCommentPayload({
    issue,
    comment,
    repository,
    ...(target.installationId === undefined ? {} : { installationId: target.installationId }),
  });
  const delivery = await postDelivery(target.webhookUrl, target.secret, 'issue_comment', payload);
  return { comment, delivery };
}

/** A review comment as `POST …/pulls/{n}/reviews` takes it: a line of a file in the diff. */
export interface ReviewCommentInput {
  path: string;
  line: number;
  body: string;
}

/**
 * Submits a review on a pull request of the stand-in as the caller (`event`: REQUEST_CHANGES, COMMENT,
 * APPROVE) with comments on lines, and delivers `pull_request_review.submitted`, as GitHub would.
 */
export async function reviewAndDeliver(
  caller: GitHubCaller,
  target: WebhookTarget,
  repo: string,
  number: number,
  review: { event: string; body: string; comments?: ReviewCommentInput[] },
) {
  const repository = await callGitHub(caller, 'GET', `/repos/${repo}`);
  const made = await callGitHub(caller, 'POST', `/repos/${repo}/pulls/${number}/reviews`, {
    event: review.event,
    body: review.body,
    comments: (review.comments ?? []).map((c) => ({ ...c, side: 'RIGHT' })),
  });
  const pull = await callGitHub(caller, 'GET', `/repos/${repo}/pulls/${number}`);
  const payload = pullRequestReviewPayload({
    review: made,
    pull,
    repository,
    ...(target.installationId === undefined ? {} : { installationId: target.installationId }),
  });
  const delivery = await postDelivery(target.webhookUrl, target.secret, 'pull_request_review', payload);
  return { review: made, delivery };
}
