// The entry of the `nightshift` binary: the CLI on this process's argv, streams and environment.
import { processIo, run } from './program.js';

run(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
