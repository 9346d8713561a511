// Types of files.mjs, for the agent's TypeScript.
export declare const RUN_FILES: {
  readonly launch: 'launch.json';
  readonly stream: 'stream.jsonl';
  readonly stderr: 'stderr.log';
  readonly pids: 'pids.json';
  readonly exit: 'exit.json';
  readonly tail: 'tail.json';
  readonly signal: 'signal.json';
};
