// The CLI's one error type and its exit codes: what a script can rely on.

/** Exit codes (README, `nightshift --help`). */
export const EXIT = {
  ok: 0,
  /** The API refused or failed, the network failed, or the run did not succeed. */
  failure: 1,
  /** A wrong command line: unknown command or option, a missing or bad argument. */
  usage: 2,
  /** The worker or run (or route) does not exist. */
  notFound: 3,
  /** No token, or the API refused it. */
  auth: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line on stderr and exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
