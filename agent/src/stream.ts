// The stream-json parser: turns the worker's output lines into usage, the last text, the final result and a usage limit.
import { tailOf, type Usage, wellFormed, ZERO_USAGE } from '@nightshift/shared';
import { isLimitText, type SeenLimit } from './limit.js';

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
  /** The usage of the run's earlier pieces: `usage` is the run's total, this piece's added to it. */
  base: Usage;
  /** The plan's usage limit, once the worker reported it (a rejected rate_limit_event, or its words). */
  limit: SeenLimit | null;
  /** Why the runner started this piece afresh, once per time (its own `nightshift` lines in the log). */
  freshStarts: string[];
  /** The init message's `apiKeySource`: how the worker is paid for (`none`: a subscription's login). */
  apiKeySource?: string | null;
}

export interface StreamResult {
  subtype: string;
  isError: boolean;
  text: string | null;
  numTurns: number;
  costUsd: number;
  errors: string[];
}

/** The state at a piece's start; `base` is the usage of the run's earlier pieces. */
export function emptyStreamState(base: Usage = ZERO_USAGE): StreamState {
  return {
    sessionId: null,
    assistantIds: [],
    usage: { ...base },
    lastText: null,
    textVersion: 0,
    result: null,
    skippedLines: 0,
    base: { ...base },
    limit: null,
    freshStarts: [],
  };
}

/** Sums of costs without binary noise (0.0125 + 0.025 is not 0.0375 in floating point). */
const roundUsd = (usd: number): number => Math.round(usd * 1e9) / 1e9;

/** This piece's own usage (the run's total less its earlier pieces'). */
export function pieceUsageOf(state: StreamState): Usage {
  const base = state.base ?? ZERO_USAGE;
  return {
    turns: Math.max(0, state.usage.turns - base.turns),
    costUsd: Math.max(0, roundUsd(state.usage.costUsd - base.costUsd)),
    inputTokens: Math.max(0, state.usage.inputTokens - base.inputTokens),
    outputTokens: Math.max(0, state.usage.outputTokens - base.outputTokens),
  };
}

/** The usage limit the stream shows, if any: the structured report first, else a limit result's words. */
export function usageLimitOf(state: StreamState): SeenLimit | null {
  const r = state.result;
  const words = r === null ? null : [r.text, ...r.errors].filter((t) => !!t).join('; ') || null;
  if (state.limit !== null) return { ...state.limit, text: state.limit.text ?? words };
  if (r?.isError && isLimitText(words)) return { resetsAtMs: null, type: null, text: words };
  return null;
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
  // A saved state from before pieces existed has no base.
  state.base ??= { ...ZERO_USAGE };
  state.freshStarts ??= [];
  state.limit ??= null;
  const base = state.base;
  switch (message.type) {
    case 'rate_limit_event': {
      // SDKRateLimitEvent: `allowed` and `allowed_warning` come and go; only `rejected` stops the worker.
      const info = isObject(message.rate_limit_info) ? message.rate_limit_info : {};
      if (info.status !== 'rejected') return;
      const resetsAt = num(info.resetsAt);
      state.limit = {
        resetsAtMs: resetsAt > 0 ? resetsAt * 1000 : (state.limit?.resetsAtMs ?? null),
        type: typeof info.rateLimitType === 'string' ? info.rateLimitType : (state.limit?.type ?? null),
        text: state.limit?.text ?? null,
      };
      return;
    }
    case 'nightshift':
      // The runner's own line: it started the piece afresh, so what came before is not this piece's.
      if (message.subtype === 'fresh_start') {
        state.freshStarts.push(typeof message.reason === 'string' ? message.reason : 'started afresh');
        state.assistantIds = [];
        state.result = null;
        state.usage = { ...base };
      }
      return;
    case 'system':
      if (message.subtype === 'init' && typeof message.session_id === 'string') {
        state.sessionId = message.session_id;
      }
      if (message.subtype === 'init' && typeof message.apiKeySource === 'string')
        state.apiKeySource = message.apiKeySource;
      return;
    case 'assistant': {
      const inner = isObject(message.message) ? message.message : {};
      if (message.error === 'rate_limit') {
        const said = Array.isArray(inner.content)
          ? inner.content
              .filter((c): c is Json => isObject(c) && typeof c.text === 'string')
              .map((c) => c.text as string)
              .join('\n')
          : '';
        state.limit = {
          resetsAtMs: state.limit?.resetsAtMs ?? null,
          type: state.limit?.type ?? null,
          text: said.trim() !== '' ? said : (state.limit?.text ?? null),
        };
      }
      const id = typeof inner.id === 'string' ? inner.id : `line-${state.assistantIds.length}`;
      // Claude Code repeats one API message per content block, with the same id and usage.
      if (!state.assistantIds.includes(id)) {
        state.assistantIds.push(id);
        if (state.result === null) {
          const usage = isObject(inner.usage) ? inner.usage : {};
          state.usage.turns = base.turns + state.assistantIds.length;
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
      // The result carries the piece's totals: they replace its running sums, added to the earlier pieces'.
      const turns = Math.trunc(num(message.num_turns));
      const input = Math.trunc(inputTokensOf(usage));
      const output = Math.trunc(num(usage.output_tokens));
      state.usage = {
        turns: turns ? base.turns + turns : state.usage.turns,
        costUsd:
          base.costUsd === 0
            ? num(message.total_cost_usd)
            : roundUsd(base.costUsd + num(message.total_cost_usd)),
        inputTokens: input ? base.inputTokens + input : state.usage.inputTokens,
        outputTokens: output ? base.outputTokens + output : state.usage.outputTokens,
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
