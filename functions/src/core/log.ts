// Structured logs in Cloud Logging's JSON format: one line per entry on stdout.
import { requestFields } from './request-context.js';

export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR';

export interface Logger {
  log(severity: Severity, message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const log = (severity: Severity, message: string, fields: Record<string, unknown> = {}) => {
    write(`${JSON.stringify({ severity, message, time: new Date().toISOString(), ...fields })}\n`);
  };
  return {
    log,
    info: (m, f) => log('INFO', m, f),
    warn: (m, f) => log('WARNING', m, f),
    error: (m, f) => log('ERROR', m, f),
  };
}

/** A logger that keeps entries in memory, for tests that assert what was logged. */
export function memoryLogger(): Logger & {
  entries: Array<{ severity: Severity; message: string } & Record<string, unknown>>;
} {
  const entries: Array<{ severity: Severity; message: string } & Record<string, unknown>> = [];
  const log = (severity: Severity, message: string, fields: Record<string, unknown> = {}) => {
    entries.push({ severity, message, ...fields });
  };
  return {
    entries,
    log,
    info: (m, f) => log('INFO', m, f),
    warn: (m, f) => log('WARNING', m, f),
    error: (m, f) => log('ERROR', m, f),
  };
}

/** A logger that adds the current request's fields (its id and trace; see requestFields) to each entry. */
export function contextualLogger(base: Logger): Logger {
  const log = (severity: Severity, message: string, fields: Record<string, unknown> = {}) =>
    base.log(severity, message, { ...requestFields(), ...fields });
  return {
    log,
    info: (m, f) => log('INFO', m, f),
    warn: (m, f) => log('WARNING', m, f),
    error: (m, f) => log('ERROR', m, f),
  };
}
