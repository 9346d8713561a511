// Every timing of the CLI, with its unit in its name.

/** How long one API call may take before the CLI gives up on it and names the URL. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often `--follow` asks for the run and its events. */
export const FOLLOW_POLL_MS = 1_000;
/** A failed poll while following is retried this many times in a row before the CLI gives up. */
export const FOLLOW_MAX_POLL_FAILURES = 5;
/** Frame interval of the spinner on a terminal. */
export const SPINNER_FRAME_MS = 100;
