// A real agent process for restart tests: options from a JSON file, killed with SIGKILL by the test.
import { readFileSync } from 'node:fs';
import { createFirestore, createPubSub } from '@nightshift/shared';
import { Agent } from '../agent.js';
import { createLogger } from '../log.js';
import type { AgentTimings } from '../timings.js';
import { createTmux } from '../tmux.js';

interface ProcessOptions {
  projectId: string;
  agentId: string;
  home: string;
  workerCommand: string;
  capacity: number;
  socket: string;
  timings: AgentTimings;
  workerEnv: Record<string, string>;
}

const path = process.argv[2];
if (!path) throw new Error('usage: agent-process.ts <options.json>');
const o = JSON.parse(readFileSync(path, 'utf8')) as ProcessOptions;
const agent = new Agent({
  agentId: o.agentId,
  home: o.home,
  workerCommand: o.workerCommand,
  capacity: o.capacity,
  db: createFirestore(o.projectId),
  pubsub: createPubSub(o.projectId),
  tmux: createTmux(o.socket),
  timings: o.timings,
  logger: createLogger({ agent: o.agentId }),
  workerEnv: o.workerEnv,
});
process.on('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
await agent.start();
process.stdout.write('agent ready\n');
