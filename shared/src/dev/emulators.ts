// Starts and stops the Google Cloud SDK's Pub/Sub and Firestore emulators on free loopback ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export interface EmulatorHosts {
  pubsubHost: string;
  firestoreHost: string;
}

export interface Emulators extends EmulatorHosts {
  /**
   * Each emulator's process group (gcloud and its java child): `process.kill(-group, 'SIGSTOP')` freezes
   * it as a hung backend would be, SIGCONT thaws it (the chaos scenarios' outages).
   */
  groups: { pubsub: number; firestore: number };
  stop(): Promise<void>;
}

export const EMULATOR_READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/** The one line printed where the SDK is missing. */
export const MISSING_SDK_MESSAGE =
  'the Google Cloud SDK (gcloud) with the Pub/Sub and Firestore emulators and Java 17 is not installed: ' +
  'install google-cloud-cli, google-cloud-cli-pubsub-emulator and google-cloud-cli-firestore-emulator';

/** Whether `gcloud` is on PATH (`command -v gcloud`). */
export function gcloudAvailable(path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, 'gcloud'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

interface Started {
  name: string;
  child: ChildProcess;
  output: string[];
}

function launch(name: string, args: string[]): Started {
  // detached: the emulator (gcloud and its java child) gets its own process group, stopped as one.
  const child = spawn('gcloud', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  return { name, child, output };
}

async function waitReady(started: Started, host: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) {
      throw new Error(`${started.name} emulator exited early:\n${started.output.join('').slice(-2000)}`);
    }
    try {
      const res = await fetch(`http://${host}/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `${started.name} emulator not ready after ${EMULATOR_READY_TIMEOUT_MS} ms:\n${started.output.join('').slice(-2000)}`,
  );
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A watchdog that kills the emulators' process groups if this process dies without stopping them
 * (kill -9 of the test runner, a crash), so no emulator outlives its owner.
 */
function startWatchdog(groups: number[]): ChildProcess {
  const script = `const [owner, ...groups] = process.argv.slice(1).map(Number);
setInterval(() => { try { process.kill(owner, 0); } catch { for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch {} } process.exit(0); } }, 1000);`;
  const dog = spawn(process.execPath, ['-e', script, String(process.pid), ...groups.map(String)], {
    detached: true,
    stdio: 'ignore',
  });
  dog.unref();
  return dog;
}

export async function startEmulators(): Promise<Emulators> {
  if (!gcloudAvailable()) throw new Error(MISSING_SDK_MESSAGE);
  const [pubsubPort, firestorePort] = [await freePort(), await freePort()];
  const pubsubHost = `127.0.0.1:${pubsubPort}`;
  const firestoreHost = `127.0.0.1:${firestorePort}`;
  const pubsub = launch('pubsub', [
    'beta',
    'emulators',
    'pubsub',
    'start',
    `--host-port=${pubsubHost}`,
    '--quiet',
  ]);
  const firestore = launch('firestore', [
    'emulators',
    'firestore',
    'start',
    `--host-port=${firestoreHost}`,
    '--quiet',
  ]);
  const all = [pubsub, firestore];
  const dog = startWatchdog(all.map((s) => s.child.pid ?? 0).filter((p) => p > 0));
  const onExit = () => {
    for (const s of all) killGroup(s.child, 'SIGKILL');
  };
  process.once('exit', onExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    for (const s of all) killGroup(s.child, 'SIGTERM');
    const deadline = Date.now() + STOP_GRACE_MS;
    while (all.some((s) => groupAlive(s.child)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const s of all) killGroup(s.child, 'SIGKILL');
    if (dog.pid !== undefined) {
      try {
        process.kill(dog.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  try {
    const deadline = Date.now() + EMULATOR_READY_TIMEOUT_MS;
    await Promise.all([
      waitReady(pubsub, pubsubHost, deadline),
      waitReady(firestore, firestoreHost, deadline),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  const groups = { pubsub: pubsub.child.pid ?? 0, firestore: firestore.child.pid ?? 0 };
  return { pubsubHost, firestoreHost, groups, stop };
}

/** Deletes every document of one project in the Firestore emulator. */
export async function resetFirestore(firestoreHost: string, projectId: string): Promise<void> {
  const res = await fetch(
    `http://${firestoreHost}/emulator/v1/projects/${projectId}/databases/(default)/documents`,
    { method: 'DELETE' },
  );
  if (!res.ok) throw new Error(`Firestore emulator reset failed: ${res.status} ${await res.text()}`);
}
