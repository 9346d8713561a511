// The agent's node flags as its unit gives them.
import { describe, expect, it } from 'vitest';
import { agentNodeFlags, nodeFlagsOf } from './agent-flags.js';

describe('nodeFlagsOf', () => {
  it('takes the flags between node and the script of ExecStart', () => {
    const unit = '[Service]\nExecStartPre=/bin/true\nExecStart=/usr/bin/node --a=1  --b /opt/x/main.js\n';
    expect(nodeFlagsOf(unit)).toEqual(['--a=1', '--b']);
  });

  it('refuses a unit without ExecStart', () => {
    expect(() => nodeFlagsOf('[Service]\n')).toThrow(/no ExecStart/);
  });

  it("reads the agent's own unit: its flags are node flags", () => {
    for (const flag of agentNodeFlags()) expect(flag).toMatch(/^--[a-z-]+(=\S+)?$/);
  });
});
