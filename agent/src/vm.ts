// The agent's one door to Compute: which worker VM it runs on (configured, or the metadata server), and stopping it.
import type { InstancesClient } from '@google-cloud/compute';
import { computeClientOptions, plainComputeError, type VmRef, VmRefSchema } from '@nightshift/shared';

/** The metadata server answers only with this header, and only on the VM (Google's own convention). */
const METADATA_HEADERS = { 'Metadata-Flavor': 'Google' };
const DEFAULT_METADATA_HOST = 'metadata.google.internal';

export interface VmLookupOptions {
  /** NIGHTSHIFT_VM (`zone/name`), for the local stack and VMs whose metadata should not be asked. */
  configured?: VmRef;
  /** GCE_METADATA_HOST: the metadata server (host[:port]); Google's default when unset. */
  metadataHost?: string;
  timeoutMs: number;
}

/**
 * The VM this agent runs on, or null off Google Cloud (nothing to stop; the idle stop is off). The
 * metadata server gives the instance name and `projects/<number>/zones/<zone>`.
 */
export async function findOwnVm(options: VmLookupOptions): Promise<VmRef | null> {
  if (options.configured) return options.configured;
  const host = options.metadataHost ?? DEFAULT_METADATA_HOST;
  const read = async (path: string) => {
    const res = await fetch(`http://${host}/computeMetadata/v1/${path}`, {
      headers: METADATA_HEADERS,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (!res.ok) throw new Error(`metadata ${path}: HTTP ${res.status}`);
    return (await res.text()).trim();
  };
  try {
    const [name, zonePath] = await Promise.all([read('instance/name'), read('instance/zone')]);
    const parsed = VmRefSchema.safeParse({ name, zone: zonePath.split('/').pop() });
    return parsed.success ? parsed.data : null;
  } catch {
    return null; // no metadata server: not on a Google Cloud VM
  }
}

export interface OwnVm {
  readonly vm: VmRef;
  /** Asks Compute to stop this VM; resolves to the operation's name once Compute accepted it. */
  stop(requestId: string): Promise<string>;
}

export function ownVm(vm: VmRef, options: { projectId: string; apiUrl?: string; timeoutMs: number }): OwnVm {
  let client: InstancesClient | undefined;
  return {
    vm,
    async stop(requestId) {
      try {
        // Loaded only when the VM is stopped: the library is large, and most agents never get here.
        if (client === undefined) {
          const { InstancesClient } = await import('@google-cloud/compute');
          client = new InstancesClient(computeClientOptions(options.projectId, options.apiUrl));
        }
        const [operation] = await client.stop(
          { project: options.projectId, zone: vm.zone, instance: vm.name, requestId },
          { timeout: options.timeoutMs, retry: null },
        );
        return operation.latestResponse?.name ?? operation.name ?? '(unnamed operation)';
      } catch (error) {
        throw plainComputeError(
          error,
          `stop VM ${vm.zone}/${vm.name}`,
          'compute.instances.stop on itself',
          "the VM's service account",
        );
      }
    },
  };
}
