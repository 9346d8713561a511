// The functions' configuration: the only reader of process.env in functions/, parsed once per function.
import { ENV, type FunctionEntryPoint, type LogFormat, parseEnv } from '@nightshift/shared';
import * as z from 'zod';
import type { DepsOptions, FleetOptions } from './core/deps.js';

type Env = Record<string, string | undefined>;

const common = {
  GOOGLE_CLOUD_PROJECT: ENV.GOOGLE_CLOUD_PROJECT,
  GITHUB_TOKEN: ENV.GITHUB_TOKEN,
  GITHUB_API_URL: ENV.GITHUB_API_URL,
  NIGHTSHIFT_VMS: ENV.NIGHTSHIFT_VMS,
  NIGHTSHIFT_WORKERS_PER_VM: ENV.NIGHTSHIFT_WORKERS_PER_VM,
  NIGHTSHIFT_VM_HOURLY_USD: ENV.NIGHTSHIFT_VM_HOURLY_USD,
  COMPUTE_API_URL: ENV.COMPUTE_API_URL,
  NIGHTSHIFT_LOG_FORMAT: ENV.NIGHTSHIFT_LOG_FORMAT,
};

/**
 * The GitHub App: its id (or client id) and its private key (PEM; `\n` for line breaks is fine). Read as
 * plain text on purpose: a bad value is reported where the App is used (github/client.ts logs it and
 * every GitHub call fails with it), so a misconfigured App never fails every webhook delivery and run
 * as a ConfigError would. The key is never echoed.
 */
const GITHUB_APP_ID = z.string().optional();
const GITHUB_APP_PRIVATE_KEY = z.string().optional();

/**
 * Notifications: http and loopback sink URLs are allowed only where this is `1` or `true` (the local stack
 * sets it; never in the cloud). Optional and never set by terraform.
 */
const NIGHTSHIFT_ALLOW_LOOPBACK_SINKS = z
  .enum(['0', '1', 'true', 'false'], { message: 'expected 1, 0, true or false' })
  .optional()
  .transform((v) => v === '1' || v === 'true');
/**
 * The dashboard's public address, for the run links in notifications (`<url>/runs/<id>`). Optional here;
 * terraform sets it on the functions that send notifications (the reactor and the scheduler).
 */
const NIGHTSHIFT_PUBLIC_URL = z.url({ message: 'expected an absolute URL' }).optional();
const notificationEnv = { NIGHTSHIFT_ALLOW_LOOPBACK_SINKS, NIGHTSHIFT_PUBLIC_URL };

/** How the functions send notifications, from a parsed config. */
export function notificationsOf(config: {
  NIGHTSHIFT_ALLOW_LOOPBACK_SINKS: boolean;
  NIGHTSHIFT_PUBLIC_URL?: string | undefined;
}) {
  return {
    policy: { allowLoopback: config.NIGHTSHIFT_ALLOW_LOOPBACK_SINKS },
    publicUrl: config.NIGHTSHIFT_PUBLIC_URL ?? null,
  };
}

/** The variables of the GitHub App, which terraform sets only when an App is configured. */
export const GITHUB_APP_ENV = ['GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY'];

/** How the functions talk to GitHub, from a parsed config (no App and no token: nothing is posted). */
export function githubOf(config: {
  GITHUB_TOKEN?: string | undefined;
  GITHUB_API_URL?: string | undefined;
  GITHUB_APP_ID?: string | undefined;
  GITHUB_APP_PRIVATE_KEY?: string | undefined;
}) {
  return {
    ...(config.GITHUB_TOKEN === undefined ? {} : { githubToken: config.GITHUB_TOKEN }),
    ...(config.GITHUB_API_URL === undefined ? {} : { githubApiUrl: config.GITHUB_API_URL }),
    ...(config.GITHUB_APP_ID === undefined ? {} : { githubAppId: config.GITHUB_APP_ID }),
    ...(config.GITHUB_APP_PRIVATE_KEY === undefined
      ? {}
      : { githubAppPrivateKey: config.GITHUB_APP_PRIVATE_KEY }),
  };
}

/** What the api tells about GitHub: whether an App is configured (it never needs the App's key). */
export function apiGithubOf(config: {
  GITHUB_APP_ID?: string | undefined;
  GITHUB_API_URL?: string | undefined;
}) {
  return {
    githubAppConfigured: config.GITHUB_APP_ID !== undefined,
    ...(config.GITHUB_API_URL === undefined ? {} : { githubApiUrl: config.GITHUB_API_URL }),
  };
}

/** The worker VMs of a parsed config, as createDeps takes them. */
export function fleetOf(config: {
  NIGHTSHIFT_VMS: FleetOptions['vms'];
  NIGHTSHIFT_WORKERS_PER_VM: number;
  NIGHTSHIFT_VM_HOURLY_USD?: number | undefined;
  COMPUTE_API_URL?: string | undefined;
}): FleetOptions {
  return {
    vms: config.NIGHTSHIFT_VMS,
    workersPerVm: config.NIGHTSHIFT_WORKERS_PER_VM,
    ...(config.NIGHTSHIFT_VM_HOURLY_USD === undefined ? {} : { hourlyUsd: config.NIGHTSHIFT_VM_HOURLY_USD }),
    ...(config.COMPUTE_API_URL === undefined ? {} : { computeApiUrl: config.COMPUTE_API_URL }),
  };
}

/** What createDeps takes from any function's parsed config: its project, VMs and log format. */
export function depsOptionsOf(
  config: Parameters<typeof fleetOf>[0] & { GOOGLE_CLOUD_PROJECT: string; NIGHTSHIFT_LOG_FORMAT: LogFormat },
): DepsOptions {
  return {
    projectId: config.GOOGLE_CLOUD_PROJECT,
    fleet: fleetOf(config),
    logFormat: config.NIGHTSHIFT_LOG_FORMAT,
  };
}

export function parseApiConfig(env: Env) {
  return parseEnv(
    { ...common, ...notificationEnv, NIGHTSHIFT_API_TOKENS: ENV.NIGHTSHIFT_API_TOKENS, GITHUB_APP_ID },
    env,
  );
}
export type ApiConfig = ReturnType<typeof parseApiConfig>;

export function parseWebhookConfig(env: Env) {
  return parseEnv(
    { ...common, GITHUB_WEBHOOK_SECRET: ENV.GITHUB_WEBHOOK_SECRET, GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY },
    env,
  );
}
export type WebhookConfig = ReturnType<typeof parseWebhookConfig>;

export function parseSchedulerConfig(env: Env) {
  return parseEnv({ ...common, ...notificationEnv, GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY }, env);
}
export type SchedulerConfig = ReturnType<typeof parseSchedulerConfig>;

export function parseReactorConfig(env: Env) {
  return parseEnv({ ...common, ...notificationEnv, GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY }, env);
}
export type ReactorConfig = ReturnType<typeof parseReactorConfig>;

/**
 * Read by every function but not set by terraform: the Compute stand-in of the local stack and tests, and
 * GitHub's API root (set it by hand for GitHub Enterprise).
 */
const LOCAL_ONLY = ['COMPUTE_API_URL', 'GITHUB_API_URL'];

/**
 * The variables each deployed function reads, by entry point: terraform sets every one (a test checks
 * it, and that each parser above asks for no variable missing here). Not GITHUB_APP_ENV: optional, set
 * by terraform only when a GitHub App is configured (the api gets GITHUB_APP_ID, never the key).
 */
const deployed = Object.keys(common).filter((name) => !LOCAL_ONLY.includes(name));
export const FUNCTION_ENV: Record<FunctionEntryPoint, readonly string[]> = {
  api: [...deployed, 'NIGHTSHIFT_API_TOKENS'],
  githubWebhook: [...deployed, 'GITHUB_WEBHOOK_SECRET'],
  scheduler: [...deployed, 'NIGHTSHIFT_PUBLIC_URL'],
  reactor: [...deployed, 'NIGHTSHIFT_PUBLIC_URL'],
};

export function parseLocalConfig(env: Env) {
  return parseEnv(
    {
      ...common,
      ...notificationEnv,
      NIGHTSHIFT_API_TOKENS: ENV.NIGHTSHIFT_API_TOKENS,
      GITHUB_WEBHOOK_SECRET: ENV.GITHUB_WEBHOOK_SECRET,
      GITHUB_APP_ID,
      GITHUB_APP_PRIVATE_KEY,
      PORT: ENV.PORT,
    },
    env,
  );
}
export type LocalConfig = ReturnType<typeof parseLocalConfig>;

/** Reads process.env once, on first use (never at import: cold starts stay light). */
function once<T>(read: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    value ??= { v: read() };
    return value.v;
  };
}

export const apiConfig = once(() => parseApiConfig(process.env));
export const webhookConfig = once(() => parseWebhookConfig(process.env));
export const schedulerConfig = once(() => parseSchedulerConfig(process.env));
export const reactorConfig = once(() => parseReactorConfig(process.env));
export const localConfig = once(() => parseLocalConfig(process.env));

/**
 * FUNCTION_TARGET: the entry point this instance serves, set by the Cloud Functions runtime (and by
 * functions-framework's --target); unset when the module is imported as a whole (tests, tools).
 */
export const functionTarget = (): string | undefined => process.env.FUNCTION_TARGET || undefined;
