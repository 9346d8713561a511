// The floor of the dispatch path, measured in the bench's own run: publish→receive, a Firestore write, tmux new-session, a Node start, a workspace's git steps.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createFirestore } from '../../firestore.js';
import { createPubSub } from '../../pubsub.js';
import { createSeededOrigin } from '../git-fixture.js';
import { median, timeEach } from './stats.js';

const exec = promisify(execFile);

export interface FloorParts {
  publishReceiveMs: number;
  firestoreWriteMs: number;
  tmuxNewSessionMs: number;
  nodeStartMs: number;
  gitFetchCheckoutMs: number;
}

export const floorTotal = (f: FloorParts) =>
  f.publishReceiveMs + f.firestoreWriteMs + f.tmuxNewSessionMs + f.nodeStartMs + f.gitFetchCheckoutMs;

type Part = keyof FloorParts;
const PARTS: readonly Part[] = [
  'publishReceiveMs',
  'firestoreWriteMs',
  'tmuxNewSessionMs',
  'nodeStartMs',
  'gitFetchCheckoutMs',
];

/**
 * Takes samples of the floor's parts one at a time, in turn, so that they can be spread over the runs they
 * are the floor of: both then see the same load of a shared machine. The parts are each one's median.
 */
export interface FloorSampler {
  /** One sample of the next part in turn. */
  sampleNext(): Promise<void>;
  /** One sample of every part. */
  sampleAll(): Promise<void>;
  parts(): FloorParts;
  /** Samples taken of each part. */
  count(): number;
  close(): Promise<void>;
}

export async function createFloorSampler(opts: {
  project: string;
  tmuxSocket: string;
  root: string;
}): Promise<FloorSampler> {
  const samples: Record<Part, number[]> = {
    publishReceiveMs: [],
    firestoreWriteMs: [],
    tmuxNewSessionMs: [],
    nodeStartMs: [],
    gitFetchCheckoutMs: [],
  };

  // publish→receive: one message at a time on its own topic and streaming pull.
  const pubsub = createPubSub(opts.project);
  const name = `bench-floor-${Date.now().toString(36)}`;
  const [topic] = await pubsub.createTopic(name);
  const [subscription] = await topic.createSubscription(name);
  let waiting: ((at: number) => void) | null = null;
  subscription.on('message', (message) => {
    message.ack();
    waiting?.(performance.now());
  });
  const publishReceive = async () => {
    const received = new Promise<number>((r) => {
      waiting = r;
    });
    const t = performance.now();
    await topic.publishMessage({ data: Buffer.from('floor') });
    return (await received) - t;
  };

  const db = createFirestore(opts.project);
  const doc = db.collection('benchFloor').doc('write');
  let writes = 0;

  let sessions = 0;
  const tmux = (...args: string[]) => exec('tmux', ['-L', opts.tmuxSocket, ...args]);

  // git: a clone's fetch of a new commit on its origin, then its checkout, as each run's workspace does.
  const origin = await createSeededOrigin(opts.root, 'floor');
  const seed = join(opts.root, 'seeds', 'floor');
  const clone = join(opts.root, 'floor-clone');
  await exec('git', ['clone', '-q', '--branch', 'main', '--', origin, clone]);
  await mkdir(join(seed, 'work'), { recursive: true });
  let commits = 0;

  const measure: Record<Part, () => Promise<number>> = {
    publishReceiveMs: publishReceive,
    firestoreWriteMs: async () => {
      const t = performance.now();
      await doc.set({ i: writes++, at: new Date().toISOString() });
      return performance.now() - t;
    },
    tmuxNewSessionMs: async () => {
      const session = `floor-${sessions++}`;
      const t = performance.now();
      await tmux('new-session', '-d', '-s', session, '--', 'sleep', '30');
      const ms = performance.now() - t;
      await tmux('kill-session', '-t', session).catch(() => {});
      return ms;
    },
    // A bare `node` that runs an empty program and exits.
    nodeStartMs: async () => (await timeEach(1, () => exec(process.execPath, ['-e', '0'])))[0] as number,
    gitFetchCheckoutMs: async () => {
      const i = commits++;
      await writeFile(join(seed, 'work', `${i}.txt`), `${i}\n`);
      await exec('git', ['add', '.'], { cwd: seed });
      await exec(
        'git',
        ['-c', 'user.name=B', '-c', 'user.email=b@example.com', 'commit', '-q', '-m', `${i}`],
        {
          cwd: seed,
        },
      );
      await exec('git', ['push', '-q', origin, 'main'], { cwd: seed });
      const t = performance.now();
      await exec('git', ['fetch', '-q', 'origin'], { cwd: clone });
      await exec('git', ['checkout', '-q', '-B', 'main', 'origin/main', '--'], { cwd: clone });
      return performance.now() - t;
    },
  };
  // Warm-ups, not counted: the stream's first message opens it, the first write opens the channel, the
  // first session may start the tmux server.
  await publishReceive();
  await measure.firestoreWriteMs();
  await measure.tmuxNewSessionMs();

  let next = 0;
  const sampleNext = async () => {
    const part = PARTS[next % PARTS.length] as Part;
    next++;
    samples[part].push(await measure[part]());
  };
  return {
    sampleNext,
    async sampleAll() {
      for (let i = 0; i < PARTS.length; i++) await sampleNext();
    },
    parts: () => Object.fromEntries(PARTS.map((p) => [p, median(samples[p])])) as unknown as FloorParts,
    count: () => Math.min(...PARTS.map((p) => samples[p].length)),
    async close() {
      await subscription.close();
      await subscription.delete().catch(() => {});
      await topic.delete().catch(() => {});
      await pubsub.close();
      await db.terminate();
    },
  };
}
