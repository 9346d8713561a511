// The `nightshift` program: its commands, global options and exit codes; `run` is the whole CLI for a given argv.
import { spawn } from 'node:child_process';
import { Command, CommanderError, Option } from 'commander';
import { CLI_VERSION } from './api.js';
import { registerAttach } from './commands/attach.js';
import { registerCompletion } from './commands/completion.js';
import { registerFleet } from './commands/fleet.js';
import { registerLogin } from './commands/login.js';
import { registerNotifications } from './commands/notifications.js';
import { registerRuns } from './commands/runs.js';
import { registerVms } from './commands/vms.js';
import { registerWorkers } from './commands/workers.js';
import { loadEnv } from './config.js';
import type { Io } from './context.js';
import { CliError, EXIT } from './errors.js';

const HELP_FOOTER = `
Configuration: nightshift login keeps the API address and token as a profile in
$XDG_CONFIG_HOME/nightshift/config.json (mode 0600); NIGHTSHIFT_URL and NIGHTSHIFT_TOKEN override it,
NIGHTSHIFT_PROFILE or --profile picks another. NO_COLOR turns colour off.

Width: on a terminal, tables fit its width (less important columns left out, long text cut with …,
ids never) and long values wrap; COLUMNS=<n> sets the width, on a terminal or not; --wide shows
every column in full, as a pipe or a file always gets.

Exit codes: 0 ok, 1 API or run failure (a followed run that did not succeed), 2 usage error,
3 not found, 4 authentication.`;

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('nightshift')
    .description('Drive nightshift workers and runs through its HTTP API.')
    .version(CLI_VERSION, '-V, --version')
    .option('-p, --profile <name>', 'the login profile to use (default: NIGHTSHIFT_PROFILE, else default)')
    .option('--json', "print the API's JSON instead of text, for scripts")
    .option('--wide', 'every column at full width, even on a narrow terminal')
    .option('--no-color', 'no colour, even on a terminal')
    .addOption(new Option('--debug', 'print stack traces of errors'))
    .addHelpText('after', HELP_FOOTER)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  registerLogin(program, io);
  registerWorkers(program, io);
  registerRuns(program, io, setExit);
  registerAttach(program, io, setExit);
  registerFleet(program, io);
  registerVms(program, io);
  registerNotifications(program, io);
  registerCompletion(program, io);
  return program;
}

/** Runs the CLI on `argv` (without node and the script) and resolves to its exit code; never throws. */
export async function run(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other complaint of commander's (already written) is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const debug = argv.includes('--debug');
    if (error instanceof CliError) {
      io.stderr.write(`nightshift: ${error.message}\n`);
      if (debug && error.cause instanceof Error) io.stderr.write(`${error.cause.stack}\n`);
      return error.exitCode;
    }
    const e = error as Error;
    io.stderr.write(`nightshift: ${e?.message ?? String(error)}${debug ? '' : ' (--debug shows where)'}\n`);
    if (debug) io.stderr.write(`${e?.stack}\n`);
    return EXIT.failure;
  }
}

/** The collaborators of a real run: this process's streams, clock, environment and fetch. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: loadEnv(),
    now: () => new Date(),
    fetch: globalThis.fetch,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    exec: (argv) =>
      new Promise((resolve, reject) => {
        const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'inherit' });
        child.on('error', (error) =>
          reject(new CliError(`cannot run ${argv[0]}: ${error.message}`, EXIT.failure)),
        );
        child.on('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
      }),
  };
}
