// The node flags the agent runs with, read from its systemd unit, so the local stack and the bench run it as the VM does.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const AGENT_UNIT = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '../../..'),
  'agent/systemd/nightshift-agent.service',
);

/** The flags between `node` and the script on an ExecStart line: `/usr/bin/node --a --b x/main.js` → [--a, --b]. */
export function nodeFlagsOf(unitText: string): string[] {
  const line = unitText.split('\n').find((l) => l.startsWith('ExecStart='));
  if (line === undefined) throw new Error('the agent unit has no ExecStart line');
  const words = line.slice('ExecStart='.length).trim().split(/\s+/);
  return words.slice(1, -1).filter((w) => w.startsWith('--'));
}

export const agentNodeFlags = (): string[] => nodeFlagsOf(readFileSync(AGENT_UNIT, 'utf8'));
