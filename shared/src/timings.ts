// Every timing shared by more than one package, with its unit in its name.

/** How often an agent writes its heartbeat document and renews its run leases. */
export const AGENT_HEARTBEAT_INTERVAL_MS = 15_000;
/** An agent whose last heartbeat is older than this is not counted as alive. */
export const AGENT_ALIVE_WINDOW_MS = 3 * AGENT_HEARTBEAT_INTERVAL_MS;
/** A run lease lasts this long past its last renewal. */
export const RUN_LEASE_MS = 4 * AGENT_HEARTBEAT_INTERVAL_MS;
/** Progress is written to Firestore at most this often per run. */
export const PROGRESS_WRITE_INTERVAL_MS = 5_000;
/** A cancel request is seen by the agent that holds the run within this time. */
export const CANCEL_NOTICE_MS = 5_000;
/** A worker still alive this long after its `result` message is stopped (the CLI can hang there). */
export const RESULT_EXIT_GRACE_MS = 30_000;
/** Stopping a worker: SIGINT, then SIGTERM after this, then the session is killed after as long again. */
export const STOP_ESCALATION_MS = 10_000;
/**
 * A queued run untouched this long has its run.start published again by the scheduler tick's sweep (its
 * publish failed, or no agent had room). Short: a run must not wait long for a lost command, and a
 * repeated command costs an agent one read.
 */
export const QUEUED_REPUBLISH_AFTER_MS = 2 * 60_000;
/** Default and upper bound of a run's wall-clock time. */
export const DEFAULT_MAX_DURATION_MINUTES = 240;
export const MAX_DURATION_MINUTES_LIMIT = 24 * 60;
