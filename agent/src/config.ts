// The agent's configuration: the only place in agent/ that reads process.env.
import { ConfigError, ENV, type LogFormat, parseEnv, type VmRef } from '@nightshift/shared';
import * as z from 'zod';
import { DEFAULT_GIT_USERNAME, type GitCredentialsConfig, parseNamedTokens } from './git-auth/credentials.js';
import { parseSecretValue, type SecretValue } from './git-auth/secrets.js';

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
  /** The git credentials (agent/PROTOCOL.md, Credentials); secrets stay references until a run needs them. */
  git: GitCredentialsConfig;
  /** SECRET_MANAGER_API_URL: Secret Manager's REST root (a stand-in in tests); unset: Google's. */
  secretManagerUrl: string | undefined;
}

/** The agent's variables that hold (or name) a secret: never handed to git, a worker or a log. */
export const SECRET_ENV_NAMES = [
  'NIGHTSHIFT_GIT_TOKEN',
  'NIGHTSHIFT_GIT_TOKENS',
  'GITHUB_APP_PRIVATE_KEY',
] as const;

/**
 * The environment of the agent's own git commands: the agent's, without its secrets (git needs none of
 * them: a credential reaches it for one operation only) and without any way to prompt or to run a
 * program the workspace's config names for SSH or a password prompt.
 */
export function gitEnvironment(
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if ((SECRET_ENV_NAMES as readonly string[]).includes(name) || name.startsWith('NIGHTSHIFT_GIT_AUTH_'))
      continue;
    out[name] = value;
  }
  out.GIT_TERMINAL_PROMPT = '0';
  // Set but empty: git then asks no askpass program at all (not even core.askPass from the workspace).
  out.GIT_ASKPASS = '';
  out.SSH_ASKPASS = '';
  // Outranks core.sshCommand, which a worker could set in the workspace's config.
  if (env.GIT_SSH_COMMAND === undefined && env.GIT_SSH === undefined) out.GIT_SSH_COMMAND = 'ssh';
  return out;
}

const GIT_ENV = {
  NIGHTSHIFT_GIT_TOKEN: z.string().min(1).optional(),
  NIGHTSHIFT_GIT_USERNAME: z
    .string()
    .regex(/^[^\s:@]{1,100}$/, { message: 'expected a user name without spaces, ":" or "@"' })
    .default(DEFAULT_GIT_USERNAME),
  NIGHTSHIFT_GIT_TOKENS: z.string().min(1).optional(),
  GITHUB_APP_ID: z
    .string()
    .regex(/^\d{1,12}$/, { message: "expected the GitHub App's numeric App ID" })
    .optional(),
  GITHUB_APP_PRIVATE_KEY: z.string().min(1).optional(),
  SECRET_MANAGER_API_URL: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).optional(),
};

/** The git credential variables; every problem becomes a line naming the variable, never its value. */
function loadGitConfig(
  env: Record<string, string | undefined>,
  projectId: string | undefined,
  apiUrl: string | undefined,
): { git: GitCredentialsConfig; secretManagerUrl: string | undefined; problems: string[] } {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(GIT_ENV)) input[name] = env[name] === '' ? undefined : env[name];
  const problems: string[] = [];
  const parsed = z.object(GIT_ENV).safeParse(input);
  const empty = {
    git: { username: DEFAULT_GIT_USERNAME, apiUrl: apiUrl ?? 'https://api.github.com' },
    secretManagerUrl: undefined,
  };
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      const secret = /TOKEN|KEY/.test(name);
      problems.push(
        `${name}: ${issue.message}; ${secret ? 'got a value that does not fit' : `got "${input[name]}"`}`,
      );
    }
    return { ...empty, problems };
  }
  const v = parsed.data;
  const secret = (name: string, text: string | undefined): SecretValue | undefined => {
    if (text === undefined) return undefined;
    const value = parseSecretValue(text, projectId ?? '');
    if (value === null)
      problems.push(
        `${name}: expected a value, or sm://SECRET or sm://projects/P/secrets/SECRET[/versions/N]; got a reference that does not fit`,
      );
    return value ?? undefined;
  };
  const tokens = secret('NIGHTSHIFT_GIT_TOKENS', v.NIGHTSHIFT_GIT_TOKENS);
  if (tokens?.kind === 'value') {
    try {
      parseNamedTokens(tokens.value, 'NIGHTSHIFT_GIT_TOKENS');
    } catch (error) {
      problems.push(
        `NIGHTSHIFT_GIT_TOKENS: ${(error as Error).message.replace(/^NIGHTSHIFT_GIT_TOKENS /, '')}`,
      );
    }
  }
  const key = secret('GITHUB_APP_PRIVATE_KEY', v.GITHUB_APP_PRIVATE_KEY);
  if ((v.GITHUB_APP_ID === undefined) !== (key === undefined))
    problems.push(
      v.GITHUB_APP_ID === undefined
        ? 'GITHUB_APP_ID: expected it to be set with GITHUB_APP_PRIVATE_KEY; it is not set'
        : 'GITHUB_APP_PRIVATE_KEY: expected it to be set with GITHUB_APP_ID; it is not set',
    );
  return {
    git: {
      token: secret('NIGHTSHIFT_GIT_TOKEN', v.NIGHTSHIFT_GIT_TOKEN),
      username: v.NIGHTSHIFT_GIT_USERNAME,
      tokens,
      app:
        v.GITHUB_APP_ID !== undefined && key !== undefined
          ? { id: v.GITHUB_APP_ID, privateKey: key }
          : undefined,
      apiUrl: apiUrl ?? 'https://api.github.com',
    },
    secretManagerUrl: v.SECRET_MANAGER_API_URL,
    problems,
  };
}

/** Parses the agent's variables; throws a ConfigError naming every bad or missing one. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  let problems: string[] = [];
  let shared: ReturnType<typeof loadSharedConfig> | undefined;
  try {
    shared = loadSharedConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = [...error.problems];
  }
  const git = loadGitConfig(env, shared?.projectId ?? env.GOOGLE_CLOUD_PROJECT, shared?.githubApiUrl);
  problems.push(...git.problems);
  if (shared === undefined || problems.length > 0) throw new ConfigError(problems);
  const { githubApiUrl: _api, ...rest } = shared;
  return { ...rest, git: git.git, secretManagerUrl: git.secretManagerUrl };
}

function loadSharedConfig(env: Record<string, string | undefined>) {
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
      GITHUB_API_URL: ENV.GITHUB_API_URL,
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
    githubApiUrl: parsed.GITHUB_API_URL,
  };
}
