// The tmux driver: sessions on the workers' tmux server (a socket name or path), with only ids and paths on its command lines.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TMUX_COMMAND_TIMEOUT_MS } from './timings.js';

const run = promisify(execFile);

/** The size of a session's window: what `tmux attach` shows until the owner's terminal resizes it. */
const PANE_COLUMNS = '200';
const PANE_ROWS = '50';
/** Tries of a new-session that met the server exiting under it (it is never made then: safe to retry). */
const NEW_SESSION_ATTEMPTS = 3;

export interface Tmux {
  readonly socket: string;
  newSession(name: string, cwd: string, argv: string[]): Promise<void>;
  hasSession(name: string): Promise<boolean>;
  /** Session names; none when tmux cannot be asked. */
  listSessions(): Promise<string[]>;
  /** Session names; none only when no server runs: any other failure (a wedged server, a timeout) throws. */
  listSessionsOrFail(): Promise<string[]>;
  killSession(name: string): Promise<void>;
  killServer(): Promise<void>;
}

/** Ids and paths only: tmux reads an argument that is or ends with ";" as a command separator. */
function assertSafe(arg: string): void {
  if (arg.endsWith(';') || /[\0\n\r]/.test(arg))
    throw new Error(`unsafe tmux argument: ${JSON.stringify(arg)}`);
}

/**
 * What a tmux client passes on: a client sends its whole environment to the server, and on the VM that
 * server belongs to the worker user, so the agent's own settings never go with it. The credential names
 * are for a local agent that starts the server itself (a key in the shell that ran `npm start`).
 */
const CLIENT_ENV_NAMES = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TMUX_TMPDIR',
  'ANTHROPIC_API_KEY',
  'CLAUDE_CODE_OAUTH_TOKEN',
];

function clientEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of CLIENT_ENV_NAMES) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * `socket` is a name (`tmux -L`, in the caller's own tmux folder: the local stack and the tests) or an
 * absolute path (`tmux -S`: the VM's workers server, owned by the worker user, see PROTOCOL.md).
 */
export function createTmux(socket: string, binary = 'tmux'): Tmux {
  const where = socket.startsWith('/') ? ['-S', socket] : ['-L', socket];
  const tmux = async (args: string[]) => {
    for (const a of args) assertSafe(a);
    const result = await run(binary, [...where, ...args], {
      timeout: TMUX_COMMAND_TIMEOUT_MS,
      env: clientEnv(),
    });
    // A server whose access list lacks this user says so and exits 0 (tmux 3.3a): without this, a
    // session that was never made would look made.
    if (result.stderr.includes('access not allowed'))
      throw Object.assign(new Error(`tmux on ${socket}: access not allowed`), { stderr: result.stderr });
    return result;
  };
  const exact = (name: string) => `=${name}`;
  const listSessionsOrFail = async () => {
    try {
      const { stdout } = await tmux(['list-sessions', '-F', '#{session_name}']);
      return stdout.split('\n').filter((s) => s !== '');
    } catch (error) {
      // tmux's own words for a socket nobody serves (never started, or its last session ended).
      const stderr = String((error as { stderr?: unknown }).stderr ?? '');
      if (/no server running|error connecting to .*\(No such file or directory\)/.test(stderr)) return [];
      throw error;
    }
  };
  return {
    socket,
    async newSession(name, cwd, argv) {
      const args = [
        'new-session',
        '-d',
        '-s',
        name,
        '-x',
        PANE_COLUMNS,
        '-y',
        PANE_ROWS,
        '-c',
        cwd,
        '--',
        ...argv,
      ];
      // A server whose last session just ended exits; a client that reached it in that moment gets this
      // and no session (npm run chaos saw it under load, where no keep-alive session holds the server).
      // The next try starts a new server.
      for (let attempt = 1; ; attempt++) {
        try {
          await tmux(args);
          return;
        } catch (error) {
          const stderr = String((error as { stderr?: unknown }).stderr ?? '');
          if (attempt >= NEW_SESSION_ATTEMPTS || !stderr.includes('server exited unexpectedly')) throw error;
        }
      }
    },
    async hasSession(name) {
      try {
        await tmux(['has-session', '-t', exact(name)]);
        return true;
      } catch {
        return false;
      }
    },
    async listSessions() {
      try {
        return await listSessionsOrFail();
      } catch {
        return []; // tmux could not be asked
      }
    },
    listSessionsOrFail,
    async killSession(name) {
      try {
        await tmux(['kill-session', '-t', exact(name)]);
      } catch {
        // already gone
      }
    },
    async killServer() {
      try {
        await tmux(['kill-server']);
      } catch {
        // no server
      }
    },
  };
}

/**
 * The workers' keep-alive session: the `nightshift-workers` systemd unit keeps this idle session on the
 * agent's socket so the tmux server outlives its runs. It is never a run (a run's session name always has a
 * dash in it, see sessionNameOf), so it never keeps the VM up. Every other session does.
 */
export const KEEPALIVE_SESSION = 'nightshift';

/** The session name of a run: worker and run id (both restricted to letters, digits, "-" and "_"). */
export function sessionNameOf(workerId: string, runId: string): string {
  return `${workerId}-${runId}`;
}
