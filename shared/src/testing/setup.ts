// Runs before every test file: points Google's clients at the emulators, as the deployables' environment would.
import { inject } from 'vitest';
import './context.js';

const emulators = inject('emulators');
// No metadata server here: without this, Google's auth library probes for one and warns.
process.env.METADATA_SERVER_DETECTION = 'none';
if (emulators) {
  process.env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
}
