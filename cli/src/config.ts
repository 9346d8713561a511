// The CLI's settings from its environment: the only place in cli/ that reads process.env.
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CliEnv {
  /** NIGHTSHIFT_URL: the API's address, over the profile's. */
  url: string | undefined;
  /** NIGHTSHIFT_TOKEN: the bearer token, over the profile's. */
  token: string | undefined;
  /** NIGHTSHIFT_PROFILE: the profile used when --profile is not given (default `default`). */
  profile: string | undefined;
  /** $XDG_CONFIG_HOME/nightshift (default ~/.config/nightshift): where `login` keeps its profiles. */
  configDir: string;
  /** NO_COLOR set to anything but empty: no colour, even on a terminal (https://no-color.org). */
  noColor: boolean;
  /** TERM=dumb: a terminal that shows no colour. */
  dumbTerminal: boolean;
  /** NIGHTSHIFT_TMUX_SOCKET: the local agent's tmux server (a name for -L, or a path for -S). */
  tmuxSocket: string | undefined;
  /** COLUMNS set to a whole number above 0: the width text for people is fitted to, terminal or not. */
  columns: number | undefined;
}

const set = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

// Anything but a number (a shell may leave other text there) is as if COLUMNS were not set.
function columnsOf(value: string | undefined): number | undefined {
  const n = value !== undefined && /^\s*\d+\s*$/.test(value) ? Number(value) : 0;
  return n > 0 ? n : undefined;
}

export function loadEnv(env: Record<string, string | undefined> = process.env): CliEnv {
  const xdg = set(env.XDG_CONFIG_HOME);
  return {
    url: set(env.NIGHTSHIFT_URL),
    token: set(env.NIGHTSHIFT_TOKEN),
    profile: set(env.NIGHTSHIFT_PROFILE),
    configDir: join(xdg ?? join(set(env.HOME) ?? homedir(), '.config'), 'nightshift'),
    noColor: set(env.NO_COLOR) !== undefined,
    dumbTerminal: env.TERM === 'dumb',
    tmuxSocket: set(env.NIGHTSHIFT_TMUX_SOCKET),
    columns: columnsOf(env.COLUMNS),
  };
}
