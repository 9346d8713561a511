// The worker's environment: an allow-list over the runner's own, so nothing of the agent reaches a worker.

/**
 * Names a worker gets from the runner's environment (the tmux server's, inherited by the session): what a
 * shell and Claude Code need, and the Claude credential. Everything else stays out: the agent's settings
 * (NIGHTSHIFT_*, GOOGLE_*, COMPUTE_API_URL, the emulators' hosts), systemd's and tmux's own variables.
 * Locally the agent may start the tmux server itself, and then the server holds the agent's whole
 * environment: this list is what keeps it from the worker there too.
 */
export const WORKER_ENV_NAMES = Object.freeze([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'TZ',
  'TMPDIR',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  // The two variables Claude Code logs in with (install.sh's workers.env holds one of them).
  'ANTHROPIC_API_KEY',
  'CLAUDE_CODE_OAUTH_TOKEN',
  // A proxy set for the machine, which the worker's traffic has to take as well.
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
]);

/**
 * The worker's environment: the allowed names from `inherited`, then the launch spec's own variables
 * (written by the agent for this run: NIGHTSHIFT_RUN_ID, NIGHTSHIFT_RUN_DIR and a test's extras).
 */
export function workerEnvOf(inherited, specEnv) {
  const env = {};
  for (const name of WORKER_ENV_NAMES) {
    const value = inherited[name];
    if (typeof value === 'string') env[name] = value;
  }
  return { ...env, ...specEnv };
}
