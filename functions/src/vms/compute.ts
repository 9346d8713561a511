// The functions' one door to Compute Engine: read a worker VM's status and start it (@google-cloud/compute).
import type { InstancesClient } from '@google-cloud/compute';
import { computeClientOptions, plainComputeError, type VmRef, type VmStatus } from '@nightshift/shared';
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

const ACCOUNT = "the functions' service account";

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
      client = new InstancesClient(computeClientOptions(options.projectId, options.apiUrl));
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
        throw plainComputeError(error, `read VM ${vm.zone}/${vm.name}`, 'compute.instances.get', ACCOUNT);
      }
    },
    async start(vm, requestId) {
      try {
        const [operation] = await (await instances()).start({ ...where(vm), requestId }, call);
        return operation.latestResponse?.name ?? operation.name ?? '(unnamed operation)';
      } catch (error) {
        throw plainComputeError(error, `start VM ${vm.zone}/${vm.name}`, 'compute.instances.start', ACCOUNT);
      }
    },
  };
}
