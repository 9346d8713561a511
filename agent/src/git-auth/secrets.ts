// Secret values of the git credentials: given as they are, or `sm://` references read from Secret Manager's REST API at each use.
import * as z from 'zod';
import type { Clock } from '../options.js';
import { CREDENTIAL_HTTP_TIMEOUT_MS, METADATA_TOKEN_REUSE_MARGIN_MS } from '../timings.js';

/**
 * A secret as configured: the value itself, or a Secret Manager version (`sm://NAME` is the latest version
 * of secret NAME in the agent's project; `sm://projects/P/secrets/NAME[/versions/V]` names it in full).
 */
export type SecretValue =
  | { kind: 'value'; value: string }
  | { kind: 'secret-manager' /** projects/P/secrets/S/versions/V */; version: string };

const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;

/** Reads a variable's text as a SecretValue; null when an `sm://` reference is malformed. */
export function parseSecretValue(text: string, projectId: string): SecretValue | null {
  if (!text.startsWith('sm://')) return { kind: 'value', value: text };
  const ref = text.slice('sm://'.length);
  if (SECRET_ID.test(ref))
    return { kind: 'secret-manager', version: `projects/${projectId}/secrets/${ref}/versions/latest` };
  const full =
    /^projects\/([a-z0-9-]{1,63}|\d+)\/secrets\/([A-Za-z0-9_-]{1,255})(?:\/versions\/(latest|\d+))?$/.exec(
      ref,
    );
  if (full === null) return null;
  return {
    kind: 'secret-manager',
    version: `projects/${full[1]}/secrets/${full[2]}/versions/${full[3] ?? 'latest'}`,
  };
}

/** How a secret is named in messages: never its value. */
export function describeSecret(secret: SecretValue): string {
  return secret.kind === 'value'
    ? 'its value'
    : `Secret Manager ${secret.version.replace(/\/versions\/latest$/, '')}`;
}

/** Reads secrets at the moment they are needed, so a rotated secret takes effect at the next use. */
export interface SecretReader {
  /** The secret's text; null when Secret Manager holds no enabled version of it (an empty secret is off). */
  read(secret: SecretValue): Promise<string | null>;
}

export interface SecretManagerOptions {
  /** GCE_METADATA_HOST; unset: metadata.google.internal. */
  metadataHost?: string | undefined;
  /** SECRET_MANAGER_API_URL (a stand-in in tests); unset: Google's. */
  apiUrl?: string | undefined;
  clock: Clock;
  fetch?: typeof fetch;
}

const MetadataTokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number() });
const AccessResponseSchema = z.object({ payload: z.object({ data: z.string() }) });

/**
 * Secret Manager's `versions/*:access` with the VM's own service-account token from the metadata server:
 * two plain HTTP calls instead of a client library (the agent's memory budget). The metadata token is
 * reused until shortly before it expires; secrets are never cached.
 */
export function createSecretReader(options: SecretManagerOptions): SecretReader {
  const doFetch = options.fetch ?? fetch;
  const apiUrl = (options.apiUrl ?? 'https://secretmanager.googleapis.com').replace(/\/+$/, '');
  const metadataHost = options.metadataHost ?? 'metadata.google.internal';
  let cached: { token: string; reuseUntilMs: number } | null = null;

  async function accessToken(): Promise<string> {
    const now = options.clock.now().getTime();
    if (cached !== null && now < cached.reuseUntilMs) return cached.token;
    const url = `http://${metadataHost}/computeMetadata/v1/instance/service-accounts/default/token`;
    let response: Response;
    try {
      response = await doFetch(url, {
        headers: { 'Metadata-Flavor': 'Google' },
        signal: AbortSignal.timeout(CREDENTIAL_HTTP_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(
        `the metadata server (${metadataHost}) gave no access token: ${(error as Error).message}`,
      );
    }
    if (!response.ok)
      throw new Error(
        `the metadata server (${metadataHost}) refused an access token (HTTP ${response.status})`,
      );
    const parsed = MetadataTokenSchema.safeParse(await response.json().catch(() => null));
    if (!parsed.success) throw new Error(`the metadata server (${metadataHost}) answered no access token`);
    cached = {
      token: parsed.data.access_token,
      reuseUntilMs: now + parsed.data.expires_in * 1000 - METADATA_TOKEN_REUSE_MARGIN_MS,
    };
    return cached.token;
  }

  return {
    async read(secret) {
      if (secret.kind === 'value') return secret.value;
      const token = await accessToken();
      let response: Response;
      try {
        response = await doFetch(`${apiUrl}/v1/${secret.version}:access`, {
          headers: { Authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(CREDENTIAL_HTTP_TIMEOUT_MS),
        });
      } catch (error) {
        throw new Error(
          `Secret Manager could not be reached for ${secret.version}: ${(error as Error).message}`,
        );
      }
      // No such secret, or no enabled version of it (terraform makes them empty): not configured.
      if (response.status === 404 || response.status === 400) return null;
      if (response.status === 403)
        throw new Error(
          `the agent's service account may not read ${secret.version} (HTTP 403 from Secret Manager)`,
        );
      if (!response.ok)
        throw new Error(`Secret Manager answered HTTP ${response.status} for ${secret.version}`);
      const parsed = AccessResponseSchema.safeParse(await response.json().catch(() => null));
      if (!parsed.success) throw new Error(`Secret Manager's answer for ${secret.version} holds no payload`);
      return Buffer.from(parsed.data.payload.data, 'base64').toString('utf8');
    },
  };
}
