// The functions' configuration: the only reader of process.env in functions/, parsed once per function.
import { ENV, type FunctionEntryPoint, parseEnv } from '@nightshift/shared';

type Env = Record<string, string | undefined>;

const common = { GOOGLE_CLOUD_PROJECT: ENV.GOOGLE_CLOUD_PROJECT, GITHUB_TOKEN: ENV.GITHUB_TOKEN };

export function parseApiConfig(env: Env) {
  return parseEnv({ ...common, NIGHTSHIFT_API_TOKENS: ENV.NIGHTSHIFT_API_TOKENS }, env);
}
export type ApiConfig = ReturnType<typeof parseApiConfig>;

export function parseWebhookConfig(env: Env) {
  return parseEnv({ ...common, GITHUB_WEBHOOK_SECRET: ENV.GITHUB_WEBHOOK_SECRET }, env);
}
export type WebhookConfig = ReturnType<typeof parseWebhookConfig>;

export function parseSchedulerConfig(env: Env) {
  return parseEnv(common, env);
}
export type SchedulerConfig = ReturnType<typeof parseSchedulerConfig>;

export function parseReactorConfig(env: Env) {
  return parseEnv(common, env);
}
export type ReactorConfig = ReturnType<typeof parseReactorConfig>;

/**
 * The variables each deployed function reads, by entry point: terraform sets every one (a test checks
 * it, and that each parser above asks for no variable missing here).
 */
export const FUNCTION_ENV: Record<FunctionEntryPoint, readonly string[]> = {
  api: [...Object.keys(common), 'NIGHTSHIFT_API_TOKENS'],
  githubWebhook: [...Object.keys(common), 'GITHUB_WEBHOOK_SECRET'],
  scheduler: Object.keys(common),
  reactor: Object.keys(common),
};

export function parseLocalConfig(env: Env) {
  return parseEnv(
    {
      ...common,
      NIGHTSHIFT_API_TOKENS: ENV.NIGHTSHIFT_API_TOKENS,
      GITHUB_WEBHOOK_SECRET: ENV.GITHUB_WEBHOOK_SECRET,
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
