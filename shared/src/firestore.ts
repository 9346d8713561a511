// Typed Firestore collections: converters that validate every document read with its zod schema.
import {
  CollectionReference,
  type DocumentData,
  DocumentReference,
  DocumentSnapshot,
  Firestore,
  type FirestoreDataConverter,
  Query,
  type QueryDocumentSnapshot,
  QuerySnapshot,
  type Settings,
  Transaction,
  WriteBatch,
} from '@google-cloud/firestore';
import type * as z from 'zod';
import { type AgentHeartbeat, AgentHeartbeatSchema } from './agent.js';
import { type BudgetSlot, BudgetSlotSchema } from './budget.js';
import { DeadlineError } from './deadline.js';
import { GRPC } from './grpc.js';
import { type AccountLimit, AccountLimitSchema } from './limits.js';
import { COLLECTIONS } from './names.js';
import {
  type DigestClaim,
  DigestClaimSchema,
  type DigestSettings,
  DigestSettingsSchema,
  type NotificationDelivery,
  NotificationDeliverySchema,
  type NotificationSink,
  NotificationSinkSchema,
} from './notifications.js';
import {
  type GithubDelivery,
  GithubDeliverySchema,
  type GithubFeedback,
  GithubFeedbackSchema,
  type GithubInstallation,
  GithubInstallationSchema,
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
  githubInstallations: CollectionReference<GithubInstallation>;
  scheduleState: CollectionReference<ScheduleState>;
  vms: CollectionReference<VmRecord>;
  limits: CollectionReference<AccountLimit>;
  notificationSinks: CollectionReference<NotificationSink>;
  notificationDeliveries: CollectionReference<NotificationDelivery>;
  notificationSettings: CollectionReference<DigestSettings>;
  notificationDigests: CollectionReference<DigestClaim>;
  budgetSlots: CollectionReference<BudgetSlot>;
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
    githubInstallations: db
      .collection(COLLECTIONS.githubInstallations)
      .withConverter(zodConverter(GithubInstallationSchema)),
    scheduleState: db.collection(COLLECTIONS.scheduleState).withConverter(zodConverter(ScheduleStateSchema)),
    vms: db.collection(COLLECTIONS.vms).withConverter(zodConverter(VmRecordSchema)),
    limits: db.collection(COLLECTIONS.limits).withConverter(zodConverter(AccountLimitSchema)),
    notificationSinks: db
      .collection(COLLECTIONS.notificationSinks)
      .withConverter(zodConverter(NotificationSinkSchema)),
    notificationDeliveries: db
      .collection(COLLECTIONS.notificationDeliveries)
      .withConverter(zodConverter(NotificationDeliverySchema)),
    notificationSettings: db
      .collection(COLLECTIONS.notificationSettings)
      .withConverter(zodConverter(DigestSettingsSchema)),
    notificationDigests: db
      .collection(COLLECTIONS.notificationDigests)
      .withConverter(zodConverter(DigestClaimSchema)),
    budgetSlots: db.collection(COLLECTIONS.budgetSlots).withConverter(zodConverter(BudgetSlotSchema)),
  };
}

/**
 * A Firestore client. It finds FIRESTORE_EMULATOR_HOST itself (Google's own variable), so the same code
 * runs against the emulator and the cloud. Undefined fields are dropped rather than rejected.
 */
export function createFirestore(projectId: string, settings: Settings = {}): Firestore {
  return new Firestore({ projectId, ignoreUndefinedProperties: true, ...settings });
}

/**
 * A Firestore call that got no answer within its deadline. It carries gRPC's DEADLINE_EXCEEDED code, so
 * whoever handles Google errors by code (the functions' onError: 503 with Retry-After) treats it alike.
 */
export class FirestoreDeadlineError extends DeadlineError {
  readonly code = GRPC.DEADLINE_EXCEEDED;
}

/**
 * `db` with a deadline on every call it makes to Firestore: every method of the client and of what it
 * hands out (references, queries, batches, transactions, snapshots, at any depth) that returns a promise
 * rejects with a FirestoreDeadlineError once `ms` passed without an answer; `terminate()` is left alone.
 *
 * Why not the client's own settings: a `clientConfig` timeout reaches neither commits (Firestore passes
 * its own retry settings, 60 s per attempt, on every commit) nor the client's own retry loop around reads
 * (five attempts of a stream, each with backoff). Measured against a black-holed connection with a 2 s
 * clientConfig timeout on every method: get 72 s, query 75 s, create, set and batch commit 60 s each.
 *
 * The call is not cancelled: the library keeps retrying it and it may still land, so a caller that gives
 * up must be safe against its late effect (creates are idempotent by id; the scheduler tick republishes
 * queued runs).
 */
export function withCallDeadlines(db: Firestore, ms: number): Firestore {
  // count() and aggregate() queries: their class is not exported, so it is taken from one made here
  // (making a query does no network work).
  const aggregateQuery = Object.getPrototypeOf(db.collection('_').count()).constructor as abstract new (
    ...args: never[]
  ) => unknown;
  const classes = [
    Firestore,
    DocumentReference,
    CollectionReference,
    Query,
    WriteBatch,
    Transaction,
    DocumentSnapshot,
    QuerySnapshot,
    aggregateQuery,
  ];
  const targetOf = new WeakMap<object, object>();
  const proxyOf = new WeakMap<object, object>();

  const wrappable = (value: unknown): value is object =>
    typeof value === 'object' && value !== null && classes.some((c) => value instanceof c);

  const wrap = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.some(wrappable) ? value.map(wrap) : value;
    if (!wrappable(value)) return value;
    let proxy = proxyOf.get(value);
    if (proxy === undefined) {
      proxy = new Proxy(value, handler);
      proxyOf.set(value, proxy);
      targetOf.set(proxy, value);
    }
    return proxy;
  };

  // The library itself only ever sees its own objects: arguments are unwrapped, and a callback (a
  // transaction's update function) is handed wrapped objects in turn.
  const unwrap = (arg: unknown): unknown => {
    if (typeof arg === 'function') return (...args: unknown[]) => arg(...args.map(wrap));
    if (typeof arg === 'object' && arg !== null) return targetOf.get(arg) ?? arg;
    return arg;
  };

  const bounded = (what: string, promise: Promise<unknown>): Promise<unknown> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FirestoreDeadlineError(`${what}: no answer from Firestore within ${ms} ms`)),
        ms,
      );
    });
    return Promise.race([promise, timeout])
      .finally(() => clearTimeout(timer))
      .then(wrap);
  };

  const handler: ProxyHandler<object> = {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      // A proxy must return a read-only, non-configurable property as it is.
      const own = Reflect.getOwnPropertyDescriptor(target, key);
      if (own && !own.configurable && !own.writable) return value;
      if (typeof value !== 'function' || key === 'constructor') return wrap(value);
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const result = method.apply(target, args.map(unwrap));
        if (!(result instanceof Promise) || key === 'terminate') return wrap(result);
        return bounded(`${target.constructor.name}.${String(key)}`, result);
      };
    },
  };

  return wrap(db) as Firestore;
}
