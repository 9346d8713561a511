// The functions' collaborators (Firestore, Pub/Sub, clock, ids, logger), created on first use and passed in.
import { randomBytes } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import {
  type Collections,
  type Command,
  collections,
  commandsTopic,
  createFirestore,
  createRunMover,
  type LogFormat,
  loadPubSub,
  type MoveOptions,
  type MoveResult,
  publishCommand,
  publishRunStatus,
  type RunStatus,
  type RunStatusEvent,
  runStatusTopic,
  type VmRef,
  withCallDeadlines,
} from '@nightshift/shared';
import { FIRESTORE_DEADLINE_MS } from '../timings.js';
import { type Compute, createCompute } from '../vms/compute.js';
import { functionsLogger, type Logger } from './log.js';

export interface Deps {
  readonly db: Firestore;
  readonly cols: Collections;
  /** Publishes a command on the run-commands topic; resolves to the message id. */
  publish(command: Command): Promise<string>;
  /** Publishes a run.status event on the run-status topic; resolves to the message id. */
  publishStatus(event: RunStatusEvent): Promise<string>;
  /**
   * Moves a run to another status with its event, conditionally (shared createRunMover), and announces
   * it with publishStatus. Call it as a method: it uses this object's clients, clock and publisher.
   */
  moveRun(runId: string, to: RunStatus, options?: MoveOptions): Promise<MoveResult>;
  now(): Date;
  /** A new run id: sortable by creation time, then random. */
  newRunId(now: Date): string;
  readonly log: Logger;
  /** The worker VMs the functions may start, and the Compute client that starts them. */
  readonly fleet: Fleet;
}

export interface Fleet {
  vms: VmRef[];
  /** Runs one VM's agent takes at once. */
  workersPerVm: number;
  /** The hourly price for the cost estimate, when configured; else the machine type's from the table. */
  hourlyUsd: number | null;
  compute: Compute;
}

export interface FleetOptions {
  vms: VmRef[];
  workersPerVm: number;
  hourlyUsd?: number;
  /** A Compute stand-in's URL (local stack, tests). */
  computeApiUrl?: string;
}

export interface DepsOptions {
  projectId: string;
  /** Default: functionsLogger(); made elsewhere, its entries would not carry the request's id and trace. */
  log?: Logger;
  /** The default logger's format (NIGHTSHIFT_LOG_FORMAT): json for Cloud Logging, pretty for a console. */
  logFormat?: LogFormat;
  now?: () => Date;
  /** Without it no VM is managed (the local stack without a VM stand-in). */
  fleet?: FleetOptions;
  /**
   * Makes the Firestore client (default: createFirestore; tests give one that talks through a proxy).
   * Whatever it makes, every call through deps gets the deadline below.
   */
  createFirestore?: (projectId: string) => Firestore;
  /** Deadline of every Firestore call; default FIRESTORE_DEADLINE_MS. */
  firestoreDeadlineMs?: number;
}

export function newRunId(now: Date): string {
  return `r-${now.getTime().toString(36).padStart(9, '0')}-${randomBytes(5).toString('hex')}`;
}

/** Google clients are made on first use, so importing a function module does no network work. */
export function createDeps(options: DepsOptions): Deps & { close(): Promise<void> } {
  let db: Firestore | undefined;
  let cols: Collections | undefined;
  let pubsub: Promise<PubSub> | undefined;
  let compute: Compute | undefined;
  const fleetOptions = options.fleet ?? { vms: [], workersPerVm: 2 };
  const fleet: Fleet = {
    vms: fleetOptions.vms,
    workersPerVm: fleetOptions.workersPerVm,
    hourlyUsd: fleetOptions.hourlyUsd ?? null,
    // Made on first use: the Compute client is large, and most requests never need it.
    get compute() {
      compute ??= createCompute({
        projectId: options.projectId,
        ...(fleetOptions.computeApiUrl ? { apiUrl: fleetOptions.computeApiUrl } : {}),
      });
      return compute;
    },
  };
  const deadlineMs = options.firestoreDeadlineMs ?? FIRESTORE_DEADLINE_MS;
  // Every call, not only some: a frozen Firestore must answer 503 with Retry-After (core/problem.ts) well
  // within the function's own timeout, never hang the request for as long as Firestore does.
  const getDb = () => {
    db ??= withCallDeadlines((options.createFirestore ?? createFirestore)(options.projectId), deadlineMs);
    return db;
  };
  // Loaded on the first publish (shared loadPubSub): no function needs Pub/Sub to answer a read, and the
  // library is a third of a cold start's import. A failed load is not kept: the next publish tries again.
  const getPubSub = () => {
    pubsub ??= loadPubSub(options.projectId).catch((error: unknown) => {
      pubsub = undefined;
      throw error;
    });
    return pubsub;
  };
  return {
    get db() {
      return getDb();
    },
    get cols() {
      cols ??= collections(getDb());
      return cols;
    },
    publish: async (command) => publishCommand(commandsTopic(await getPubSub()), command),
    publishStatus: async (event) => publishRunStatus(runStatusTopic(await getPubSub()), event),
    moveRun(this: Deps, runId, to, moveOptions) {
      return createRunMover({
        cols: this.cols,
        agentId: null,
        deadlineMs,
        now: () => this.now(),
        announce: (event) => this.publishStatus(event),
        onAnnounceError: (event, error) =>
          this.log.warn('could not publish a run.status event; the scheduler tick makes up for it', {
            runId: event.runId,
            to: event.to,
            error: (error as Error).message,
          }),
      })(runId, to, moveOptions);
    },
    now: options.now ?? (() => new Date()),
    newRunId,
    log: options.log ?? functionsLogger(options.logFormat ? { format: options.logFormat } : {}),
    fleet,
    async close() {
      await db?.terminate();
      await (await pubsub?.catch(() => undefined))?.close();
    },
  };
}
