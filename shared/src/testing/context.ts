// What the global setup hands each test file.
import type { EmulatorHosts } from '../dev/emulators.js';

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: EmulatorHosts | null;
  }
}
