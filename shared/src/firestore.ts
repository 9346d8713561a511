// Typed Firestore collections: converters that validate every document read with its zod schema.
import {
  type CollectionReference,
  type DocumentData,
  Firestore,
  type FirestoreDataConverter,
  type QueryDocumentSnapshot,
  type Settings,
} from '@google-cloud/firestore';
import type { z } from 'zod';
import { type AgentHeartbeat, AgentHeartbeatSchema } from './agent.js';
import { COLLECTIONS } from './names.js';
import {
  type GithubDelivery,
  GithubDeliverySchema,
  type GithubFeedback,
  GithubFeedbackSchema,
  type IdempotencyKey,
  IdempotencyKeySchema,
  type ScheduleState,
  ScheduleStateSchema,
  type WorkerLock,
  WorkerLockSchema,
} from './records.js';
import { type Run, type RunEvent, RunEventSchema, RunSchema } from './run.js';
import { formatIssues } from './validation.js';
import { type VmRecord, VmRecordSchema } from './vm.js';
import { type Worker, WorkerSchema } from './worker.js';

/** A stored document that does not match its contract; names the document and the fields. */
export class CorruptDocumentError extends Error {
  override readonly name = 'CorruptDocumentError';
  constructor(
    readonly documentPath: string,
    detail: string,
  ) {
    super(`document ${documentPath} does not match its schema: ${detail}`);
  }
}

export function zodConverter<S extends z.ZodType<DocumentData>>(
  schema: S,
): FirestoreDataConverter<z.infer<S>> {
  return {
    toFirestore(value: DocumentData, options?: unknown): DocumentData {
      // A merge write carries a partial document; a full write must be a whole, valid one.
      if (options !== undefined) return value;
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw new CorruptDocumentError('(write)', formatIssues(parsed.error));
      return parsed.data as DocumentData;
    },
    fromFirestore(snapshot: QueryDocumentSnapshot): z.infer<S> {
      const parsed = schema.safeParse(snapshot.data());
      if (!parsed.success) throw new CorruptDocumentError(snapshot.ref.path, formatIssues(parsed.error));
      return parsed.data as z.infer<S>;
    },
  } as FirestoreDataConverter<z.infer<S>>;
}

export const workerConverter = zodConverter(WorkerSchema);
export const runConverter = zodConverter(RunSchema);
export const runEventConverter = zodConverter(RunEventSchema);
export const agentConverter = zodConverter(AgentHeartbeatSchema);

/** Every collection of the data model, each read and written through its schema (names.ts has the names). */
export interface Collections {
  workers: CollectionReference<Worker>;
  runs: CollectionReference<Run>;
  runEvents(runId: string): CollectionReference<RunEvent>;
  agents: CollectionReference<AgentHeartbeat>;
  workerLocks: CollectionReference<WorkerLock>;
  idempotencyKeys: CollectionReference<IdempotencyKey>;
  githubDeliveries: CollectionReference<GithubDelivery>;
  githubFeedback: CollectionReference<GithubFeedback>;
  scheduleState: CollectionReference<ScheduleState>;
  vms: CollectionReference<VmRecord>;
}

export function collections(db: Firestore): Collections {
  return {
    workers: db.collection(COLLECTIONS.workers).withConverter(workerConverter),
    runs: db.collection(COLLECTIONS.runs).withConverter(runConverter),
    runEvents: (runId) =>
      db
        .collection(COLLECTIONS.runs)
        .doc(runId)
        .collection(COLLECTIONS.runEvents)
        .withConverter(runEventConverter),
    agents: db.collection(COLLECTIONS.agents).withConverter(agentConverter),
    workerLocks: db.collection(COLLECTIONS.workerLocks).withConverter(zodConverter(WorkerLockSchema)),
    idempotencyKeys: db
      .collection(COLLECTIONS.idempotencyKeys)
      .withConverter(zodConverter(IdempotencyKeySchema)),
    githubDeliveries: db
      .collection(COLLECTIONS.githubDeliveries)
      .withConverter(zodConverter(GithubDeliverySchema)),
    githubFeedback: db
      .collection(COLLECTIONS.githubFeedback)
      .withConverter(zodConverter(GithubFeedbackSchema)),
    scheduleState: db.collection(COLLECTIONS.scheduleState).withConverter(zodConverter(ScheduleStateSchema)),
    vms: db.collection(COLLECTIONS.vms).withConverter(zodConverter(VmRecordSchema)),
  };
}

/**
 * A Firestore client. It finds FIRESTORE_EMULATOR_HOST itself (Google's own variable), so the same code
 * runs against the emulator and the cloud. Undefined fields are dropped rather than rejected.
 */
export function createFirestore(projectId: string, settings: Settings = {}): Firestore {
  return new Firestore({ projectId, ignoreUndefinedProperties: true, ...settings });
}
