// Structured logs in Cloud Logging's JSON format: one line per entry on stdout.
import { AsyncLocalStorage } from 'node:async_hooks';
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

/** Fields every entry written while handling one request carries (its request id and trace). */
const context = new AsyncLocalStorage<Record<string, unknown>>();

/** Runs `fn` with `fields` added to every entry a contextual logger writes meanwhile. */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return context.run({ ...context.getStore(), ...fields }, fn);
}

/** A logger that adds the current request's fields (see withLogContext) to each entry of `base`. */
export function contextualLogger(base: Logger): Logger {
  const log = (severity: Severity, message: string, fields: Record<string, unknown> = {}) =>
    base.log(severity, message, { ...context.getStore(), ...fields });
  return {
    log,
    info: (m, f) => log('INFO', m, f),
    warn: (m, f) => log('WARNING', m, f),
    error: (m, f) => log('ERROR', m, f),
  };
}
