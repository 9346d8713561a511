// A small structured logger: one JSON line per entry on stderr, or any sink a test gives.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every entry (a run's logger carries its run id). */
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  minLevel: LogLevel = 'info',
): Logger {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const entry =
    (level: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (order.indexOf(level) < order.indexOf(minLevel)) return;
      const extra: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) extra[k] = v instanceof Error ? v.message : v;
      write(JSON.stringify({ at: new Date().toISOString(), level, msg, ...base, ...extra }));
    };
  return {
    debug: entry('debug'),
    info: entry('info'),
    warn: entry('warn'),
    error: entry('error'),
    child: (fields) => createLogger({ ...base, ...fields }, write, minLevel),
  };
}

/** A logger that keeps nothing. */
export const silentLogger: Logger = createLogger({}, () => {});

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
