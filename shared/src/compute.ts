// What both sides' Compute modules share: the client options (Google's endpoint, or a local stand-in) and Compute's errors in plain words.
import { googleAuthLibrary } from 'google-gax';

/** A Compute error in plain words: what was refused, and what the owner can do about it. */
export class ComputeError extends Error {
  override readonly name = 'ComputeError';
  constructor(
    message: string,
    /** Worth trying again later (Compute unavailable, a conflicting operation). */
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/**
 * Options for @google-cloud/compute's clients. Without `apiUrl`: Google's endpoint and the ambient
 * credentials. With it (the local stack, tests): that http(s)://host:port, and no credentials at all, so
 * nothing looks for a metadata server or a key file.
 */
export function computeClientOptions(projectId: string, apiUrl?: string) {
  if (apiUrl === undefined) return { projectId };
  const url = new URL(apiUrl);
  return {
    projectId,
    apiEndpoint: url.hostname,
    port: Number(url.port || (url.protocol === 'http:' ? 80 : 443)),
    protocol: url.protocol.replace(':', ''),
    authClient: new googleAuthLibrary.PassThroughClient(),
  };
}

/**
 * Compute's errors (REST, through google-gax) as a sentence an owner can act on. `account` names whose
 * permission is missing (the functions' or the VM's service account).
 */
export function plainComputeError(
  error: unknown,
  what: string,
  permission: string,
  account: string,
): ComputeError {
  const e = error as { code?: number; status?: number; message?: string; reason?: string };
  let code = e.code ?? e.status;
  let detail = e.message ?? String(error);
  let reason = e.reason;
  // The REST transport hands Google's error body over as the message: take its sentence, code and reason.
  try {
    const body = JSON.parse(detail) as {
      error?: { code?: number; message?: string; errors?: Array<{ reason?: string }> };
    };
    if (body.error?.message) {
      detail = body.error.message;
      code = body.error.code ?? code;
      reason = body.error.errors?.[0]?.reason ?? reason;
    }
  } catch {
    // not JSON: keep the message as it is
  }
  if (/quota/i.test(detail) || /quota/i.test(reason ?? ''))
    return new ComputeError(`could not ${what}: the project is out of quota: ${detail}`, false);
  if (code === 403 || code === 7)
    return new ComputeError(
      `could not ${what}: permission denied (${account} needs ${permission}): ${detail}`,
      false,
    );
  if (code === 404 || code === 5)
    return new ComputeError(`could not ${what}: no such VM in this project: ${detail}`, false);
  const transient =
    code === undefined || code >= 500 || code === 429 || code === 409 || code === 14 || code === 4;
  return new ComputeError(`could not ${what}: ${detail}`, transient);
}
