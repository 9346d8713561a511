// Text for people: colour (only when asked for), tables, times relative to a given clock, money and durations.

export interface Style {
  color: boolean;
}

const SGR = (open: number, close: number) => (style: Style, text: string) =>
  style.color ? `\u001b[${open}m${text}\u001b[${close}m` : text;

export const bold = SGR(1, 22);
export const dim = SGR(2, 22);
export const red = SGR(31, 39);
export const green = SGR(32, 39);
export const yellow = SGR(33, 39);
export const blue = SGR(34, 39);
export const cyan = SGR(36, 39);

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape that starts a colour code
const ANSI = /\u001b\[[0-9;]*m/g;
export const visibleLength = (text: string) => text.replace(ANSI, '').length;

/** Whether to colour: a terminal, NO_COLOR unset, TERM not dumb, --no-color not given. */
export function useColor(isTty: boolean, env: { noColor: boolean; dumbTerminal: boolean }, flag = true) {
  return isTty && flag && !env.noColor && !env.dumbTerminal;
}

const STATUS_COLOR: Record<string, (style: Style, text: string) => string> = {
  succeeded: green,
  failed: red,
  timed_out: red,
  lost: red,
  cancelled: yellow,
  running: cyan,
  starting: cyan,
  queued: blue,
  waiting: yellow,
};

export const statusText = (style: Style, status: string) => (STATUS_COLOR[status] ?? dim)(style, status);

/** Columns padded to their widest cell (colour codes not counted), two spaces apart, no trailing blanks. */
export function table(style: Style, headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell)),
      )
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => bold(style, h))), ...rows.map(line)].join('\n');
}

/** A span of milliseconds in its two largest units: `45s`, `3m05s`, `2h10m`, `3d04h`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** When `iso` is from `now`: `12s ago`, `3h05m ago`, `in 5m00s`, or `-` for none. */
export function ago(iso: string | null | undefined, now: Date): string {
  if (!iso) return '-';
  const ms = now.getTime() - Date.parse(iso);
  return ms >= 0 ? `${duration(ms)} ago` : `in ${duration(-ms)}`;
}

/** `2026-12-01 02:30` in `timeZone` (the machine's when not given). */
export function dateTime(iso: string | Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(typeof iso === 'string' ? new Date(iso) : iso);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

/** `09:31:02` in `timeZone` (the machine's when not given). */
export const timeOfDay = (iso: string, timeZone?: string) => dateTime(iso, timeZone).slice(11);

export const usd = (amount: number) => `$${amount.toFixed(2)}`;

/** The first line of a text, cut to `max` characters. */
export function firstLine(text: string, max = 80): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `key: value` lines with the keys aligned. */
export function fields(style: Style, entries: Array<[string, string]>): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${dim(style, `${k}:`.padEnd(width + 1))} ${v}`).join('\n');
}
