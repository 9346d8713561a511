// The names of the files in a run directory: one list for the agent (rundir.ts) and the runner (plain JS).

/** Files of `NIGHTSHIFT_HOME/runs/<runId>/`; PROTOCOL.md's Launch table says who writes each. */
export const RUN_FILES = Object.freeze({
  launch: 'launch.json',
  stream: 'stream.jsonl',
  stderr: 'stderr.log',
  pids: 'pids.json',
  exit: 'exit.json',
  tail: 'tail.json',
  // A signal the agent asks the runner to pass on, when it may not send it itself (another unix user).
  signal: 'signal.json',
});
