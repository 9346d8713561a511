// The agent's logger: the shared one (@nightshift/shared log.ts, Cloud Logging's format), on stderr, under
// the names agent code uses.
import {
  createLogger as createSharedLogger,
  type LogFields,
  type LogFormat,
  type Logger,
  type LogLevel,
} from '@nightshift/shared';

export { errorMessage, type Logger, type LogLevel, silentLogger } from '@nightshift/shared';

/**
 * A logger whose entries carry `fields` (the agent's id), written one line each to `write` (stderr: the
 * journal, which the Ops Agent ships to Cloud Logging). `format` is `json` unless the config says otherwise.
 */
export function createLogger(
  fields: LogFields = {},
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  level: LogLevel = 'info',
  format: LogFormat = 'json',
): Logger {
  return createSharedLogger({ fields, write, level, format });
}
