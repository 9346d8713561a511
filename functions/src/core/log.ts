// The functions' logger: the shared one (@nightshift/shared log.ts), each entry tagged with the current
// request's id and trace, so code a request runs logs them without being handed a logger per request.
import {
  createLogger,
  type LogEntry,
  type Logger,
  type LoggerOptions,
  memoryLogger as sharedMemoryLogger,
} from '@nightshift/shared';
import { requestFields } from './request-context.js';

export type { LogEntry, Logger, Severity } from '@nightshift/shared';

/** The logger of a function (json, for Cloud Logging) or of `npm start` (the format it is given). */
export function functionsLogger(options: Omit<LoggerOptions, 'context'> = {}): Logger {
  return createLogger({ ...options, context: requestFields });
}

/** A logger that keeps its entries in memory, tagged like functionsLogger's, for tests. */
export function memoryLogger(): Logger & { entries: LogEntry[] } {
  return sharedMemoryLogger({ context: requestFields });
}
