// Vitest global setup: one pair of emulators for the whole test run, stopped at the end.
import type { TestProject } from 'vitest/node';
import { gcloudAvailable, startEmulators } from '../dev/emulators.js';
import './context.js';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!gcloudAvailable()) {
    project.provide('emulators', null);
    return undefined;
  }
  const emulators = await startEmulators();
  project.provide('emulators', { pubsubHost: emulators.pubsubHost, firestoreHost: emulators.firestoreHost });
  return () => emulators.stop();
}
