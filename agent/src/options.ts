// The agent's options, compiled once: every setting parsed and defaulted here, for main, the tests and the agent process.
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { AgentIdSchema, formatIssues, VmRefSchema } from '@nightshift/shared';
import * as z from 'zod';
import { type GitAuth, NO_GIT_AUTH } from './git-auth/credentials.js';
import { createLogger, type Logger } from './log.js';
import { type AgentTimings, AgentTimingsSchema, DEFAULT_TIMINGS } from './timings.js';
import type { Tmux } from './tmux.js';
import { AGENT_VERSION } from './version.js';

/**
 * The runner script. Resolved from this module, which sits directly in agent/src/ like main.ts: the
 * bundle keeps that layout (`dist/agent/main.js` beside `dist/agent/runner/runner.mjs`).
 */
export const RUNNER_PATH = join(dirname(fileURLToPath(import.meta.url)), 'runner', 'runner.mjs');

/** What an agent is, as plain data (the JSON an agent process is started with). */
export const AgentSettingsSchema = z.object({
  agentId: AgentIdSchema,
  home: z.string().startsWith('/', { message: 'expected an absolute path' }),
  workerCommand: z.string().min(1),
  /** Most runs held at once (NIGHTSHIFT_MAX_WORKERS). */
  capacity: z.number().int().min(1).max(64),
  /** Any timing left out keeps its default. */
  timings: AgentTimingsSchema.partial().default({}),
  /** Extra environment for the worker (tests point the fake claude at its folder with it). */
  workerEnv: z.record(z.string(), z.string()).default({}),
  version: z.string().min(1).default(AGENT_VERSION),
  host: z
    .string()
    .min(1)
    .default(() => hostname()),
  nodePath: z
    .string()
    .min(1)
    .default(() => process.execPath),
  runnerPath: z.string().min(1).default(RUNNER_PATH),
  /** The Google Cloud project of the VM (its Compute calls); without it there is no idle stop. */
  projectId: z.string().min(1).optional(),
  /** The own VM (NIGHTSHIFT_VM); unset: asked from the metadata server. */
  vm: VmRefSchema.optional(),
  /** The metadata server's host[:port] (GCE_METADATA_HOST); unset: Google's. */
  metadataHost: z.string().min(1).optional(),
  /** Whether the metadata server may say which VM to stop when `vm` is unset (not on the emulators). */
  vmFromMetadata: z.boolean().default(true),
  /** The Compute API root (COMPUTE_API_URL, a stand-in locally); unset: Google's. */
  computeApiUrl: z.url({ protocol: /^https?$/ }).optional(),
});
export type AgentSettings = z.input<typeof AgentSettingsSchema>;

/** The agent's reading of the time; tests may give their own. */
export interface Clock {
  now(): Date;
}

/** The clients an agent talks through: live objects, never parsed. */
export interface AgentClients {
  db: Firestore;
  pubsub: PubSub;
  tmux: Tmux;
  logger?: Logger;
  now?: () => Date;
  /** The git credentials of clones, fetches and pushes; unset: none (the VM user's own git setup). */
  gitAuth?: GitAuth;
}

export type AgentOptionsInput = AgentSettings & AgentClients;

/** Compiled options: everything set, nothing left to default. */
export interface AgentOptions extends Omit<z.output<typeof AgentSettingsSchema>, 'timings'> {
  timings: AgentTimings;
  db: Firestore;
  pubsub: PubSub;
  tmux: Tmux;
  logger: Logger;
  clock: Clock;
  gitAuth: GitAuth;
}

/** Parses and defaults every option; throws one error naming each bad setting. */
export function compileAgentOptions(input: AgentOptionsInput): AgentOptions {
  const { db, pubsub, tmux, logger, now, gitAuth, ...settings } = input;
  const parsed = AgentSettingsSchema.safeParse(settings);
  if (!parsed.success) throw new Error(`agent options: ${formatIssues(parsed.error)}`);
  const s = parsed.data;
  return {
    ...s,
    timings: { ...DEFAULT_TIMINGS, ...s.timings },
    db,
    pubsub,
    tmux,
    logger: logger ?? createLogger({ agent: s.agentId }),
    clock: { now: now ?? (() => new Date()) },
    gitAuth: gitAuth ?? NO_GIT_AUTH,
  };
}
