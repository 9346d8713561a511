// Types of env.mjs, for the agent's TypeScript and the tests.
export declare const WORKER_ENV_NAMES: readonly string[];
export function workerEnvOf(
  inherited: Record<string, string | undefined>,
  specEnv: Record<string, string>,
): Record<string, string>;
