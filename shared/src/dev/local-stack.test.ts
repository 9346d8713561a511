// The local stack's agent restart: a dead agent is started again like systemd's Restart=always, with a log line.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, expect, it } from 'vitest';
import { describeEmulators, waitFor } from '../testing/index.js';
import { freePort } from './emulators.js';
import { type Stack, startStack } from './local-stack.js';

/** Collects what the stack prints. */
function sink(): Writable & { text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return Object.assign(w, { text: () => text });
}

describeEmulators('npm start: a dead agent is started again', () => {
  let stack: Stack | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it('restarts the agent after it is killed, says so, and reports no child exit', async () => {
    const root = await mkdtemp(join(tmpdir(), 'nightshift-stack-'));
    const out = sink();
    const err = sink();
    const exits: string[] = [];
    stack = await startStack({
      env: {
        ...process.env,
        GOOGLE_CLOUD_PROJECT: 'nightshift-restart',
        NIGHTSHIFT_API_TOKENS: '',
        PORT: String(await freePort()),
        NIGHTSHIFT_HOME: join(root, 'home'),
        NIGHTSHIFT_TMUX_SOCKET: `ns-stack-${process.pid}`,
        NIGHTSHIFT_AGENT_ID: 'stack-agent',
      },
      out,
      err,
      restartAgentMs: 200,
      onChildExit: (name) => exits.push(name),
    });
    const first = stack.children.get('agent');
    expect(first?.pid).toBeGreaterThan(0);
    first?.kill('SIGKILL');
    const second = await waitFor(
      'a new agent process',
      () => {
        const now = stack?.children.get('agent');
        return now && now !== first && now.pid ? now : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(second.pid).not.toBe(first?.pid);
    expect(err.text()).toContain(
      '[stack] agent exited (SIGKILL); restarting it in 200 ms, as systemd (Restart=always) does on the VM',
    );
    // The new agent is up: it says so in its log. A liveness wait, not a speed check: under a full test
    // suite on two cores a tsx-started agent can take half a minute to compile and reach Firestore.
    await waitFor(
      'the new agent to start',
      () => (out.text() + err.text()).split('agent started').length > 2,
      { timeoutMs: 90_000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the stack printed:\n${(out.text() + err.text()).slice(-4_000)}`);
    });
    expect(exits).toEqual([]);
  }, 180_000);
});
