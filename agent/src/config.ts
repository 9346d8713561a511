// The agent's configuration: the only place in agent/ that reads process.env.
import { ENV, type LogFormat, parseEnv, type VmRef } from '@nightshift/shared';

export interface AgentConfig {
  projectId: string;
  home: string;
  /** NIGHTSHIFT_TMUX_SOCKET: the workers' tmux server, a name (tmux -L) or a path (tmux -S). */
  tmuxSocket: string;
  workerCommand: string;
  maxWorkers: number;
  agentId: string;
  /** NIGHTSHIFT_IDLE_MINUTES: idle time before the agent stops its own VM; 0 is off. */
  idleMinutes: number;
  /** NIGHTSHIFT_VM: the agent's own VM, when not asked from the metadata server. */
  vm: VmRef | undefined;
  /** COMPUTE_API_URL: the Compute API root (a stand-in locally); unset: Google's. */
  computeApiUrl: string | undefined;
  /** GCE_METADATA_HOST: the metadata server; unset: Google's. */
  metadataHost: string | undefined;
  /**
   * FIRESTORE_EMULATOR_HOST is set: a local agent. Its VM is only ever NIGHTSHIFT_VM (a stand-in), never
   * the machine it happens to run on, even a Google Cloud dev VM whose metadata server would answer.
   */
  onEmulators: boolean;
  /** NIGHTSHIFT_LOG_FORMAT: `json` (the journal, Cloud Logging) or `pretty` (npm start's console). */
  logFormat: LogFormat;
}

/** Parses the agent's variables; throws a ConfigError naming every bad or missing one. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  const parsed = parseEnv(
    {
      GOOGLE_CLOUD_PROJECT: ENV.GOOGLE_CLOUD_PROJECT,
      NIGHTSHIFT_HOME: ENV.NIGHTSHIFT_HOME,
      NIGHTSHIFT_TMUX_SOCKET: ENV.NIGHTSHIFT_TMUX_SOCKET,
      NIGHTSHIFT_WORKER_COMMAND: ENV.NIGHTSHIFT_WORKER_COMMAND,
      NIGHTSHIFT_MAX_WORKERS: ENV.NIGHTSHIFT_MAX_WORKERS,
      NIGHTSHIFT_AGENT_ID: ENV.NIGHTSHIFT_AGENT_ID,
      NIGHTSHIFT_IDLE_MINUTES: ENV.NIGHTSHIFT_IDLE_MINUTES,
      NIGHTSHIFT_VM: ENV.NIGHTSHIFT_VM,
      COMPUTE_API_URL: ENV.COMPUTE_API_URL,
      GCE_METADATA_HOST: ENV.GCE_METADATA_HOST,
      FIRESTORE_EMULATOR_HOST: ENV.FIRESTORE_EMULATOR_HOST,
      NIGHTSHIFT_LOG_FORMAT: ENV.NIGHTSHIFT_LOG_FORMAT,
    },
    env,
  );
  return {
    projectId: parsed.GOOGLE_CLOUD_PROJECT,
    home: parsed.NIGHTSHIFT_HOME,
    tmuxSocket: parsed.NIGHTSHIFT_TMUX_SOCKET,
    workerCommand: parsed.NIGHTSHIFT_WORKER_COMMAND,
    maxWorkers: parsed.NIGHTSHIFT_MAX_WORKERS,
    agentId: parsed.NIGHTSHIFT_AGENT_ID,
    idleMinutes: parsed.NIGHTSHIFT_IDLE_MINUTES,
    vm: parsed.NIGHTSHIFT_VM,
    computeApiUrl: parsed.COMPUTE_API_URL,
    metadataHost: parsed.GCE_METADATA_HOST,
    onEmulators: parsed.FIRESTORE_EMULATOR_HOST !== undefined,
    logFormat: parsed.NIGHTSHIFT_LOG_FORMAT,
  };
}
