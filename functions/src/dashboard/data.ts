// What the dashboard's pages show, read through the same services and collections as the /v1 routes.
import {
  type AgentHeartbeat,
  isAgentAlive,
  isTerminal,
  monthStart,
  RUN_STATUSES,
  type Run,
  type RunEvent,
  type Worker,
} from '@nightshift/shared';
import { Cron } from 'croner';
import type { Deps } from '../core/deps.js';
import { listRuns } from '../runs/list.js';
import { OVERVIEW_HISTORY_CACHE_MS } from '../timings.js';
import { listVms } from '../vms/routes.js';
import { getWorkerWithReach, listWorkers, type WorkerReachOptions } from '../workers/service.js';

export const DAY_MS = 24 * 60 * 60_000;
/** Most runs one page reads for its charts: a month of a busy fleet, well above one night's. */
const MAX_RUNS_READ = 2000;
/** Events of one run shown on its page (the same bound as GET /v1/runs/:id/events). */
const MAX_EVENTS = 1000;

/** Every status that is not terminal, from the contract: a status added there shows up here unchanged. */
export const OPEN_STATUSES = RUN_STATUSES.filter((s) => !isTerminal(s));
/** The open statuses of a run that holds an agent's slot and does work now. */
const WORKING = new Set<string>(['starting', 'running']);

export type AgentView = AgentHeartbeat & { alive: boolean };

export interface Overview {
  now: Date;
  agents: AgentView[];
  vms: Awaited<ReturnType<typeof listVms>>;
  workers: Worker[];
  /** Runs that do work now (starting, running), oldest first. */
  working: Run[];
  /** Open runs that do not work now (queued, and any other open status, e.g. waiting), oldest first. */
  waiting: Run[];
  /** Runs that overlap the last 24 hours, for the timeline. */
  day: Run[];
  /** Cost per worker: of runs created today (UTC) and this month (UTC). */
  costs: { workerId: string; todayUsd: number; monthUsd: number }[];
}

/** The dashboard's minute: the pages change at most once a minute while nothing happens, so ETags hold. */
export function minuteOf(now: Date): Date {
  return new Date(Math.floor(now.getTime() / 60_000) * 60_000);
}

/** Runs created since `since`, newest first, through the index GET /v1/runs uses. */
async function runsSince(deps: Deps, since: Date, workerId?: string): Promise<Run[]> {
  let q = deps.cols.runs.orderBy('createdAt', 'desc').orderBy('id', 'desc');
  if (workerId !== undefined) q = q.where('workerId', '==', workerId);
  const snapshot = await q.where('createdAt', '>=', since.toISOString()).limit(MAX_RUNS_READ).get();
  return snapshot.docs.map((d) => d.data());
}

/** The overview's read of the month per deps (so per instance), with when and from when it was read. */
const history = new WeakMap<Deps, { since: string; at: number; runs: Promise<Run[]> }>();

/** runsSince for the overview, read again at most every OVERVIEW_HISTORY_CACHE_MS. */
function recentRuns(deps: Deps, since: Date, now: Date): Promise<Run[]> {
  const hit = history.get(deps);
  const age = now.getTime() - (hit?.at ?? 0);
  if (hit && hit.since <= since.toISOString() && age >= 0 && age < OVERVIEW_HISTORY_CACHE_MS) {
    return hit.runs.then((runs) => runs.filter((r) => r.createdAt >= since.toISOString()));
  }
  const runs = runsSince(deps, since);
  history.set(deps, { since: since.toISOString(), at: now.getTime(), runs });
  runs.catch(() => history.delete(deps));
  return runs;
}

async function openRuns(deps: Deps): Promise<Run[]> {
  const snapshot = await deps.cols.runs
    .where('status', 'in', [...OPEN_STATUSES])
    .limit(MAX_RUNS_READ)
    .get();
  return snapshot.docs.map((d) => d.data()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

const startOf = (run: Run) => Date.parse(run.startedAt ?? run.createdAt);
const endOf = (run: Run, now: Date) => (run.finishedAt ? Date.parse(run.finishedAt) : now.getTime());

export async function loadOverview(deps: Deps): Promise<Overview> {
  const now = minuteOf(deps.now());
  const dayStart = new Date(now.getTime() - DAY_MS);
  const month = monthStart(now);
  const earliest = dayStart < month ? dayStart : month;
  const [agentDocs, vms, workers, open, recent] = await Promise.all([
    deps.cols.agents.orderBy('id').get(),
    listVms(deps),
    listWorkers(deps),
    openRuns(deps),
    recentRuns(deps, earliest, deps.now()),
  ]);
  const realNow = deps.now();
  const agents = agentDocs.docs.map((d) => {
    const agent = d.data();
    return { ...agent, alive: isAgentAlive(agent, realNow) };
  });
  // The fresh read of the open runs wins over the (up to a minute old) read of the month.
  const byId = new Map<string, Run>();
  for (const run of [...recent, ...open]) byId.set(run.id, run);
  const day = [...byId.values()]
    .filter((run) => endOf(run, now) >= dayStart.getTime())
    .sort((a, b) => startOf(a) - startOf(b));
  const today = now.toISOString().slice(0, 10);
  const costOf = new Map<string, { todayUsd: number; monthUsd: number }>();
  for (const w of workers) costOf.set(w.id, { todayUsd: 0, monthUsd: 0 });
  for (const run of byId.values()) {
    if (run.createdAt < month.toISOString()) continue;
    const entry = costOf.get(run.workerId) ?? { todayUsd: 0, monthUsd: 0 };
    entry.monthUsd += run.usage.costUsd;
    if (run.createdAt.startsWith(today)) entry.todayUsd += run.usage.costUsd;
    costOf.set(run.workerId, entry);
  }
  return {
    now,
    agents,
    vms,
    workers,
    working: open.filter((r) => WORKING.has(r.status)),
    waiting: open.filter((r) => !WORKING.has(r.status)),
    day,
    costs: [...costOf.entries()].map(([workerId, c]) => ({ workerId, ...c })),
  };
}

/** The first slot of the worker's schedule after `now`, as the scheduler reads it (croner, its zone). */
export function nextSlotOf(worker: Worker, now: Date): Date | null {
  if (!worker.schedule || !worker.enabled) return null;
  try {
    return new Cron(worker.schedule.cron, { timezone: worker.schedule.timezone, paused: true }).nextRun(now);
  } catch {
    return null;
  }
}

export interface WorkerPage {
  now: Date;
  worker: Awaited<ReturnType<typeof getWorkerWithReach>>;
  nextSlot: Date | null;
  lastRuns: Run[];
  /** Cost of the runs created on each of the last 30 days (UTC), oldest first. */
  costPerDay: { day: string; usd: number }[];
}

export async function loadWorkerPage(deps: Deps, id: string, reach: WorkerReachOptions): Promise<WorkerPage> {
  const now = minuteOf(deps.now());
  const first = new Date(Date.parse(now.toISOString().slice(0, 10)) - 29 * DAY_MS);
  const [worker, page, month] = await Promise.all([
    getWorkerWithReach(deps, id, reach),
    listRuns(deps, { workerId: id, limit: 20 }),
    runsSince(deps, first, id),
  ]);
  const costPerDay = Array.from({ length: 30 }, (_, i) => ({
    day: new Date(first.getTime() + i * DAY_MS).toISOString().slice(0, 10),
    usd: 0,
  }));
  const index = new Map(costPerDay.map((d, i) => [d.day, i]));
  for (const run of month) {
    const i = index.get(run.createdAt.slice(0, 10));
    if (i !== undefined) (costPerDay[i] as { usd: number }).usd += run.usage.costUsd;
  }
  return { now, worker, nextSlot: nextSlotOf(worker, now), lastRuns: page.runs, costPerDay };
}

export interface RunPage {
  now: Date;
  run: Run;
  events: RunEvent[];
}

/** The run and its history, or null when there is no such run. */
export async function loadRunPage(deps: Deps, id: string): Promise<RunPage | null> {
  const [snapshot, events] = await Promise.all([
    deps.cols.runs.doc(id).get(),
    deps.cols.runEvents(id).orderBy('at').limit(MAX_EVENTS).get(),
  ]);
  const run = snapshot.data();
  if (!run) return null;
  const list = events.docs
    .map((d) => d.data())
    .sort((a, b) => (a.at === b.at ? a.id.localeCompare(b.id) : a.at < b.at ? -1 : 1));
  return { now: minuteOf(deps.now()), run, events: list };
}
