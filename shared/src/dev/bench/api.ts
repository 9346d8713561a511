// The bench's client of the API: JSON calls with the token, and waiting for a run to end.
export type RunDoc = {
  id: string;
  status: string;
  startedAt: string | null;
  error: string | null;
};

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'lost']);

export interface Api {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Polls the run every `pollMs` until it is terminal; throws unless it succeeded. */
  waitSucceeded(runId: string, timeoutMs: number, pollMs?: number): Promise<RunDoc>;
}

export function createApi(url: string, token: string): Api {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    call,
    async waitSucceeded(runId, timeoutMs, pollMs = 100) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = await call<RunDoc>('GET', `/v1/runs/${runId}`);
        if (TERMINAL.has(run.status)) {
          if (run.status !== 'succeeded') throw new Error(`run ${runId} ended ${run.status}: ${run.error}`);
          return run;
        }
        if (Date.now() > deadline) throw new Error(`run ${runId} not finished after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
  };
}
