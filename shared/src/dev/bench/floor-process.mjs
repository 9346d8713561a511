// The memory floor of the agent, run by the bench: a bare process holding a Firestore client and one Pub/Sub streaming pull.
// Plain JavaScript, run by plain node like the agent's bundle. argv: <project> <subscription>.
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';

const [project, subscriptionName] = process.argv.slice(2);
const db = new Firestore({ projectId: project });
// One read, so the client has opened its channel as the agent's has.
await db.collection('benchFloor').doc('memory').get();
const pubsub = new PubSub({ projectId: project });
const subscription = pubsub.subscription(subscriptionName);
subscription.on('message', (message) => message.ack());
subscription.on('error', (error) => process.stderr.write(`floor process: ${error.message}\n`));
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await subscription.close();
  await db.terminate();
  process.exit(0);
});
