// Deadlines on calls to Google services: the caller stops waiting; the call itself may still land.
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/**
 * Gives up waiting for `promise` after `ms`, with an error naming `what`. The call is not cancelled (the
 * client libraries keep retrying), so only calls that are safe to land late go through here.
 */
export function withDeadline<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
