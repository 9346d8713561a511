// Text for people: colour (only when asked for), tables and lines fitted to a width, times relative to a given clock, money and durations.

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
// The same, captured, so that splitting a text on it leaves the codes at the odd places.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape that starts a colour code
const ANSI_SPLIT = /(\u001b\[[0-9;]*m)/;

/**
 * `text` cut to `max` visible columns, its last one `…`. Every colour code is kept (none cut in half, none
 * lost), so a colour opened before the cut is still closed after it. Counted as `visibleLength` counts.
 */
export function truncate(text: string, max: number): string {
  if (visibleLength(text) <= max) return text;
  let room = Math.max(0, max - 1);
  let out = '';
  let cut = false;
  for (const [i, part] of text.split(ANSI_SPLIT).entries()) {
    if (i % 2 === 1) {
      out += part;
      continue;
    }
    if (cut) continue;
    // By code point, so that a character outside the BMP is never split into half a surrogate pair.
    for (const char of part) {
      if (char.length > room) {
        // `and…`, not `and …`.
        out = `${out.replace(/ +$/, '')}…`;
        cut = true;
        break;
      }
      out += char;
      room -= char.length;
    }
  }
  return out;
}

/**
 * `text` in lines of at most `width` visible columns (the first of at most `firstWidth`), broken at spaces
 * and at its own line breaks. A word longer than that (an id, a URL, a path) is never broken: it stays
 * whole on a line of its own.
 */
export function wrap(text: string, width: number, firstWidth = width): string[] {
  const lines: string[] = [];
  const room = () => (lines.length === 0 ? firstWidth : width);
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line === '') line = word;
      else if (visibleLength(line) + 1 + visibleLength(word) <= room()) line += ` ${word}`;
      else {
        lines.push(line.trimEnd());
        line = word;
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

/**
 * `first` then `text`, wrapped to `width` (none: one line) with the lines after the first indented by
 * `indent`. The first piece stays beside `first` even when it is one word too long to fit (a URL).
 */
export function hangingWrap(first: string, text: string, width: number | undefined, indent: number): string {
  if (width === undefined || visibleLength(first) + visibleLength(text) <= width) return `${first}${text}`;
  const pad = ' '.repeat(indent);
  const [head = '', ...rest] = wrap(
    text,
    Math.max(MIN_TEXT_WIDTH, width - indent),
    Math.max(MIN_TEXT_WIDTH, width - visibleLength(first)),
  );
  return [`${first}${head}`, ...rest.map((l) => pad + l)].join('\n');
}

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

/** A column of a table, and what it may give up to fit a narrow terminal. */
export interface Column {
  header: string;
  /** Left out when the table does not fit: the lowest first. Not given: always shown (ids, statuses). */
  drop?: number;
  /** Free text (a URL, a prompt, an error) that may be cut with `…` once no more columns can be left out; never an id. */
  shrink?: boolean;
  /** A shorter form of a `shrink` cell, used before cutting it (a URL without its `https://`). */
  compact?: (cell: string) => string;
}

/** The fewest columns free text keeps when cut (its header's, when that is wider). */
export const MIN_TEXT_WIDTH = 10;
const GAP = 2;

/**
 * Columns padded to their widest cell (colour codes not counted), two spaces apart, no trailing blanks.
 * Given a `width`, the table fits it: first the columns with a `drop` go, lowest first, while it is too
 * wide; then the `shrink` columns take their `compact` form and are cut, the widest first, down to
 * MIN_TEXT_WIDTH. Other columns are never cut, so a table whose ids alone are wider than `width` stays
 * wider than `width` (the terminal wraps it) rather than show a part of an id.
 */
export function table(
  style: Style,
  columns: Array<string | Column>,
  cells: string[][],
  width?: number,
): string {
  let rows = cells;
  const cols: Column[] = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const natural = cols.map((c, i) =>
    Math.max(c.header.length, ...rows.map((r) => visibleLength(r[i] ?? ''))),
  );
  const widths = [...natural];
  let shown = cols.map((_, i) => i);
  if (width !== undefined) {
    const total = () => shown.reduce((sum, i) => sum + (widths[i] ?? 0), 0) + GAP * (shown.length - 1);
    const droppable = shown
      .filter((i) => cols[i]?.drop !== undefined)
      .sort((a, b) => (cols[a]?.drop ?? 0) - (cols[b]?.drop ?? 0));
    for (const i of droppable) {
      if (total() <= width) break;
      shown = shown.filter((j) => j !== i);
    }
    if (total() > width) {
      // About to cut: the shrinkable cells that have a shorter form take it first.
      for (const i of shown) {
        const compact = cols[i]?.compact;
        if (!compact) continue;
        rows = rows.map((r) => r.map((cell, j) => (j === i ? compact(cell) : cell)));
        natural[i] = Math.max(cols[i]?.header.length ?? 0, ...rows.map((r) => visibleLength(r[i] ?? '')));
        widths[i] = natural[i] ?? 0;
      }
    }
    const least = (i: number) =>
      Math.min(natural[i] ?? 0, Math.max(cols[i]?.header.length ?? 0, MIN_TEXT_WIDTH));
    for (let excess = total() - width; excess > 0; excess--) {
      const cuttable = shown.filter((i) => cols[i]?.shrink && (widths[i] ?? 0) > least(i));
      if (cuttable.length === 0) break;
      const widest = cuttable.reduce((a, b) => ((widths[b] ?? 0) > (widths[a] ?? 0) ? b : a));
      widths[widest] = (widths[widest] ?? 0) - 1;
    }
  }
  const line = (cells: string[]) =>
    shown
      .map((i, k) => {
        const w = widths[i] ?? 0;
        const cell = truncate(cells[i] ?? '', w);
        return k === shown.length - 1 ? cell : cell + ' '.repeat(Math.max(0, w - visibleLength(cell)));
      })
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => bold(style, c.header))), ...rows.map(line)].join('\n');
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

/**
 * `key: value` lines with the keys aligned. Given a `width`, a longer value wraps at its spaces onto lines
 * indented to the values, its words (ids, URLs, paths) kept whole.
 */
export function fields(style: Style, entries: Array<[string, string]>, width?: number): string {
  const keys = Math.max(...entries.map(([k]) => k.length));
  const indent = keys + 2;
  return entries
    .map(([k, v]) => hangingWrap(`${dim(style, `${k}:`.padEnd(keys + 1))} `, v, width, indent))
    .join('\n');
}
