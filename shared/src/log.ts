// One log format for every deployable: Cloud Logging's structured JSON lines, or one readable line each.
//
// The JSON form is what Cloud Logging reads from a function's stdout and from the VM's journal (through
// the Ops Agent): `severity`, `message` and `time` are its own fields, `logging.googleapis.com/trace` links
// an entry to its request's trace, `httpRequest` makes a request log; every other field lands in
// jsonPayload. The pretty form is for a person at `npm start`'s console. A deployable picks one
// explicitly (NIGHTSHIFT_LOG_FORMAT, read by its config); nothing here looks at a terminal to guess.
import * as z from 'zod';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Cloud Logging's LogSeverity names of the levels. */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogFields = Record<string, unknown>;

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/** The schema of NIGHTSHIFT_LOG_FORMAT: `json` (the default, for Cloud Logging) or `pretty` (a console). */
export const LogFormatSchema = z.enum(LOG_FORMATS).default('json');

/** The field Cloud Logging links to a trace (`projects/P/traces/T`). */
export const TRACE_FIELD = 'logging.googleapis.com/trace';
/** The field Cloud Logging shows as the entry's labels (string values). */
export const LABELS_FIELD = 'logging.googleapis.com/labels';

const SEVERITY: Record<LogLevel, Severity> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
};
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** One entry as written: Cloud Logging's fields first, then the logger's and the call's own. */
export interface LogEntry extends LogFields {
  severity: Severity;
  message: string;
  time: string;
}

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose entries also carry `fields` (a run id, an agent id); same sink, level and context. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** `json` (default) or `pretty`. */
  format?: LogFormat;
  /** Receives each entry as one line without its newline; default: stdout. */
  write?: (line: string) => void;
  /** Entries below this level are dropped; default `info`. */
  level?: LogLevel;
  /** Fields on every entry (the agent's id, …). */
  fields?: LogFields;
  /**
   * Read at each entry: the fields of whatever is being handled right now (the request's id and trace),
   * so code deep in a request logs them without passing a logger along.
   */
  context?: () => LogFields;
  now?: () => Date;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An Error value in fields is logged as its message (its stack only when the caller asks for it). */
function plain(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields))
    out[key] = value instanceof Error ? value.message : value;
  return out;
}

type Sink = (entry: LogEntry) => void;

function makeLogger(
  sink: Sink,
  options: Pick<LoggerOptions, 'level' | 'context' | 'now'>,
  base: LogFields,
): Logger {
  const min = RANK[options.level ?? 'info'];
  const now = options.now ?? (() => new Date());
  const entry =
    (level: LogLevel) =>
    (message: string, fields: LogFields = {}): void => {
      if (RANK[level] < min) return;
      sink({
        severity: SEVERITY[level],
        message,
        time: now().toISOString(),
        ...base,
        ...options.context?.(),
        ...plain(fields),
      });
    };
  return {
    debug: entry('debug'),
    info: entry('info'),
    warn: entry('warn'),
    error: entry('error'),
    child: (fields) => makeLogger(sink, options, { ...base, ...plain(fields) }),
  };
}

export function formatJson(entry: LogEntry): string {
  return JSON.stringify(entry);
}

/** A bare value as is when it reads unambiguously, else as JSON. */
function shown(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]{1,80}$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * `05:00:01.234 INFO  GET /v1/runs 200  requestId=… runId=…`: the time of day (UTC), the severity, the
 * message, then the fields as key=value. Cloud Logging's bookkeeping fields (labels, trace) are left out.
 */
export function formatPretty(entry: LogEntry): string {
  const { severity, message, time, [LABELS_FIELD]: _labels, [TRACE_FIELD]: _trace, ...fields } = entry;
  const rest = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${shown(value)}`)
    .join(' ');
  return `${time.slice(11, 23)} ${severity.padEnd(7)} ${message}${rest ? `  ${rest}` : ''}`;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format === 'pretty' ? formatPretty : formatJson;
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  return makeLogger((entry) => write(format(entry)), options, options.fields ?? {});
}

/** A logger that keeps its entries in memory, for tests that assert what was logged. */
export function memoryLogger(
  options: Pick<LoggerOptions, 'level' | 'context' | 'fields' | 'now'> = {},
): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return Object.assign(
    makeLogger((entry) => entries.push(entry), { level: 'debug', ...options }, options.fields ?? {}),
    { entries },
  );
}

/** A logger that keeps nothing. */
export const silentLogger: Logger = makeLogger(() => {}, {}, {});
