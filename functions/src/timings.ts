// The functions' own timings and limits, with units in their names (shared ones live in @nightshift/shared).

/**
 * How long a publish is waited for. A run whose run.start did not answer in time stays queued (the publish
 * may still land) and the scheduler tick publishes it again; it is never failed for that.
 */
export const PUBLISH_TIMEOUT_MS = 10_000;

/**
 * Deadline of each Firestore call the functions make (every call through deps: core/deps.ts). Well below
 * the functions' own timeout (60 s), so a frozen Firestore is a 503 with Retry-After, never a hang.
 */
export const FIRESTORE_DEADLINE_MS = 10_000;

/** How long one GitHub API call may take. */
export const GITHUB_REQUEST_TIMEOUT_MS = 10_000;

/**
 * How long a function instance trusts the installation it looked up for a repository (GET
 * /repos/{owner}/{repo}/installation) before it asks again. A reinstalled App (a new installation id)
 * fails the next token within this; the lookup then runs again at once (github/client.ts).
 */
export const INSTALLATION_ID_CACHE_MS = 10 * 60_000;

/**
 * A GitHub App installation token this fresh that GitHub answers 401 may not have replicated yet (GitHub
 * documents the delay; @octokit/auth-app waits for it the same way): the call is tried once more after
 * TOKEN_REPLICATION_RETRY_MS.
 */
export const TOKEN_REPLICATION_MS = 5_000;
export const TOKEN_REPLICATION_RETRY_MS = 1_000;

/**
 * A run summary claimed by a tick longer ago than this is taken to be abandoned (the tick stopped between
 * claiming and posting) and may be claimed again. Well above one posting's GitHub calls (pull request,
 * maybe a lookup, comment: GITHUB_REQUEST_TIMEOUT_MS each).
 */
export const SUMMARY_CLAIM_EXPIRY_MS = 5 * 60_000;

/**
 * How long an Idempotency-Key is remembered (a Firestore TTL policy on `expiresAt` deletes it after; see
 * terraform). A retry within a day returns the same run, as Stripe's keys do.
 */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;

/** How long one Compute API call may take (a start only has to be accepted; the VM boots after). */
export const COMPUTE_REQUEST_TIMEOUT_MS = 15_000;

/**
 * A VM whose start was requested this recently is not started again (concurrent runs and ticks start it
 * once); after that, a VM still stopped is started anew (the earlier start was lost or refused).
 */
export const VM_START_DEBOUNCE_MS = 2 * 60_000;

/** The Retry-After of a 503 for a backing service (Firestore, Pub/Sub) that did not answer in time. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * How long a GitHub delivery id is remembered, so a redelivery queues nothing (a Firestore TTL policy on
 * `expiresAt` deletes it after; see terraform). GitHub redelivers for days at most.
 */
export const DELIVERY_TTL_MS = 30 * 24 * 60 * 60_000;

/**
 * How long the bookkeeping of notifications is kept: each `notificationDeliveries` claim (a run status sent
 * to a sink once) and each `notificationDigests` day, and each `githubFeedback` entry (a run summary on
 * GitHub, counted from when it was posted or given up; never while it is owed). A Firestore TTL policy on their `expiresAt` deletes them after (see terraform). Pub/Sub gives up on
 * an event after 7 days at most, and a digest claim is needed only during its own day, so nothing is sent
 * twice; the delivery outcome the owner reads stays on the sink (`lastDelivery`).
 */
export const NOTIFICATION_RECORD_TTL_MS = 30 * 24 * 60 * 60_000;

/**
 * How long a run slot of a day's budget is kept after that day ends before a Firestore TTL policy on its
 * `expiresAt` deletes it (see terraform): only its own day's admissions read it, and a month leaves
 * plenty of room for a run admitted that day and still waiting or being looked at.
 */
export const BUDGET_SLOT_TTL_MS = 30 * 24 * 60 * 60_000;

/** Request bodies larger than this are refused with 413 before they are parsed (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Webhook deliveries larger than this are refused with 413 before they are read: GitHub caps payloads at
 * 25 MB and sends nothing larger, so a bigger body is not GitHub's (taken as MiB, the larger reading).
 */
export const MAX_WEBHOOK_BODY_BYTES = 25 * 1024 * 1024;

/**
 * How long a dashboard sign-in lasts: the session cookie's Max-Age and the expiry signed inside it. A week:
 * the owner looks most nights from the same phone; removing the token from NIGHTSHIFT_API_TOKENS ends it
 * sooner.
 */
export const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60_000;

/**
 * How often an open dashboard page asks for its live parts again. Each ask is one short request answered
 * 304 when nothing changed (ETag), which a function bills for milliseconds; a held-open event stream
 * would be billed for every second it stays open.
 */
export const DASHBOARD_POLL_MS = 5_000;

/** Cache lifetime of the dashboard's and the docs page's static files (their URLs carry a version). */
export const STATIC_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;

/**
 * How long one api instance reuses the overview's read of the month's runs (for the timeline and the
 * costs). Firestore bills every document read: without it each poll of an open overview would read the
 * whole month again. Open runs are read fresh on every poll, so only a run that ended in the last minute
 * can show late on the timeline.
 */
export const OVERVIEW_HISTORY_CACHE_MS = 60_000;

/** How long one notification request may take (connect, send, answer), per attempt. */
export const NOTIFY_REQUEST_TIMEOUT_MS = 5_000;

/**
 * The pauses between attempts of one notification (three attempts in all), in the reactor's own request:
 * bounded, so a dead receiver costs a run.status event at most ~17 s and is then recorded on the sink.
 */
export const NOTIFY_BACKOFF_MS = [500, 2_000] as const;

/** A notification claimed (`sending`) longer ago than this was abandoned by its sender and may be sent again. */
export const NOTIFY_CLAIM_EXPIRY_MS = 2 * 60_000;

/** How much of a receiver's answer is read (for the error recorded on the sink). */
export const NOTIFY_MAX_ANSWER_BYTES = 4_096;

/** After a CI fix is queued for a pull request, further failing checks of it wait this long for another. */
export const CI_FIX_COOLDOWN_MS = 15 * 60_000;
/** The window of a worker's ciFixes.maxPerDay, per pull request. */
export const CI_FIX_WINDOW_MS = 24 * 60 * 60_000;
