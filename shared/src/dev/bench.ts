// `npm run bench`: the local stack from the build's bundles with the stand-in worker, measured against targets set by a floor measured in the same run.
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { agentNodeFlags } from './agent-flags.js';
import { createApi, type RunDoc } from './bench/api.js';
import { measureColdStart } from './bench/coldstart.js';
import { dispatchMs, finishMs, runDispatch, STAGES, stageMs } from './bench/dispatch.js';
import { createFloorSampler, type FloorParts, floorTotal } from './bench/floor.js';
import { sampleUsage, sampleUsages, startMemoryFloor, type Usage } from './bench/memory.js';
import {
  type BenchResult,
  latestResult,
  type Metric,
  metOf,
  REGRESSION_FRACTION,
  regressions,
  resultFileName,
  resultTable,
  saveResult,
  stageTable,
} from './bench/results.js';
import { startBenchStack } from './bench/stack.js';
import { median, percentile } from './bench/stats.js';
import { readCommitLog, writesOfRun } from './bench/writes.js';
import { gcloudAvailable, MISSING_SDK_MESSAGE } from './emulators.js';
import { createSeededOrigin } from './git-fixture.js';
import { REPO_ROOT } from './local-stack.js';

const RESULTS_DIR = join(REPO_ROOT, 'bench/results');
/** Eight workers: the streaming phase runs one on each at once. */
const WORKERS = 8;
/** How long each dispatch run's worker lives (long enough to stream a little, short to keep the bench short). */
const DISPATCH_WORKER_MS = 500;
const STREAM_RATE_PER_SECOND = 20;
/** Rounds of the floor's samples before the dispatch runs, and the fewest samples of each part in all. */
const FLOOR_ROUNDS_FIRST = 3;
const FLOOR_SAMPLES_LEAST = 10;
/**
 * The agent and the floor process settle this long side by side before the idle window: long enough for
 * V8's memory reducer, which shrinks an idle heap some 10–20 s after the allocations stop (measured: after
 * 100 runs the agent went from 116 to 103 MB 18 s after the last one, in one GC of about 180 ms of CPU).
 * With a 5 s settle that drop fell inside the window of one run and not of the next: the idle RSS moved
 * by 20 MB between runs, and the GC's CPU read as 3.8 % idle CPU.
 */
const SETTLE_MS = 30_000;
/** The idle window: one heartbeat of the agent (every 15 s) falls in it, whatever the phase. */
const IDLE_WINDOW_MS = 15_000;

const say = (text: string) => process.stdout.write(`${text}\n`);

function usage(): never {
  process.stderr.write(
    'usage: npm run bench -- [--runs N (dispatch runs, default 100)] [--stream-seconds S (default 60)]\n' +
      '                        [--rounds R (cold-start rounds, default 5)] [--node-flags="<agent node flags>"] [--no-save] [--keep]\n' +
      '  --node-flags replaces the flags of agent/systemd/nightshift-agent.service (--node-flags= runs none).\n' +
      "  --keep leaves the stack's folder (logs, write log, run directories) in place.\n",
  );
  process.exit(2);
}

function options() {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      options: {
        runs: { type: 'string', default: '100' },
        'stream-seconds': { type: 'string', default: '60' },
        rounds: { type: 'string', default: '5' },
        'node-flags': { type: 'string' },
        'no-save': { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    process.stderr.write(`npm run bench: ${(error as Error).message}\n`);
    usage();
  }
  const v = parsed.values;
  if (v.help) usage();
  const int = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      process.stderr.write(`npm run bench: --${name} must be a whole number ≥ ${min}, got "${value}"\n`);
      usage();
    }
    return n;
  };
  return {
    runs: int('runs', v.runs, 1),
    streamSeconds: int('stream-seconds', v['stream-seconds'], 15),
    rounds: int('rounds', v.rounds, 1),
    // Unset: the flags of the agent's systemd unit, as on the VM.
    nodeFlags:
      v['node-flags'] === undefined ? agentNodeFlags() : v['node-flags'].split(/\s+/).filter((f) => f !== ''),
    save: !v['no-save'],
    keep: v.keep,
  };
}

async function main(): Promise<number> {
  const opts = options();
  if (!gcloudAvailable()) {
    process.stderr.write(`npm run bench: ${MISSING_SDK_MESSAGE}.\n`);
    return 1;
  }
  const root = await mkdtemp(join(tmpdir(), 'nightshift-bench-'));
  say('Building and starting the stack from the bundles (api, reactor, agent) with the stand-in worker…');
  const stack = await startBenchStack({ root, capacity: WORKERS, agentNodeFlags: opts.nodeFlags });
  const api = createApi(stack.url, stack.token);
  const agentPid = stack.agent.pid as number;
  let keepRoot = opts.keep;
  try {
    const workers = Array.from({ length: WORKERS }, (_, i) => `bench-${i}`);
    for (const id of workers) {
      await api.call('POST', '/v1/workers', { id, repo: { url: await createSeededOrigin(root, id) } });
    }
    // First runs clone each worker's repository: not what the dispatch measures.
    await stack.setDefaultScenario(`bench ${DISPATCH_WORKER_MS}`);
    await Promise.all(
      workers.map(async (workerId) => {
        const run = await api.call<RunDoc>('POST', '/v1/runs', { workerId });
        await api.waitSucceeded(run.id, 60_000);
      }),
    );

    // The floor's samples are taken between the dispatch runs, one part at a time, so that both see the
    // same load of the machine; a few rounds first, and more after when the runs were few.
    say(`Dispatch: ${opts.runs} runs one at a time, the floor's parts sampled between them…`);
    const sampler = await createFloorSampler({
      project: stack.env.GOOGLE_CLOUD_PROJECT as string,
      tmuxSocket: stack.tmuxSocket,
      root,
    });
    let floor: FloorParts;
    let timelines: Awaited<ReturnType<typeof runDispatch>>;
    try {
      for (let i = 0; i < FLOOR_ROUNDS_FIRST; i++) await sampler.sampleAll();
      timelines = await runDispatch({
        api,
        home: stack.home,
        fakeDir: stack.fakeDir,
        writesLog: stack.writesLog,
        workerId: 'bench-0',
        runs: opts.runs,
        between: () => sampler.sampleNext(),
        onProgress: (n) => {
          if (n % 20 === 0 && n < opts.runs) say(`  ${n} runs`);
        },
      });
      while (sampler.count() < FLOOR_SAMPLES_LEAST) await sampler.sampleAll();
      floor = sampler.parts();
    } finally {
      await sampler.close();
    }
    const floorMs = floorTotal(floor);
    const floorSamples = sampler.count();

    const dispatch = timelines.map(dispatchMs);
    const finish = timelines.map(finishMs);

    say('Memory and CPU: the agent idle beside the floor process, sampled in turn…');
    // The floor process starts as the dispatch ends, so both settle for the same time and are sampled
    // over the same window; it runs with the agent's node flags.
    const floorProcess = await startMemoryFloor(stack.env.GOOGLE_CLOUD_PROJECT as string, opts.nodeFlags);
    let idle: Usage;
    let memoryFloor: Usage;
    try {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      [idle, memoryFloor] = (await sampleUsages([agentPid, floorProcess.pid], IDLE_WINDOW_MS)) as [
        Usage,
        Usage,
      ];
    } finally {
      await floorProcess.stop();
    }

    say(
      `Streaming: ${WORKERS} workers at ${STREAM_RATE_PER_SECOND} messages a second for ${opts.streamSeconds} s…`,
    );
    await stack.setDefaultScenario(`bench ${opts.streamSeconds * 1000} ${STREAM_RATE_PER_SECOND}`);
    const streamRuns = await Promise.all(
      workers.map((workerId) => api.call<RunDoc>('POST', '/v1/runs', { workerId })),
    );
    // The window leaves out the launch and the finish: the workers are all streaming in it.
    await new Promise((r) => setTimeout(r, 5_000));
    const streaming = await sampleUsage(agentPid, (opts.streamSeconds - 10) * 1000);
    await Promise.all(streamRuns.map((r) => api.waitSucceeded(r.id, opts.streamSeconds * 1000 + 60_000)));
    const commits = await readCommitLog(stack.writesLog);
    const perRun = streamRuns.map((r) => writesOfRun(commits, r.id));

    say(`Cold start: ${opts.rounds} rounds of each function's import, and a fresh api's first request…`);
    const cold = await measureColdStart({
      functionsDir: stack.functionsDir,
      env: stack.env,
      token: stack.token,
      rounds: opts.rounds,
    });

    const ms = (v: number) => `${v.toFixed(0)} ms`;
    const metrics: Record<string, Metric> = {
      dispatchP50: {
        name: 'dispatch p50 (POST → worker started)',
        value: percentile(dispatch, 50),
        unit: 'ms',
        target: 1.25 * floorMs,
        targetNote: `1.25 × floor ${ms(floorMs)}`,
        floor: floorMs,
      },
      dispatchP99: {
        name: `dispatch p99 (${dispatch.length} runs)`,
        value: percentile(dispatch, 99),
        unit: 'ms',
        target: 2.5 * floorMs,
        targetNote: `2.5 × floor ${ms(floorMs)}`,
        floor: floorMs,
      },
      finishP50: {
        name: 'finish p50 (worker exit → terminal written)',
        value: percentile(finish, 50),
        unit: 'ms',
        target: 150,
        targetNote: '',
        floor: null,
      },
      agentIdleRss: {
        name: 'agent RSS idle',
        value: idle.rssMb,
        unit: 'MB',
        target: memoryFloor.rssMb + 15,
        targetNote: `floor ${memoryFloor.rssMb.toFixed(0)} MB + 15`,
        floor: memoryFloor.rssMb,
      },
      agentStreamRss: {
        name: `agent RSS, ${WORKERS} workers streaming (largest)`,
        value: streaming.rssMaxMb,
        unit: 'MB',
        target: memoryFloor.rssMb + 40,
        targetNote: `floor ${memoryFloor.rssMb.toFixed(0)} MB + 40`,
        floor: memoryFloor.rssMb,
      },
      agentIdleCpu: {
        name: 'agent CPU idle',
        value: idle.cpuPercent,
        unit: '%',
        target: 1,
        targetNote: 'of a core',
        floor: null,
      },
      agentStreamCpu: {
        name: `agent CPU, ${WORKERS} × ${STREAM_RATE_PER_SECOND} messages/s`,
        value: streaming.cpuPercent,
        unit: '%',
        target: 10,
        targetNote: 'of a core',
        floor: null,
      },
      writesPerRun: {
        name: `Firestore commits per ${opts.streamSeconds} s run (most)`,
        value: Math.max(...perRun.map((w) => w.commits)),
        unit: 'writes',
        target: 12,
        targetNote: '',
        floor: null,
      },
      documentsPerRun: {
        name: `documents written per ${opts.streamSeconds} s run (most)`,
        value: Math.max(...perRun.map((w) => w.documents)),
        unit: 'writes',
        target: null,
        targetNote: '',
        floor: null,
      },
    };
    for (const [fn, value] of Object.entries(cold.importMs)) {
      metrics[`import_${fn}`] = {
        name: `import of ${fn}`,
        value,
        unit: 'ms',
        target: cold.libraryFloorMs + 80,
        targetNote: `libraries ${ms(cold.libraryFloorMs)} + 80`,
        floor: cold.libraryFloorMs,
      };
    }
    for (const [fn, value] of Object.entries(cold.importCpuMs)) {
      metrics[`importCpu_${fn}`] = {
        name: `import of ${fn}, CPU time`,
        value,
        unit: 'ms',
        target: null,
        targetNote: `libraries ${ms(cold.libraryFloorCpuMs)}`,
        floor: cold.libraryFloorCpuMs,
      };
    }
    const apiImport = cold.importMs.api ?? Number.NaN;
    metrics.apiFirstRequest = {
      name: 'first request to a fresh api',
      value: cold.apiFirstRequestMs,
      unit: 'ms',
      target: 1.5 * apiImport,
      targetNote: `1.5 × its import ${ms(apiImport)}`,
      floor: apiImport,
    };

    const floorPart: Record<string, [number | null, string]> = {
      [STAGES[0].stage]: [floor.publishReceiveMs + floor.firestoreWriteMs, 'publish→receive + a write'],
      [STAGES[1].stage]: [floor.gitFetchCheckoutMs, 'git fetch + checkout'],
      [STAGES[2].stage]: [floor.tmuxNewSessionMs, 'tmux new-session'],
      [STAGES[3].stage]: [floor.nodeStartMs, 'a Node start'],
      [STAGES[4].stage]: [null, ''],
      [STAGES[5].stage]: [floor.firestoreWriteMs, 'a write, after the next tick'],
      [STAGES[6].stage]: [floor.firestoreWriteMs, 'a write'],
    };
    const stages = STAGES.map((s) => {
      const values = timelines.map((t) => stageMs(t, s)).filter((v): v is number => v !== null);
      const [part, label] = floorPart[s.stage] ?? [null, ''];
      return {
        stage:
          values.length === timelines.length
            ? s.stage
            : `${s.stage} [${values.length} of ${timelines.length} runs]`,
        p50: percentile(values, 50),
        p99: percentile(values, 99),
        floor: part,
        floorPart: label,
      };
    });

    const result: BenchResult = {
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
      },
      options: { ...opts, workers: WORKERS, dispatchWorkerMs: DISPATCH_WORKER_MS },
      floor: {
        ...floor,
        totalMs: floorMs,
        samplesOfEachPart: floorSamples,
        memoryFloorRssMb: memoryFloor.rssMb,
        memoryFloorCpuPercent: memoryFloor.cpuPercent,
        libraryImportMs: cold.libraryFloorMs,
        libraryImportCpuMs: cold.libraryFloorCpuMs,
        dispatchMedianOverFloor: median(dispatch) / floorMs,
      },
      metrics,
      stages,
    };
    const previous = await latestResult(RESULTS_DIR);
    say('');
    say(
      `Floor ${ms(floorMs)} (medians of ${floorSamples}+ samples each, taken between the dispatch runs): publish→receive ${ms(floor.publishReceiveMs)}, Firestore write ${ms(floor.firestoreWriteMs)}, ` +
        `tmux new-session ${ms(floor.tmuxNewSessionMs)}, Node start ${ms(floor.nodeStartMs)}, git fetch + checkout ${ms(floor.gitFetchCheckoutMs)}. ` +
        `Load average ${result.machine.loadAverage.join(' ')} on ${result.machine.cpus} CPUs.`,
    );
    say('');
    say(stageTable(result));
    say('');
    say(resultTable(result, previous));
    say('');
    const worse = previous === null ? [] : regressions(previous, result);
    for (const r of worse) {
      say(
        `REGRESSION ${r.name}: ${r.current.toFixed(1)} against ${r.previous.toFixed(1)} (+${(r.worseBy * 100).toFixed(0)} %, over ${REGRESSION_FRACTION * 100} %)`,
      );
    }
    if (previous === null) say('No earlier result to compare with.');
    else if (worse.length === 0)
      say(`No regression over ${REGRESSION_FRACTION * 100} % against ${previous.at}.`);
    const missed = Object.values(metrics).filter((m) => metOf(m) === false);
    say(missed.length === 0 ? 'All targets met.' : `${missed.length} target(s) missed.`);
    if (opts.save) say(`Results: ${await saveResult(RESULTS_DIR, result)}`);
    else say(`Not saved (--no-save); it would be ${resultFileName(result.at)}.`);
    return missed.length === 0 && worse.length === 0 ? 0 : 1;
  } catch (error) {
    keepRoot = true;
    process.stderr.write(`npm run bench: kept ${root} for its logs\n`);
    throw error;
  } finally {
    await stack.stop();
    if (keepRoot) say(`Kept ${root}.`);
    else await rm(root, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`npm run bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
