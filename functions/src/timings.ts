// The functions' own timings, with units in their names (shared ones live in @nightshift/shared).

/** A publish that has not answered by then fails its run rather than leave it queued. */
export const PUBLISH_TIMEOUT_MS = 10_000;

/**
 * A run summary claimed by a tick longer ago than this is taken to be abandoned (the tick stopped between
 * claiming and posting) and may be claimed again. Well above one posting's GitHub calls (pull request,
 * maybe a lookup, comment: GITHUB_REQUEST_TIMEOUT_MS each).
 */
export const SUMMARY_CLAIM_EXPIRY_MS = 5 * 60_000;
