// The stream-json parser: turns the worker's output lines into usage, the last text and the final result.
import { tailOf, type Usage, wellFormed } from '@nightshift/shared';

/** What the agent knows from the stream so far. Plain JSON, saved beside the log offset. */
export interface StreamState {
  sessionId: string | null;
  /** Distinct assistant message ids seen (the running turn count until a result arrives). */
  assistantIds: string[];
  usage: Usage;
  lastText: string | null;
  /** Bumped whenever lastText changes, so the progress writer can tell. */
  textVersion: number;
  result: StreamResult | null;
  skippedLines: number;
}

export interface StreamResult {
  subtype: string;
  isError: boolean;
  text: string | null;
  numTurns: number;
  costUsd: number;
  errors: string[];
}

export function emptyStreamState(): StreamState {
  return {
    sessionId: null,
    assistantIds: [],
    usage: { turns: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 },
    lastText: null,
    textVersion: 0,
    result: null,
    skippedLines: 0,
  };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

function inputTokensOf(usage: Json): number {
  return (
    num(usage.input_tokens) + num(usage.cache_creation_input_tokens) + num(usage.cache_read_input_tokens)
  );
}

/** Applies one line of output to the state (mutating it). Lines that are not JSON objects are counted and skipped. */
export function applyLine(state: StreamState, line: string): void {
  const trimmed = line.trim();
  if (trimmed === '') return;
  let message: unknown;
  try {
    message = JSON.parse(trimmed);
  } catch {
    state.skippedLines++;
    return;
  }
  if (!isObject(message)) {
    state.skippedLines++;
    return;
  }
  switch (message.type) {
    case 'system':
      if (message.subtype === 'init' && typeof message.session_id === 'string') {
        state.sessionId = message.session_id;
      }
      return;
    case 'assistant': {
      const inner = isObject(message.message) ? message.message : {};
      const id = typeof inner.id === 'string' ? inner.id : `line-${state.assistantIds.length}`;
      // Claude Code repeats one API message per content block, with the same id and usage.
      if (!state.assistantIds.includes(id)) {
        state.assistantIds.push(id);
        if (state.result === null) {
          const usage = isObject(inner.usage) ? inner.usage : {};
          state.usage.turns = state.assistantIds.length;
          state.usage.inputTokens += inputTokensOf(usage);
          state.usage.outputTokens += num(usage.output_tokens);
        }
      }
      const content = Array.isArray(inner.content) ? inner.content : [];
      const texts = content
        .filter((c): c is Json => isObject(c) && c.type === 'text' && typeof c.text === 'string')
        .map((c) => c.text as string)
        .filter((t) => t.trim() !== '');
      if (texts.length > 0) {
        state.lastText = texts.join('\n');
        state.textVersion++;
      }
      return;
    }
    case 'result': {
      const usage = isObject(message.usage) ? message.usage : {};
      const errors = Array.isArray(message.errors) ? message.errors.map((e) => String(e)) : [];
      state.result = {
        subtype: typeof message.subtype === 'string' ? message.subtype : 'unknown',
        isError: message.is_error === true,
        text: typeof message.result === 'string' ? message.result : null,
        numTurns: num(message.num_turns),
        costUsd: num(message.total_cost_usd),
        errors,
      };
      // The result carries the session's totals: they replace the running sums.
      state.usage = {
        turns: Math.trunc(num(message.num_turns)) || state.usage.turns,
        costUsd: num(message.total_cost_usd),
        inputTokens: Math.trunc(inputTokensOf(usage)) || state.usage.inputTokens,
        outputTokens: Math.trunc(num(usage.output_tokens)) || state.usage.outputTokens,
      };
      return;
    }
    default:
      return;
  }
}

/**
 * Applies a chunk of bytes. Only whole lines are consumed; returns how many bytes were used, so the
 * caller advances its offset by exactly that and re-reads a partial last line next time.
 */
export function applyChunk(state: StreamState, chunk: Buffer): number {
  let used = 0;
  for (;;) {
    const nl = chunk.indexOf(0x0a, used);
    if (nl < 0) return used;
    applyLine(state, chunk.subarray(used, nl).toString('utf8'));
    used = nl + 1;
  }
}

/** How much of the worker's own words a failure's error keeps. */
const VERDICT_DETAIL_MAX_CHARS = 2_000;

export type Verdict = { status: 'succeeded' } | { status: 'failed'; error: string };

export interface ExitStatus {
  code: number | null;
  signal: string | null;
  /** The end of the worker's stderr, kept by the runner: the reason when there is no result. */
  stderrTail?: string | null;
}

/** Success is exit 0 and a result with subtype success and is_error false; everything else fails with a reason. */
export function judge(state: StreamState, exit: ExitStatus, { ignoreExit = false } = {}): Verdict {
  const r = state.result;
  const how = exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
  if (r === null) return { status: 'failed', error: `worker exited without a result message (${how})` };
  const detail = [r.text, ...r.errors].filter((t): t is string => !!t && t.trim() !== '').join('; ');
  if (r.isError) {
    return {
      status: 'failed',
      error: `worker reported an error (${r.subtype})${detail ? `: ${keepEnd(detail, VERDICT_DETAIL_MAX_CHARS)}` : ''}`,
    };
  }
  if (r.subtype !== 'success') {
    return {
      status: 'failed',
      error: `worker ended with ${r.subtype}${detail ? `: ${keepEnd(detail, VERDICT_DETAIL_MAX_CHARS)}` : ''}`,
    };
  }
  if (!ignoreExit && (exit.signal !== null || exit.code !== 0)) {
    return { status: 'failed', error: `worker exited with ${how} after a successful result` };
  }
  return { status: 'succeeded' };
}

/** The end of the text in at most `max` characters, "…" first when cut; always well-formed. */
export function keepEnd(text: string, max: number): string {
  // Firestore refuses half a surrogate pair: a cut through an emoji would make the run's writes fail for good.
  const whole = wellFormed(text);
  return whole.length <= max ? whole : `…${tailOf(whole, max - 1)}`;
}
