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

/** One message published and received at a time on its own topic and streaming pull. */
async function publishReceive(project: string, samples: number): Promise<number[]> {
  const pubsub = createPubSub(project);
  const name = `bench-floor-${Date.now().toString(36)}`;
  const [topic] = await pubsub.createTopic(name);
  const [subscription] = await topic.createSubscription(name);
  let waiting: ((at: number) => void) | null = null;
  subscription.on('message', (message) => {
    message.ack();
    waiting?.(performance.now());
  });
  try {
    const once = async () => {
      const received = new Promise<number>((r) => {
        waiting = r;
      });
      const t = performance.now();
      await topic.publishMessage({ data: Buffer.from('floor') });
      return (await received) - t;
    };
    await once(); // the stream's first message also opens it
    const out: number[] = [];
    for (let i = 0; i < samples; i++) out.push(await once());
    return out;
  } finally {
    await subscription.close();
    await subscription.delete().catch(() => {});
    await topic.delete().catch(() => {});
    await pubsub.close();
  }
}

async function firestoreWrite(project: string, samples: number): Promise<number[]> {
  const db = createFirestore(project);
  try {
    const doc = db.collection('benchFloor').doc('write');
    await doc.set({ i: -1 });
    let i = 0;
    return await timeEach(samples, () => doc.set({ i: i++, at: new Date().toISOString() }));
  } finally {
    await db.terminate();
  }
}

async function tmuxNewSession(socket: string, samples: number): Promise<number[]> {
  const names = Array.from({ length: samples + 1 }, (_, i) => `floor-${i}`);
  const out: number[] = [];
  try {
    for (const [i, name] of names.entries()) {
      const t = performance.now();
      await exec('tmux', ['-L', socket, 'new-session', '-d', '-s', name, '--', 'sleep', '30']);
      if (i > 0) out.push(performance.now() - t); // the first may start the server
    }
  } finally {
    for (const name of names) await exec('tmux', ['-L', socket, 'kill-session', '-t', name]).catch(() => {});
  }
  return out;
}

/** A bare `node` that runs an empty program and exits. */
const nodeStart = (samples: number) => timeEach(samples, () => exec(process.execPath, ['-e', '0']));

/** A clone's `git fetch` of a new commit on its origin, then its checkout, as each run's workspace does. */
async function gitFetchCheckout(root: string, samples: number): Promise<number[]> {
  const origin = await createSeededOrigin(root, 'floor');
  const seed = join(root, 'seeds', 'floor');
  const clone = join(root, 'floor-clone');
  await exec('git', ['clone', '-q', '--branch', 'main', '--', origin, clone]);
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    await mkdir(join(seed, 'work'), { recursive: true });
    await writeFile(join(seed, 'work', `${i}.txt`), `${i}\n`);
    await exec('git', ['add', '.'], { cwd: seed });
    await exec('git', ['-c', 'user.name=B', '-c', 'user.email=b@example.com', 'commit', '-q', '-m', `${i}`], {
      cwd: seed,
    });
    await exec('git', ['push', '-q', origin, 'main'], { cwd: seed });
    const t = performance.now();
    await exec('git', ['fetch', '-q', 'origin'], { cwd: clone });
    await exec('git', ['checkout', '-q', '-B', 'main', 'origin/main', '--'], { cwd: clone });
    out.push(performance.now() - t);
  }
  return out;
}

/** Each part's median over `samples` samples. */
export async function measureFloor(opts: {
  project: string;
  tmuxSocket: string;
  root: string;
  samples: number;
}): Promise<FloorParts> {
  const { samples } = opts;
  return {
    publishReceiveMs: median(await publishReceive(opts.project, samples)),
    firestoreWriteMs: median(await firestoreWrite(opts.project, samples)),
    tmuxNewSessionMs: median(await tmuxNewSession(opts.tmuxSocket, samples)),
    nodeStartMs: median(await nodeStart(samples)),
    gitFetchCheckoutMs: median(await gitFetchCheckout(opts.root, samples)),
  };
}
