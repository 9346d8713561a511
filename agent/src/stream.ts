// The stream-json parser: turns the worker's output lines into usage, the last text, the final result and a usage limit.
import { type Piece, tailOf, type Usage, wellFormed, ZERO_USAGE } from '@nightshift/shared';
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
  /** The usage of the run's earlier pieces: `usage` is the run's total, this piece's own added to it. */
  base: Usage;
  /**
   * The usage the session this piece resumes (or forks) is known to hold already: a result that continued
   * the transcript's saved total carries it, and it is taken off (Progress: cumulative results). Zero for a
   * new session. Absent in a tail saved before it existed (read as zero).
   */
  sessionBase?: Usage;
  /** This piece's own counts from its assistant messages (main loop and subagents), since its (fresh) start. */
  counted?: Counted;
  /** Where the piece's cost and tokens came from, once a result arrived (null before). */
  usageFrom?: UsageFrom | null;
  /** Where the piece's turns came from, once a result arrived (null before). */
  turnsFrom?: UsageFrom | null;
  /** The plan's usage limit, once the worker reported it (a rejected rate_limit_event, or its words). */
  limit: SeenLimit | null;
  /** Why the runner started this piece afresh, once per time (its own `nightshift` lines in the log). */
  freshStarts: string[];
  /** The init message's `apiKeySource`: how the worker is paid for (`none`: a subscription's login). */
  apiKeySource?: string | null;
  /** The piece forks a parent's session (a follow-up's first piece, or a later one forking again). */
  forked?: boolean;
}

/** A piece's own counts from its assistant messages, deduplicated by message id. */
export interface Counted {
  /** Distinct API messages, subagents' included. */
  turns: number;
  /** Distinct API messages of the main loop (`parent_tool_use_id` null): what `num_turns` counts. */
  mainTurns: number;
  inputTokens: number;
  outputTokens: number;
}
const ZERO_COUNTED: Counted = { turns: 0, mainTurns: 0, inputTokens: 0, outputTokens: 0 };

export interface StreamResult {
  subtype: string;
  isError: boolean;
  text: string | null;
  numTurns: number;
  costUsd: number;
  errors: string[];
}

/**
 * The state at a piece's start; `base` is the usage of the run's earlier pieces, `sessionBase` the usage
 * the session it resumes or forks is known to hold (zero for a new session).
 */
export function emptyStreamState(base: Usage = ZERO_USAGE, sessionBase: Usage = ZERO_USAGE): StreamState {
  return {
    sessionId: null,
    assistantIds: [],
    usage: { ...base },
    lastText: null,
    textVersion: 0,
    result: null,
    skippedLines: 0,
    base: { ...base },
    sessionBase: { ...sessionBase },
    counted: { ...ZERO_COUNTED },
    usageFrom: null,
    turnsFrom: null,
    limit: null,
    freshStarts: [],
  };
}

/** Sums of costs without binary noise (0.0125 + 0.025 is not 0.0375 in floating point). */
const roundUsd = (usd: number): number => Math.round(usd * 1e9) / 1e9;

/**
 * Where a piece's usage came from: `cumulative` (the result continued the session's saved total, which was
 * taken off), `piece` (the result's totals were the piece's own), `stream` (no usable result: a zeroed
 * crash result, or none yet; the piece's own assistant messages are its usage, at no known cost).
 */
export type UsageFrom = 'cumulative' | 'piece' | 'stream';

/** A result's totals: `total_cost_usd`, `num_turns`, and the tokens of `modelUsage` (else of `usage`). */
export interface ResultTotals {
  costUsd: number;
  turns: number;
  inputTokens: number;
  outputTokens: number;
}

/**
 * How much of the session's known earlier count a result must carry beyond the piece's own, to count as
 * continued. Calls the stream never shows (compaction, internal calls) make a piece's result a little over
 * its own messages; a continued result is over them by the whole saved total, which for tokens grows with
 * every turn's context, so half of it separates the two by far.
 */
export const CONTINUED_SHARE = 0.5;

export interface PieceSpend {
  usage: Usage;
  usageFrom: UsageFrom;
  turnsFrom: UsageFrom;
}

/**
 * A piece's own spend from its result (pure). The CLI's result of a resumed or forked session continues from
 * the total its transcript saved, when it has one: cost and tokens are taken as continued when the result's
 * tokens exceed the piece's own counted tokens by at least CONTINUED_SHARE of the session's known tokens
 * (`saved`), and then `saved` is taken off; turns likewise, `num_turns` against the piece's main-loop
 * messages and the saved turns. A zeroed result (a crash or startup error) leaves the piece's counted
 * messages. Nothing goes below zero, and tokens never below what the piece's own messages counted.
 */
export function pieceSpendOf(totals: ResultTotals, counted: Counted, saved: Usage): PieceSpend {
  const zeroed = totals.costUsd === 0 && totals.inputTokens + totals.outputTokens === 0;
  let usageFrom: UsageFrom = 'stream';
  let costUsd = 0;
  let inputTokens = counted.inputTokens;
  let outputTokens = counted.outputTokens;
  if (!zeroed) {
    const savedTokens = saved.inputTokens + saved.outputTokens;
    const excess = totals.inputTokens + totals.outputTokens - (counted.inputTokens + counted.outputTokens);
    usageFrom = savedTokens > 0 && excess >= CONTINUED_SHARE * savedTokens ? 'cumulative' : 'piece';
    const off = usageFrom === 'cumulative' ? saved : ZERO_USAGE;
    costUsd = Math.max(0, roundUsd(totals.costUsd - off.costUsd));
    inputTokens = Math.max(counted.inputTokens, totals.inputTokens - off.inputTokens);
    outputTokens = Math.max(counted.outputTokens, totals.outputTokens - off.outputTokens);
  }
  let turnsFrom: UsageFrom = 'stream';
  let turns = counted.turns;
  if (totals.turns > 0) {
    const excess = totals.turns - counted.mainTurns;
    turnsFrom = saved.turns > 0 && excess >= CONTINUED_SHARE * saved.turns ? 'cumulative' : 'piece';
    turns = Math.max(0, totals.turns - (turnsFrom === 'cumulative' ? saved.turns : 0));
  }
  return { usage: { turns, costUsd, inputTokens, outputTokens }, usageFrom, turnsFrom };
}

/** A result's totals: `modelUsage` (every model call, subagents' included) is preferred over `usage`. */
function totalsOf(message: Json): ResultTotals {
  const models = isObject(message.modelUsage) ? Object.values(message.modelUsage).filter(isObject) : [];
  const usage = isObject(message.usage) ? message.usage : {};
  const fromModels = models.length > 0;
  return {
    costUsd: num(message.total_cost_usd),
    turns: Math.trunc(num(message.num_turns)),
    inputTokens: fromModels
      ? models.reduce(
          (sum, m) =>
            sum + num(m.inputTokens) + num(m.cacheReadInputTokens) + num(m.cacheCreationInputTokens),
          0,
        )
      : Math.trunc(inputTokensOf(usage)),
    outputTokens: fromModels
      ? models.reduce((sum, m) => sum + num(m.outputTokens), 0)
      : Math.trunc(num(usage.output_tokens)),
  };
}

const plus = (a: Usage, b: Usage): Usage => ({
  turns: a.turns + b.turns,
  costUsd: a.costUsd === 0 ? b.costUsd : roundUsd(a.costUsd + b.costUsd),
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
});

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

/** What a piece records of its usage: its own, where that came from, and the session it ran in. */
export function pieceAccountOf(
  state: StreamState,
  mode: 'fresh' | 'resume',
  forked: boolean,
): Pick<Piece, 'usage' | 'usageFrom' | 'turnsFrom' | 'session'> {
  const session =
    (state.freshStarts ?? []).length > 0
      ? 'new'
      : state.forked === true
        ? 'forked'
        : mode === 'resume'
          ? 'resumed'
          : forked
            ? 'forked'
            : 'new';
  return {
    usage: pieceUsageOf(state),
    usageFrom: state.usageFrom ?? 'stream',
    turnsFrom: state.turnsFrom ?? 'stream',
    session,
  };
}

/**
 * The usage the run's session is known to hold before its next resumed piece (pure): the run's pieces back
 * to the one that began the session (`new`, else `forked`, which also carries its parent's `parentUsage`);
 * a piece from before `session` was recorded began one when its mode was `fresh`.
 */
export function sessionBaseOf(
  pieces: Pick<Piece, 'usage' | 'mode' | 'session'>[],
  parentUsage: Usage | null,
): Usage {
  let sum: Usage = { ...ZERO_USAGE };
  for (let i = pieces.length - 1; i >= 0; i--) {
    const piece = pieces[i];
    if (piece === undefined) break;
    sum = plus(sum, piece.usage);
    const began = piece.session ?? (piece.mode === 'fresh' ? 'new' : 'resumed');
    if (began === 'forked') return parentUsage === null ? sum : plus(sum, parentUsage);
    if (began === 'new') return sum;
  }
  return sum;
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
  state.sessionBase ??= { ...ZERO_USAGE };
  // A tail saved before `counted` existed: its running sums less the base are the piece's own counts.
  state.counted ??= {
    turns: state.assistantIds.length,
    mainTurns: state.assistantIds.length,
    inputTokens: Math.max(0, state.usage.inputTokens - state.base.inputTokens),
    outputTokens: Math.max(0, state.usage.outputTokens - state.base.outputTokens),
  };
  state.freshStarts ??= [];
  state.limit ??= null;
  const base = state.base;
  const counted = state.counted;
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
        // A new session: nothing saved to continue from.
        state.sessionBase = { ...ZERO_USAGE };
        state.counted = { ...ZERO_COUNTED };
        state.usageFrom = null;
        state.turnsFrom = null;
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
          counted.turns = state.assistantIds.length;
          if (message.parent_tool_use_id === null || message.parent_tool_use_id === undefined)
            counted.mainTurns++;
          counted.inputTokens += inputTokensOf(usage);
          counted.outputTokens += num(usage.output_tokens);
          state.usage = plus(base, {
            turns: counted.turns,
            costUsd: 0,
            inputTokens: counted.inputTokens,
            outputTokens: counted.outputTokens,
          });
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
      const errors = Array.isArray(message.errors) ? message.errors.map((e) => String(e)) : [];
      state.result = {
        subtype: typeof message.subtype === 'string' ? message.subtype : 'unknown',
        isError: message.is_error === true,
        text: typeof message.result === 'string' ? message.result : null,
        numTurns: num(message.num_turns),
        costUsd: num(message.total_cost_usd),
        errors,
      };
      // The result's totals replace the running sums: less the session's saved total when they continued it.
      const spend = pieceSpendOf(totalsOf(message), counted, state.sessionBase);
      state.usageFrom = spend.usageFrom;
      state.turnsFrom = spend.turnsFrom;
      state.usage = plus(base, spend.usage);
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
