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
  createPubSub,
  publishCommand,
} from '@nightshift/shared';
import { functionsLogger, type Logger } from './log.js';

export interface Deps {
  readonly db: Firestore;
  readonly cols: Collections;
  /** Publishes a command on the run-commands topic; resolves to the message id. */
  publish(command: Command): Promise<string>;
  now(): Date;
  /** A new run id: sortable by creation time, then random. */
  newRunId(now: Date): string;
  readonly log: Logger;
}

export interface DepsOptions {
  projectId: string;
  /** Default: functionsLogger(); made elsewhere, its entries would not carry the request's id and trace. */
  log?: Logger;
  now?: () => Date;
}

export function newRunId(now: Date): string {
  return `r-${now.getTime().toString(36).padStart(9, '0')}-${randomBytes(5).toString('hex')}`;
}

/** Google clients are made on first use, so importing a function module does no network work. */
export function createDeps(options: DepsOptions): Deps & { close(): Promise<void> } {
  let db: Firestore | undefined;
  let cols: Collections | undefined;
  let pubsub: PubSub | undefined;
  const getDb = () => {
    db ??= createFirestore(options.projectId);
    return db;
  };
  const getPubSub = () => {
    pubsub ??= createPubSub(options.projectId);
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
    publish: (command) => publishCommand(commandsTopic(getPubSub()), command),
    now: options.now ?? (() => new Date()),
    newRunId,
    log: options.log ?? functionsLogger(),
    async close() {
      await db?.terminate();
      await pubsub?.close();
    },
  };
}
