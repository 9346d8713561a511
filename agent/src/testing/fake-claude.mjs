#!/usr/bin/env node
// The one fake in the agent's tests: a stand-in `claude` that speaks the real stream-json format,
// edits PROGRESS.md and makes real git commits in its working directory.
// Scenario: the file $FAKE_CLAUDE_DIR/<NIGHTSHIFT_RUN_ID>.scenario ("<name> [ms|path]"), else a prompt line
// "nightshift-scenario: <name> [arg]", else "success".
// It records its prompt ($FAKE_CLAUDE_DIR/<run>.prompt, byte for byte), argv, environment, user and each start.
// Sessions like the CLI's: `--session-id <id>` stores $FAKE_CLAUDE_DIR/sessions/<id>; `--resume <id>` of one
// not stored answers as the real CLI does ("No conversation found…" on stderr, a 0-turn error result, exit 1).
// Totals like the CLI's (sdk.d.ts, SDKResult total_cost_usd/modelUsage): each result saves the session's totals
// in its file, and a `--resume` (or fork) of a session with saved totals continues from them, so its first
// result already carries the earlier turns. $FAKE_CLAUDE_DIR/<run>.no-saved-total plays a transcript without
// one (an older CLI's): the results count this process only and save nothing.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const prompt = flag('-p') ?? '';
const model = flag('--model') ?? 'unknown';
const runId = process.env.NIGHTSHIFT_RUN_ID ?? 'no-run';
const dir = process.env.FAKE_CLAUDE_DIR;
let scenario = 'success';
let scenarioMs = 0;
let scenarioArg;
if (dir) {
  appendFileSync(join(dir, `${runId}.starts`), `${process.pid}\n`);
  writeFileSync(join(dir, `${runId}.prompt`), prompt);
  writeFileSync(join(dir, `${runId}.argv.json`), JSON.stringify(args));
  // What the worker was handed and who it runs as: the isolation tests read these.
  writeFileSync(join(dir, `${runId}.env.json`), JSON.stringify(process.env));
  writeFileSync(join(dir, `${runId}.uid`), String(process.getuid?.() ?? ''));
  const file = join(dir, `${runId}.scenario`);
  if (existsSync(file)) {
    const [name, arg] = readFileSync(file, 'utf8').trim().split(/\s+/);
    scenario = name || scenario;
    scenarioMs = Number(arg ?? 0);
    scenarioArg = arg;
  }
}
// Without a scenario file (`npm start` passes no FAKE_CLAUDE_DIR): a line "nightshift-scenario: <name> [arg]"
// in the prompt picks one, so a person can show each through the API.
const asked =
  dir && existsSync(join(dir, `${runId}.scenario`))
    ? null
    : /^nightshift-scenario: (\S+)(?: (\S+))?/m.exec(prompt);
if (asked) {
  scenario = asked[1];
  scenarioMs = Number(asked[2] ?? 0);
  scenarioArg = asked[2];
}

const newSession = flag('--session-id');
const resumeSession = flag('--resume');
const resumed = resumeSession !== undefined;
if (dir) appendFileSync(join(dir, `${runId}.argvs`), `${JSON.stringify(args)}\n`);
// `--resume <id> --fork-session --session-id <new>`: the conversation of <id> goes on under <new> (a
// follow-up resuming its parent's session). The real CLI's rules (2.1.332, agent/PROTOCOL.md), with its
// words: --session-id with --resume needs --fork-session, must be a UUID, and must not name a stored session.
const fork = args.includes('--fork-session');
const refuse = (message) => {
  process.stderr.write(`${message}\n`);
  process.exit(1);
};
if (resumed && newSession !== undefined && !fork)
  refuse('Error: --session-id with --continue or --resume also needs --fork-session.');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
if (newSession !== undefined && !UUID.test(newSession))
  refuse('Error: Invalid session ID. Must be a valid UUID.');
const sessionId =
  fork && newSession !== undefined ? newSession : (resumeSession ?? newSession ?? `fake-${process.pid}`);
// Kept per HOME like the CLI's own (~/.claude/projects), unless a test gives its folder.
const sessionsDir = dir
  ? join(dir, 'sessions')
  : join(process.env.HOME ?? '/tmp', '.fake-claude', 'sessions');
const sessionFile = join(sessionsDir, sessionId);
const emit = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);
if (newSession !== undefined && !(fork && resumeSession === newSession) && existsSync(sessionFile))
  refuse(`Error: Session ID ${newSession} is already in use.`);
if (resumed && !existsSync(join(sessionsDir, resumeSession))) {
  process.stderr.write(`No conversation found with session ID: ${resumeSession}\n`);
  emit({
    type: 'result',
    subtype: 'error_during_execution',
    is_error: true,
    duration_ms: 0,
    duration_api_ms: 0,
    num_turns: 0,
    session_id: sessionId,
    total_cost_usd: 0,
    usage: { input_tokens: 0, output_tokens: 0 },
    errors: [`No conversation found with session ID: ${resumeSession}`],
  });
  process.exit(1);
}
const noSavedTotal = dir !== undefined && existsSync(join(dir, `${runId}.no-saved-total`));
const ZERO_TOTALS = { turns: 0, costUsd: 0, input: 0, cacheCreation: 0, cacheRead: 0, output: 0 };
/** The totals a stored session's transcript saved, when it has them. */
function savedTotalsOf(id) {
  if (noSavedTotal || id === undefined) return ZERO_TOTALS;
  try {
    const saved = JSON.parse(readFileSync(join(sessionsDir, id), 'utf8'));
    return saved && typeof saved.totals === 'object' ? { ...ZERO_TOTALS, ...saved.totals } : ZERO_TOTALS;
  } catch {
    return ZERO_TOTALS;
  }
}
const savedTotals = resumed ? savedTotalsOf(resumeSession) : ZERO_TOTALS;
if (scenario === 'hang_before_session') {
  // Dies (is stopped) before it stored its session or printed anything: a worker lost with its VM at its
  // start. <run>.hanging says it got here.
  if (dir) writeFileSync(join(dir, `${runId}.hanging`), '');
  await new Promise((resolve) => setTimeout(resolve, 1 << 30));
}
if (newSession !== undefined) {
  mkdirSync(sessionsDir, { recursive: true });
  writeFileSync(sessionFile, JSON.stringify({ runId }));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let turn = 0;
// `--max-budget-usd X` as the CLI honours it: after a turn whose cost (since this process started) is over X,
// the run stops with an `error_max_budget_usd` result (its cost included) and exit status 1.
const maxBudgetUsd = flag('--max-budget-usd') === undefined ? undefined : Number(flag('--max-budget-usd'));
const costOf = (turns) => Number((0.0125 * turns).toFixed(6));
/**
 * A result's totals: the saved ones plus this process's turns (each 100 input, 10 cache creation, 5 cache
 * read and 20 output tokens, 0.0125 USD), saved again in the session's file as the CLI saves its transcript.
 */
function totalsFields() {
  const t = {
    turns: savedTotals.turns + turn,
    costUsd: Number((savedTotals.costUsd + costOf(turn)).toFixed(6)),
    input: savedTotals.input + 100 * turn,
    cacheCreation: savedTotals.cacheCreation + 10 * turn,
    cacheRead: savedTotals.cacheRead + 5 * turn,
    output: savedTotals.output + 20 * turn,
  };
  if (!noSavedTotal && existsSync(sessionFile)) {
    let stored = {};
    try {
      stored = JSON.parse(readFileSync(sessionFile, 'utf8'));
    } catch {}
    writeFileSync(sessionFile, JSON.stringify({ ...stored, totals: t }));
  }
  return {
    num_turns: t.turns,
    total_cost_usd: t.costUsd,
    // The main loop's tokens: this process's, like the CLI's per-query `usage`.
    usage: {
      input_tokens: 100 * turn,
      cache_creation_input_tokens: 10 * turn,
      cache_read_input_tokens: 5 * turn,
      output_tokens: 20 * turn,
    },
    modelUsage: {
      [model]: {
        inputTokens: t.input,
        outputTokens: t.output,
        cacheReadInputTokens: t.cacheRead,
        cacheCreationInputTokens: t.cacheCreation,
        webSearchRequests: 0,
        costUSD: t.costUsd,
        contextWindow: 200000,
        maxOutputTokens: 32000,
      },
    },
  };
}
function stopOverBudget() {
  // The CLI's budget counts only the spend since this process started, not the saved total.
  if (maxBudgetUsd === undefined || !(costOf(turn) > maxBudgetUsd)) return;
  emit({
    type: 'result',
    subtype: 'error_max_budget_usd',
    is_error: true,
    duration_ms: 1234,
    duration_api_ms: 1000,
    stop_reason: null,
    session_id: sessionId,
    ...totalsFields(),
    permission_denials: [],
    errors: [`Reached maximum budget ($${maxBudgetUsd})`],
  });
  process.exit(1);
}
const assistant = (content) => {
  turn++;
  const id = `msg_${turn}`;
  const usage = {
    input_tokens: 100,
    cache_creation_input_tokens: 10,
    cache_read_input_tokens: 5,
    output_tokens: 20,
  };
  // Like Claude Code: one line per content block, same message id and usage.
  for (const block of content) {
    emit({
      type: 'assistant',
      message: { id, type: 'message', role: 'assistant', model, content: [block], usage },
      parent_tool_use_id: null,
      session_id: sessionId,
    });
  }
  stopOverBudget();
};
const result = (subtype, isError, text) =>
  emit({
    type: 'result',
    subtype,
    is_error: isError,
    duration_ms: 1234,
    duration_api_ms: 1000,
    result: text,
    session_id: sessionId,
    ...totalsFields(),
    permission_denials: [],
  });

function work(step, trailer = '') {
  appendFileSync('PROGRESS.md', `- step ${step} done by fake claude\n`);
  commit(['PROGRESS.md'], `step ${step} (run ${runId})${trailer}`);
  const toolId = `toolu_${step}`;
  assistant([
    { type: 'text', text: `Working on step ${step}.` },
    { type: 'tool_use', id: toolId, name: 'Edit', input: { file_path: 'PROGRESS.md' } },
  ]);
  emit({
    type: 'user',
    message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolId, content: 'ok' }] },
    parent_tool_use_id: null,
    session_id: sessionId,
  });
}

/** A real `git commit` of `files`, hooks and all, as the worker's git makes it. */
function commit(files, message) {
  execFileSync('git', ['add', ...files]);
  execFileSync('git', [
    '-c',
    'user.name=Fake Claude',
    '-c',
    'user.email=fake@example.com',
    'commit',
    '-q',
    '-m',
    // The run id makes each run's commits distinct, as real work would be: two runs in the same second
    // would otherwise make byte-identical commits with the same SHA.
    message,
  ]);
}

/** The trailers Claude Code writes into its commits when its attribution is on. */
const CLAUDE_TRAILERS = [
  '',
  '',
  '🤖 Generated with [Claude Code](https://claude.com/claude-code)',
  '',
  'Co-Authored-By: Claude <noreply@anthropic.com>',
  `Claude-Session: ${sessionId}`,
].join('\n');

if (scenario === 'refuse_root') {
  // What the real CLI prints, on stderr only and before anything else, when run as root with
  // --dangerously-skip-permissions.
  process.stderr.write(
    '--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons\n',
  );
  process.exit(1);
}

if (scenario === 'replay') {
  // A recorded stream, line for line, as a real worker printed it; PROGRESS.md edited like the Edit in it.
  appendFileSync('PROGRESS.md', '\n## M1\n- RSS feed: done\n');
  process.stdout.write(readFileSync(scenarioArg, 'utf8'));
  process.exit(0);
}

emit({
  type: 'system',
  subtype: 'init',
  session_id: sessionId,
  cwd: process.cwd(),
  model,
  tools: ['Edit', 'Bash'],
  permissionMode: 'bypassPermissions',
  // What the CLI says when it runs on a subscription's login; FAKE_CLAUDE_API_KEY_SOURCE plays an API key.
  apiKeySource: process.env.FAKE_CLAUDE_API_KEY_SOURCE ?? 'none',
});
process.stdout.write('this line is not JSON and must be skipped\n');
if (scenario === 'hang_after_init') {
  // Stopped after it stored its session and said `init`, before its first message.
  if (dir) writeFileSync(join(dir, `${runId}.hanging`), '');
  await sleep(1 << 30);
}
// `tick` makes only its own commit (or none), so a chain test can count them.
// `blocked early` commits nothing at all: blocked before it began.
if (scenario !== 'tick' && !(scenario === 'blocked' && scenarioArg === 'early')) work(1);

/** The plan's usage limit, as Claude Code reports it: the structured event (unless `textOnly`), then its words. */
function hitLimit(resetsInMs, textOnly) {
  let text = "You've hit your limit · resets 1:10am";
  if (textOnly) {
    // Only the words say when: the top of the hour after next, in UTC, as the CLI prints it.
    const at = new Date();
    at.setUTCMinutes(0, 0, 0);
    at.setUTCHours(at.getUTCHours() + 2);
    const h = at.getUTCHours() % 12 || 12;
    text = `You've hit your limit · resets ${h}${at.getUTCHours() < 12 ? 'am' : 'pm'} (UTC)`;
    if (dir) writeFileSync(join(dir, `${runId}.limit-text`), JSON.stringify({ text, at: at.toISOString() }));
  } else {
    emit({
      type: 'rate_limit_event',
      rate_limit_info: {
        status: 'rejected',
        resetsAt: Math.ceil((Date.now() + resetsInMs) / 1000),
        rateLimitType: 'five_hour',
        utilization: 1,
      },
      uuid: '00000000-0000-4000-8000-000000000001',
      session_id: sessionId,
    });
  }
  turn++;
  emit({
    type: 'assistant',
    message: {
      id: `msg_${turn}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text }],
    },
    error: 'rate_limit',
    parent_tool_use_id: null,
    session_id: sessionId,
  });
  result('success', true, text);
  process.exit(1);
}

// A fork is a follow-up's first piece: it meets the limit too; its own later resume works on.
switch (resumed && !fork && ['rate_limit', 'limit_text'].includes(scenario) ? 'success' : scenario) {
  case 'rate_limit':
  case 'rate_limit_always':
    // Hits the limit (resetting in scenarioMs, default 1 s); `rate_limit` works on when resumed.
    hitLimit(scenarioMs || 1_000, false);
    break;
  case 'limit_text':
    hitLimit(0, true);
    break;
  case 'success':
    work(2);
    assistant([{ type: 'text', text: 'Milestone done.' }]);
    result('success', false, 'Milestone done.');
    process.exit(0);
    break;
  case 'trailers':
    // Commits the way Claude Code does with its attribution on: the message ends with its trailers.
    work(2, CLAUDE_TRAILERS);
    result('success', false, 'Committed with trailers.');
    process.exit(0);
    break;
  case 'blocked': {
    // Cannot go on: says so with the marker in PROGRESS.md (committed), or in its final result ("blocked
    // result"; "blocked early" before any commit).
    const why = `needs the staging database password (run ${runId})`;
    if (scenarioArg === 'result' || scenarioArg === 'early') {
      assistant([{ type: 'text', text: 'I cannot go on.' }]);
      result('success', false, `Stopped early.\nBLOCKED: ${why}`);
    } else {
      appendFileSync('PROGRESS.md', `\nBLOCKED: ${why}\n`);
      commit(['PROGRESS.md'], `progress: blocked (run ${runId})`);
      result('success', false, 'Wrote the blocker to PROGRESS.md.');
    }
    process.exit(0);
    break;
  }
  case 'stall':
    // Prints nothing and touches nothing for scenarioMs (default: until stopped), then succeeds.
    await sleep(scenarioMs || 1 << 30);
    result('success', false, 'Woke up.');
    process.exit(0);
    break;
  case 'tick': {
    // Ticks the first open item: of TASKS.md while it has one, else of the roadmap; commits it. "tick none"
    // ticks nothing and commits nothing.
    if (scenarioArg !== 'none') {
      const file =
        existsSync('docs/TASKS.md') && /^- \[ \]/m.test(readFileSync('docs/TASKS.md', 'utf8'))
          ? 'docs/TASKS.md'
          : 'docs/roadmap.md';
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^- \[ \] (.*)$/m, `- [x] $1 (run ${runId})`));
      commit([file], `tick ${file} (run ${runId})`);
    }
    result('success', false, 'Ticked an item.');
    process.exit(0);
    break;
  }
  case 'is_error':
    result('success', true, 'Invalid API key · Please run /login');
    process.exit(0);
    break;
  case 'exit_nonzero':
    result('success', false, 'done, but then crashed');
    process.exit(2);
    break;
  case 'no_result':
    process.exit(0);
    break;
  case 'huge_result':
    // A final result text larger than a Firestore document may hold (1 MiB).
    result('success', false, `${'x'.repeat(1_200_000)} the end`);
    // A pipe write this large is asynchronous: let it drain before exiting.
    await new Promise((resolve) => process.stdout.write('', resolve));
    process.exit(0);
    break;
  case 'hang_after_result':
    assistant([{ type: 'text', text: 'All done.' }]);
    result('success', false, 'All done.');
    setInterval(() => {}, 1 << 30);
    break;
  case 'slow':
  case 'slow_no_result': {
    // Works for scenarioMs (default: a long time), then succeeds (or exits without a result). Its steps
    // (commits) are always all made, however slow the machine, so a test can count them. While the file
    // $FAKE_CLAUDE_DIR/<run>.hold exists it goes on working: a test ends it when it is ready, not by the clock.
    const until = Date.now() + (scenarioMs || 600_000);
    const held = () => dir !== undefined && existsSync(join(dir, `${runId}.hold`));
    let step = 2;
    while (Date.now() < until || step < 6 || held()) {
      await sleep(Math.min(300, Math.max(held() ? 100 : 0, until - Date.now())));
      if (step < 6) work(step++);
    }
    if (scenario === 'slow') result('success', false, 'Slow work done.');
    process.exit(0);
    break;
  }
  case 'dirty': {
    // Like a worker that ticks its roadmap item and starts notes without committing them: a staged change
    // and an untracked file are left beside its one commit. "dirty hang" then waits to be stopped.
    const roadmap = readFileSync('docs/roadmap.md', 'utf8');
    writeFileSync('docs/roadmap.md', roadmap.replace('- [ ] do it', `- [x] do it (run ${runId})`));
    execFileSync('git', ['add', 'docs/roadmap.md']);
    writeFileSync('notes.txt', `unfinished notes of run ${runId}\n`);
    if (dir) writeFileSync(join(dir, `${runId}.dirty`), '');
    if (scenarioArg === 'hang') setInterval(() => {}, 1 << 30);
    else {
      result('success', false, 'Left some work uncommitted.');
      process.exit(0);
    }
    break;
  }
  case 'spend':
    // Works scenarioMs turns (default 8), 0.0125 USD each: with --max-budget-usd it is stopped on its way.
    for (let step = 2; step < 2 + (scenarioMs || 8); step++) work(step);
    result('success', false, 'Spent it all.');
    process.exit(0);
    break;
  case 'bench': {
    // The bench's worker (shared/src/dev/bench): "bench <ms> [messages a second]" streams assistant messages
    // until <ms> after its process started, appends a line to PROGRESS.md each second (steady progress),
    // then succeeds. <run>.bench.json gets its process's start (performance.timeOrigin, epoch ms) and the
    // moment it exits, which the bench reads as "worker started" and "worker exited".
    const words = dir
      ? readFileSync(join(dir, `${runId}.scenario`), 'utf8')
          .trim()
          .split(/\s+/)
      : [];
    const perSecond = Number(words[2]) > 0 ? Number(words[2]) : 10;
    const until = performance.timeOrigin + scenarioMs;
    let sent = 0;
    let progressAt = Date.now();
    while (Date.now() < until) {
      await sleep(Math.min(1000 / perSecond, Math.max(0, until - Date.now())));
      sent++;
      assistant([
        { type: 'text', text: `Bench message ${sent}: reading files and thinking about the next step.` },
      ]);
      if (Date.now() - progressAt >= 1000) {
        appendFileSync('PROGRESS.md', `- ${sent} messages streamed\n`);
        progressAt = Date.now();
      }
    }
    result('success', false, 'Bench work done.');
    await new Promise((resolve) => process.stdout.write('', resolve));
    if (dir) {
      const marker = {
        startedAtMs: performance.timeOrigin,
        exitAtMs: performance.timeOrigin + performance.now(),
      };
      writeFileSync(join(dir, `${runId}.bench.json`), JSON.stringify(marker));
    }
    process.exit(0);
    break;
  }
  default:
    process.stderr.write(`fake claude: unknown scenario ${scenario}\n`);
    process.exit(64);
}
