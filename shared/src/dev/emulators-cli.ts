// `npm run emulators`: only the emulators, with the variables to export printed, until Ctrl-C.
import { createPubSub, ensureTopology } from '../pubsub.js';
import { gcloudAvailable, MISSING_SDK_MESSAGE, startEmulators } from './emulators.js';

if (!gcloudAvailable()) {
  process.stderr.write(`npm run emulators: ${MISSING_SDK_MESSAGE}.\n`);
  process.exit(1);
}
process.env.METADATA_SERVER_DETECTION = 'none';
const emulators = await startEmulators();
const project = process.env.GOOGLE_CLOUD_PROJECT || 'nightshift-local';
process.env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
const pubsub = createPubSub(project);
await ensureTopology(pubsub);
await pubsub.close();
process.stdout.write(
  `export PUBSUB_EMULATOR_HOST=${emulators.pubsubHost} FIRESTORE_EMULATOR_HOST=${emulators.firestoreHost} GOOGLE_CLOUD_PROJECT=${project}\n`,
);
const stop = () => void emulators.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);
