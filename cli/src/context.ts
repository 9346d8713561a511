// What every command is handed: its streams, clock and environment, the global options, and the API client.
import type { Command } from 'commander';
import { apiClient, type Client, type Connection } from './api.js';
import type { CliEnv } from './config.js';
import { CliError, EXIT, usageError } from './errors.js';
import { type Style, useColor } from './format.js';
import { DEFAULT_PROFILE, profilesPath, readProfiles } from './profiles.js';
import type { ViewOptions } from './views.js';

export interface Out {
  write(text: string): unknown;
  isTTY?: boolean;
  /** A terminal's width (0 or none when it is not known). */
  columns?: number;
}

/** The collaborators of the CLI, passed in so tests drive them. */
export interface Io {
  stdout: Out;
  stderr: Out;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  env: CliEnv;
  now: () => Date;
  fetch: typeof fetch;
  /** Runs a command in the foreground with this terminal (attach --exec); resolves to its exit code. */
  exec: (argv: string[]) => Promise<number>;
  /** Waits, for polling; resolves early never. */
  sleep: (ms: number) => Promise<void>;
}

export interface GlobalOptions {
  profile?: string;
  json?: boolean;
  wide?: boolean;
  color?: boolean;
  debug?: boolean;
}

export class Ctx {
  readonly options: GlobalOptions;
  readonly style: Style;
  constructor(
    readonly io: Io,
    command: Command,
  ) {
    this.options = command.optsWithGlobals<GlobalOptions>();
    this.style = { color: useColor(io.stdout.isTTY === true, io.env, this.options.color !== false) };
  }

  get json(): boolean {
    return this.options.json === true;
  }

  /**
   * The columns text for people is fitted to: none under --wide; COLUMNS when it is a number (on a terminal
   * or not, so a script or a test can ask for it); else a terminal's width; else none, full width.
   */
  get width(): number | undefined {
    if (this.options.wide === true) return undefined;
    if (this.io.env.columns !== undefined) return this.io.env.columns;
    const { isTTY, columns } = this.io.stdout;
    return isTTY === true && columns !== undefined && columns > 0 ? columns : undefined;
  }

  view(): ViewOptions {
    const width = this.width;
    return { style: this.style, now: this.io.now(), ...(width === undefined ? {} : { width }) };
  }

  /** A line (or lines) for people on stdout. */
  print(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The API's JSON, as it answered, on stdout. */
  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A note for people on stderr (never part of what a script parses). */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  profileName(): string {
    return this.options.profile ?? this.io.env.profile ?? DEFAULT_PROFILE;
  }

  private connection?: Connection;

  /** Where the API is and the token: NIGHTSHIFT_URL / NIGHTSHIFT_TOKEN over the chosen profile. */
  async connect(): Promise<Connection> {
    if (this.connection) return this.connection;
    const { env } = this.io;
    const name = this.profileName();
    const file = await readProfiles(env.configDir);
    const profile = file.profiles[name];
    const named = this.options.profile !== undefined || env.profile !== undefined;
    if (!profile && named && !(env.url && env.token)) {
      throw usageError(
        `no profile "${name}" in ${profilesPath(env.configDir)}: run nightshift login --profile ${name}`,
      );
    }
    const url = env.url ?? profile?.url;
    const token = env.token ?? profile?.token;
    if (!url) {
      throw usageError(
        'no API address: run nightshift login --url <url> --token <token>, or set NIGHTSHIFT_URL',
      );
    }
    if (!token) {
      throw new CliError('no token: run nightshift login, or set NIGHTSHIFT_TOKEN', EXIT.auth);
    }
    this.connection = { url, token };
    return this.connection;
  }

  private client?: Client;

  async api(): Promise<Client> {
    this.client ??= apiClient(await this.connect(), this.io.fetch);
    return this.client;
  }
}
