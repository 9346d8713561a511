// The functions' own timings, with units in their names (shared ones live in @nightshift/shared).

/** A publish that has not answered by then fails its run rather than leave it queued. */
export const PUBLISH_TIMEOUT_MS = 10_000;
