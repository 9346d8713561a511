// The worker VMs: which ones nightshift may start, what it records about each, and what they cost.
import * as z from 'zod';
import { IsoDateTimeSchema, RunIdSchema } from './ids.js';

/** A Compute Engine instance name (RFC 1035: lowercase letters, digits, dashes). */
export const VmNameSchema = z.string().regex(/^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/, {
  message: 'expected an instance name: up to 63 lowercase letters, digits or dashes, starting with a letter',
});
export const ZoneSchema = z.string().regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, {
  message: 'expected a zone such as "us-central1-a"',
});

export const VmRefSchema = z.object({ zone: ZoneSchema, name: VmNameSchema });
export type VmRef = z.infer<typeof VmRefSchema>;

/** Compute Engine's instance statuses (instances.get `status`). */
export const VM_STATUSES = [
  'PROVISIONING',
  'STAGING',
  'RUNNING',
  'STOPPING',
  'STOPPED',
  'SUSPENDING',
  'SUSPENDED',
  'REPAIRING',
  'TERMINATED',
] as const;
export type VmStatus = (typeof VM_STATUSES)[number];

/** Statuses in which a VM is on its way up or up: its agent's capacity is coming, so no other VM is started for it. */
export const VM_COMING_UP: readonly VmStatus[] = ['PROVISIONING', 'STAGING', 'RUNNING', 'REPAIRING'];

/** One start or stop of a VM, as recorded, with why. */
export const VmActionSchema = z.object({
  at: IsoDateTimeSchema,
  reason: z.string(),
  /** Who did it: `functions` (a queued run, the tick) or the agent's id (an idle stop). */
  by: z.string(),
  /** The run it was for, when one run asked for it. */
  runId: RunIdSchema.nullable().default(null),
  /** The Compute operation, when one was started. */
  operation: z.string().nullable().default(null),
  /** Why it did not happen (Compute's answer in plain words). */
  error: z.string().nullable().default(null),
});
export type VmAction = z.infer<typeof VmActionSchema>;

/** A span of running time of a VM; `to` is null while it runs. */
export const VmPeriodSchema = z.object({ from: IsoDateTimeSchema, to: IsoDateTimeSchema.nullable() });
export type VmPeriod = z.infer<typeof VmPeriodSchema>;

/** `vms/<name>`: what nightshift knows about one worker VM beside what Compute says. */
export const VmRecordSchema = z.object({
  name: VmNameSchema,
  zone: ZoneSchema,
  /**
   * When the functions last asked Compute to start it. A start is claimed by moving this forward under a
   * precondition, so concurrent requests and ticks start a VM once.
   */
  startRequestedAt: IsoDateTimeSchema.nullable().default(null),
  lastStart: VmActionSchema.nullable().default(null),
  lastStop: VmActionSchema.nullable().default(null),
  /** Running time since the start of last month, oldest first (for the cost of this month). */
  periods: z.array(VmPeriodSchema).default([]),
  updatedAt: IsoDateTimeSchema,
});
export type VmRecord = z.infer<typeof VmRecordSchema>;

/**
 * On-demand hourly prices in USD of the machine types people use for workers (us-central1, Linux, no
 * sustained-use discount), for the cost estimate; NIGHTSHIFT_VM_HOURLY_USD overrides it. The disk is
 * billed while stopped too and is not included.
 */
export const MACHINE_HOURLY_USD: Readonly<Record<string, number>> = {
  'e2-micro': 0.00838,
  'e2-small': 0.01675,
  'e2-medium': 0.03351,
  'e2-standard-2': 0.06701,
  'e2-standard-4': 0.13402,
  'e2-highmem-2': 0.09039,
  'n2-standard-2': 0.09712,
  'n2d-standard-2': 0.08451,
  't2d-standard-1': 0.04225,
};

/** Seconds a VM ran within [since, until), from its recorded periods (an open period runs until `until`). */
export function runningSeconds(periods: readonly VmPeriod[], since: Date, until: Date): number {
  let ms = 0;
  for (const period of periods) {
    const from = Math.max(Date.parse(period.from), since.getTime());
    const to = Math.min(period.to === null ? until.getTime() : Date.parse(period.to), until.getTime());
    if (to > from) ms += to - from;
  }
  return Math.round(ms / 1000);
}

/** The first instant of the month of `at`, in UTC (Google bills by UTC-8 days; UTC is close enough for an estimate). */
export function monthStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

/** The periods still worth keeping at `at`: everything from the start of last month on. */
export function trimPeriods(periods: readonly VmPeriod[], at: Date): VmPeriod[] {
  const keepFrom = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1)).getTime();
  return periods.filter((p) => p.to === null || Date.parse(p.to) >= keepFrom);
}

/**
 * How many more VMs to start: enough for the queued runs that no live agent has a free slot for, one VM
 * per `capacityPerVm` runs, never more than the VMs that can be started. VMs already coming up count as
 * capacity on its way.
 */
export function vmsNeeded(input: {
  queuedRuns: number;
  freeSlots: number;
  comingUpVms: number;
  capacityPerVm: number;
  startableVms: number;
}): number {
  const waiting = input.queuedRuns - input.freeSlots - input.comingUpVms * input.capacityPerVm;
  if (waiting <= 0) return 0;
  return Math.min(Math.ceil(waiting / Math.max(1, input.capacityPerVm)), input.startableVms);
}
