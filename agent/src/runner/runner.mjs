#!/usr/bin/env node
// The runner inside a run's tmux session: starts the worker from launch.json (afresh when a resume finds no session), logs its stream, records its exit.
// Plain JavaScript on purpose: it runs with bare `node` on the VM. Its only argument is the run directory.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { workerEnvOf } from './env.mjs';
import { RUN_FILES as FILES } from './files.mjs';
import { clean, render } from './render.mjs';
import { tailOfText } from './text.mjs';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: runner.mjs <run directory>\n');
  process.exit(2);
}

function writeJsonAtomic(path, value) {
  const tmp = `${path}.${process.pid}.tmp`;
  // Group-readable: on the VM the runner runs as the worker user and the agent reads these through the
  // shared group of the run directory (PROTOCOL.md, Worker isolation).
  writeFileSync(tmp, JSON.stringify(value), { mode: 0o640 });
  renameSync(tmp, path);
}

// The pane may be gone (session killed): never let a write to it end the runner.
process.stdout.on('error', () => {});
const show = (text) => {
  try {
    process.stdout.write(text);
  } catch {}
};

const spec = JSON.parse(readFileSync(join(dir, FILES.launch), 'utf8'));
const streamOut = createWriteStream(join(dir, FILES.stream), { flags: 'a' });
const stderrOut = createWriteStream(join(dir, FILES.stderr), { flags: 'a' });
let note = null;
let finished = false;
// The end of stderr goes into exit.json: when the worker dies without a result, it says why.
const STDERR_TAIL_CHARS = 2000;
// The shell's code for a command that could not be run: the agent reports it with the runner's note.
const COULD_NOT_START = 127;
let stderrTail = '';

function finish(status) {
  if (finished) return;
  finished = true;
  let pending = 2;
  const done = () => {
    if (--pending > 0) return;
    writeJsonAtomic(join(dir, FILES.exit), { ...status, note, stderrTail, at: new Date().toISOString() });
    show(`── worker exited (${status.signal ?? `code ${status.code}`})\n`);
    process.exit(0);
  };
  streamOut.end(done);
  stderrOut.end(done);
}

show(`── nightshift run ${dir}\n`);
// What the real CLI says when --resume names a session it does not have (it exits 1 after a result
// `error_during_execution` with 0 turns): the piece then starts afresh with spec.fresh.
const NO_SESSION = /No conversation found with session ID/;
let child = null;
let freshStarted = false;
let lastResult = null;

function start(args) {
  lastResult = null;
  try {
    child = spawn(spec.command, args, {
      cwd: spec.cwd,
      // Never the runner's whole environment: on a machine where the agent started this tmux server, that
      // is the agent's.
      env: workerEnvOf(process.env, spec.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a stop signal reaches everything the worker started.
      detached: true,
    });
  } catch (error) {
    // Some failures are thrown, not emitted: an argument over the kernel's 128 KiB limit (E2BIG, a long
    // prompt), a NUL byte in an argument. Without this the runner would die with no exit.json and the run
    // would look lost.
    note = `could not start ${spec.command}: ${error.message}`;
    child = null;
  }
  writeJsonAtomic(join(dir, FILES.pids), { runner: process.pid, worker: child?.pid ?? null });
  if (child === null) {
    finish({ code: COULD_NOT_START, signal: null });
    return;
  }
  // Decoders keep a character split across two chunks whole (the files get the raw bytes).
  const stdoutText = new StringDecoder('utf8');
  const stderrText = new StringDecoder('utf8');
  let partial = '';
  child.stdout.on('data', (chunk) => {
    streamOut.write(chunk);
    partial += stdoutText.write(chunk);
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"result"')) {
        try {
          const m = JSON.parse(line);
          if (m?.type === 'result') lastResult = m;
        } catch {}
      }
      if (line.trim() !== '') show(render(line));
    }
  });
  child.stderr.on('data', (chunk) => {
    stderrOut.write(chunk);
    const text = stderrText.write(chunk);
    // Cut whole: half an emoji in exit.json would become half a surrogate pair in the run's error.
    stderrTail = tailOfText(stderrTail + text, STDERR_TAIL_CHARS);
    show(clean(text));
  });
  child.on('error', (error) => {
    note = `could not start ${spec.command}: ${error.message}`;
    finish({ code: COULD_NOT_START, signal: null });
  });
  child.on('close', (code, signal) => {
    if (!finished && !freshStarted && spec.fresh && code === 1 && sessionMissing()) {
      freshStarted = true;
      // The agent's stream reader sees this line of ours: what came before is not this piece's work.
      streamOut.write(
        `${JSON.stringify({ type: 'nightshift', subtype: 'fresh_start', reason: spec.fresh.reason })}\n`,
      );
      show(`── ${spec.fresh.reason}\n`);
      stderrTail = '';
      start(spec.fresh.args);
      return;
    }
    finish({ code, signal });
  });
}

/** The resume found no session: said on stderr, or a 0-turn error_during_execution result that says so. */
function sessionMissing() {
  if (NO_SESSION.test(stderrTail)) return true;
  const said = [lastResult?.result, ...(Array.isArray(lastResult?.errors) ? lastResult.errors : [])].join(
    ' ',
  );
  return (
    lastResult?.subtype === 'error_during_execution' &&
    (lastResult?.num_turns ?? 0) === 0 &&
    NO_SESSION.test(said)
  );
}

start(spec.args);

const forward = (signal) => {
  try {
    if (child?.pid) process.kill(-child.pid, signal);
  } catch {}
};
process.on('SIGINT', () => forward('SIGINT'));
// On the VM the agent runs as another user, which may not signal the worker: it asks through signal.json
// (written by rename, so never read half-made), which the runner reads, removes and passes on.
const SIGNAL_POLL_MS = 200;
const PASSED_ON = new Set(['SIGINT', 'SIGTERM', 'SIGKILL']);
setInterval(() => {
  const path = join(dir, FILES.signal);
  let request;
  try {
    request = JSON.parse(readFileSync(path, 'utf8'));
    unlinkSync(path);
  } catch {
    return; // none asked for (or not yet whole)
  }
  if (PASSED_ON.has(request?.signal)) forward(request.signal);
}, SIGNAL_POLL_MS).unref();
process.on('SIGTERM', () => forward('SIGTERM'));
// The session was killed: stop the worker and still record how it ended.
process.on('SIGHUP', () => {
  note = 'the tmux session was closed while the worker ran';
  forward('SIGTERM');
});
