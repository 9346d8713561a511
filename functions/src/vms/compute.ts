// The functions' one door to Compute Engine: read a worker VM's status and start it (@google-cloud/compute).
import type { InstancesClient } from '@google-cloud/compute';
import type { VmRef, VmStatus } from '@nightshift/shared';
import { COMPUTE_REQUEST_TIMEOUT_MS } from '../timings.js';

export interface VmState {
  status: VmStatus;
  /** The machine type's short name (`e2-medium`), from the instance's machineType URL. */
  machineType: string | null;
}

export interface Compute {
  get(vm: VmRef): Promise<VmState>;
  /**
   * Asks Compute to start the VM; resolves to the operation's name once Compute accepted it (the VM
   * boots after). `requestId` makes a repeated request the same operation (Compute's own idempotency).
   */
  start(vm: VmRef, requestId: string): Promise<string>;
}

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

export interface ComputeOptions {
  projectId: string;
  /** http(s)://host:port of a stand-in (the local stack and tests); unset: Google's endpoint and credentials. */
  apiUrl?: string;
}

export function createCompute(options: ComputeOptions): Compute {
  let client: InstancesClient | undefined;
  // Loaded on first use: the Compute library is large, and only VM starts need it (cold starts stay light).
  const instances = async () => {
    if (client === undefined) {
      const { InstancesClient } = await import('@google-cloud/compute');
      if (options.apiUrl === undefined) client = new InstancesClient({ projectId: options.projectId });
      else {
        const { googleAuthLibrary } = await import('google-gax');
        const url = new URL(options.apiUrl);
        client = new InstancesClient({
          projectId: options.projectId,
          apiEndpoint: url.hostname,
          port: Number(url.port || (url.protocol === 'http:' ? 80 : 443)),
          protocol: url.protocol.replace(':', ''),
          // A stand-in takes no credentials: none are looked for (no metadata server, no key file).
          authClient: new googleAuthLibrary.PassThroughClient(),
        });
      }
    }
    return client;
  };
  const where = (vm: VmRef) => ({ project: options.projectId, zone: vm.zone, instance: vm.name });
  const call = { timeout: COMPUTE_REQUEST_TIMEOUT_MS, retry: null };

  return {
    async get(vm) {
      try {
        const [instance] = await (await instances()).get(where(vm), call);
        return {
          status: (instance.status ?? 'TERMINATED') as VmStatus,
          machineType: instance.machineType?.split('/').pop() ?? null,
        };
      } catch (error) {
        throw plainComputeError(error, `read VM ${vm.zone}/${vm.name}`, 'compute.instances.get');
      }
    },
    async start(vm, requestId) {
      try {
        const [operation] = await (await instances()).start({ ...where(vm), requestId }, call);
        return operation.latestResponse?.name ?? operation.name ?? '(unnamed operation)';
      } catch (error) {
        throw plainComputeError(error, `start VM ${vm.zone}/${vm.name}`, 'compute.instances.start');
      }
    },
  };
}

/** Compute's errors (REST status codes through google-gax) turned into a sentence an owner can act on. */
export function plainComputeError(error: unknown, what: string, permission: string): ComputeError {
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
      `could not ${what}: permission denied (the functions' service account needs ${permission}): ${detail}`,
      false,
    );
  if (code === 404 || code === 5)
    return new ComputeError(
      `could not ${what}: no such VM in this project (check NIGHTSHIFT_VMS): ${detail}`,
      false,
    );
  const transient =
    code === undefined || code >= 500 || code === 429 || code === 409 || code === 14 || code === 4;
  return new ComputeError(`could not ${what}: ${detail}`, transient);
}
