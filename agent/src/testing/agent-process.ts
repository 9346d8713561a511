// A real agent process for restart tests: options from a JSON file, killed with SIGKILL by the test.
import { readFileSync } from 'node:fs';
import { createFirestore, createPubSub } from '@nightshift/shared';
import * as z from 'zod';
import { Agent } from '../agent.js';
import { type AgentSettings, compileAgentOptions } from '../options.js';
import { createTmux } from '../tmux.js';

/** The file's own fields; the rest are the agent's settings, parsed by compileAgentOptions. */
const ProcessFileSchema = z.looseObject({ projectId: z.string().min(1), socket: z.string().min(1) });

const path = process.argv[2];
if (!path) throw new Error('usage: agent-process.ts <options.json>');
const { projectId, socket, ...settings } = ProcessFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
const agent = new Agent(
  compileAgentOptions({
    ...(settings as AgentSettings),
    db: createFirestore(projectId),
    pubsub: createPubSub(projectId),
    tmux: createTmux(socket),
  }),
);
process.on('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
await agent.start();
process.stdout.write('agent ready\n');
