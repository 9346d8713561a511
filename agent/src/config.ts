// The agent's configuration: the only place in agent/ that reads process.env.
import { ENV, parseEnv } from '@nightshift/shared';

export interface AgentConfig {
  projectId: string;
  home: string;
  /** NIGHTSHIFT_TMUX_SOCKET: the workers' tmux server, a name (tmux -L) or a path (tmux -S). */
  tmuxSocket: string;
  workerCommand: string;
  maxWorkers: number;
  agentId: string;
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
  };
}
