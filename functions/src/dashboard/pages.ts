// The dashboard's three pages: the overview, a worker, a run. Live parts carry data-live and an id.
import { isTerminal, type Run, type RunEvent } from '@nightshift/shared';
import { html, raw } from 'hono/html';
import { githubHostOf, githubRepoOfUrl } from '../github/installations.js';
import { costChart, dayChart, timeline } from './charts.js';
import type { Overview, RunPage, WorkerPage } from './data.js';
import { elapsed, type Html, page, statusBadge, time, usd } from './layout.js';
import { renderMarkdown } from './markdown.js';

function runLine(run: Run, now: Date, options: { worker?: boolean } = {}): Html {
  return html`<div class="run-line">${statusBadge(run.status)}<a href="/runs/${run.id}"><code>${run.id}</code></a>${
    options.worker === false ? '' : html`<a href="/workers/${run.workerId}">${run.workerId}</a>`
  }<span>${run.usage.turns} turns</span><span>${usd(run.usage.costUsd)}</span>${
    isTerminal(run.status)
      ? html`<span class="muted">${time(run.finishedAt ?? run.updatedAt)}</span>`
      : html`<span>${elapsed(run.startedAt ?? run.createdAt, now)}</span>`
  }${resumesAt(run)}</div>`;
}

/** When a waiting run resumes, if its document says (read untyped: older contracts have no such field). */
function resumesAt(run: Run): Html | '' {
  const at = (run as Record<string, unknown>).resumeAt;
  return typeof at === 'string' ? html`<span class="muted">resumes ${time(at)}</span>` : '';
}

/** The last lines of the run's progress text, as text (its page renders the whole as Markdown). */
function progressOf(run: Run): Html {
  if (!run.progress) return html`<p class="muted">no progress yet</p>`;
  const lines = run.progress.text.split('\n').filter((line) => line.trim() !== '');
  return html`<pre class="progress">${lines.slice(-PROGRESS_LINES).join('\n').slice(-PROGRESS_CHARS)}</pre>`;
}
const PROGRESS_LINES = 6;
const PROGRESS_CHARS = 800;

export function overviewPage(o: Overview): Html {
  const agents = o.agents.length
    ? o.agents.map(
        (a) =>
          html`<li><div class="run-line"><strong>${a.id}</strong>${
            a.alive
              ? html`<span class="badge st-succeeded">alive</span>`
              : html`<span class="badge st-cancelled">gone</span>`
          }<span>${a.state}</span><span>${a.running.length}/${a.capacity} running</span><span class="muted">heartbeat ${time(a.heartbeatAt)}</span></div></li>`,
      )
    : html`<li class="muted">no agent has sent a heartbeat</li>`;
  const vms = o.vms.vms.length
    ? o.vms.vms.map(
        (v) =>
          html`<li><div class="run-line"><strong>${v.name}</strong><span>${v.status ?? 'unknown'}</span><span class="muted">${v.zone}</span><span>${usd(v.costThisMonth.usd)} this month</span>${
            v.statusError ? html`<span class="error">${v.statusError}</span>` : ''
          }</div></li>`,
      )
    : html`<li class="muted">no VMs configured (NIGHTSHIFT_VMS)</li>`;
  const working = o.working.length
    ? o.working.map((r) => html`<li>${runLine(r, o.now)}${progressOf(r)}</li>`)
    : html`<li class="muted">nothing is running</li>`;
  const waiting = o.waiting.length
    ? o.waiting.map((r) => html`<li>${runLine(r, o.now)}</li>`)
    : html`<li class="muted">nothing waits</li>`;
  return page(
    { title: 'Overview', signedIn: true, live: true },
    html`<h1>Tonight</h1>
<section id="live-running" data-live class="card"><h2>Running now (${o.working.length})</h2><ul class="plain">${working}</ul></section>
<section id="live-timeline" data-live class="card"><h2>Last 24 hours</h2>${timeline(
      o.day,
      o.workers.map((w) => w.id),
      o.now,
    )}</section>
<div class="grid">
<section id="live-waiting" data-live class="card"><h2>Queued and waiting (${o.waiting.length})</h2><ul class="plain">${waiting}</ul></section>
<section id="live-costs" data-live class="card"><h2>Cost per worker</h2>${costChart(o.costs)}</section>
<section id="live-agents" data-live class="card"><h2>Agents</h2><ul class="plain">${agents}</ul></section>
<section id="live-vms" data-live class="card"><h2>VMs</h2><ul class="plain">${vms}</ul>${
      o.vms.costThisMonthUsd === null
        ? ''
        : html`<p class="muted">${usd(o.vms.costThisMonthUsd)} in all this month</p>`
    }</section>
</div>
<section class="card"><h2>Workers</h2><ul class="plain">${o.workers.map(
      (w) =>
        html`<li><div class="run-line"><a href="/workers/${w.id}"><strong>${w.id}</strong></a><span>${w.enabled ? 'enabled' : 'disabled'}</span><span class="muted">${w.model}</span>${
          w.schedule
            ? html`<code>${w.schedule.cron}</code><span class="muted">${w.schedule.timezone}</span>`
            : ''
        }</div></li>`,
    )}</ul></section>`,
  );
}

export function workerPage(p: WorkerPage): Html {
  const w = p.worker;
  const source = w.repo
    ? html`<code>${w.repo.url}</code> (branch <code>${w.repo.branch}</code>${w.repo.push ? ', pushes' : ''})`
    : html`workdir <code>${w.workdir ?? ''}</code>`;
  return page(
    { title: w.id, signedIn: true, live: true },
    html`<h1>Worker ${w.id}</h1>
<div class="grid">
<section class="card"><h2>Settings</h2><dl class="facts">
<dt>status</dt><dd>${w.enabled ? 'enabled' : 'disabled'}</dd>
<dt>source</dt><dd>${source}</dd>
<dt>model</dt><dd>${w.model}</dd>
<dt>limits</dt><dd>${w.maxTurns ?? '–'} turns · ${w.maxBudgetUsd === undefined ? '–' : usd(w.maxBudgetUsd)} · ${w.maxDurationMinutes} min</dd>
<dt>roadmap</dt><dd><code>${w.roadmapPath}</code></dd>
<dt>progress</dt><dd><code>${w.progressPath}</code></dd>
<dt>schedule</dt><dd>${w.schedule ? html`<code>${w.schedule.cron}</code> ${w.schedule.timezone}, when busy: ${w.schedule.onBusy}` : 'none'}</dd>
<dt>next slot</dt><dd>${p.nextSlot ? time(p.nextSlot.toISOString()) : html`<span class="muted">none</span>`}</dd>
<dt>GitHub</dt><dd>${w.github ? html`<code>${w.github.repo}</code> label <code>${w.github.label}</code>` : 'none'}${
      w.githubApp ? html` · App: ${w.githubApp.status.replaceAll('_', ' ')}` : ''
    }</dd>
</dl></section>
<section class="card"><h2>Actions</h2>
<form method="post" action="/workers/${w.id}/runs" class="stack">
<label>Prompt for this run (empty: the worker's)<textarea name="prompt" rows="3"></textarea></label>
<div class="row"><button type="submit" class="primary" id="start-run"${w.enabled ? '' : ' disabled'}>Start a run</button>${
      w.enabled ? '' : html`<span class="muted">enable the worker to start runs</span>`
    }</div>
</form>
<form method="post" action="/workers/${w.id}/enabled" class="row">
<input type="hidden" name="enabled" value="${w.enabled ? 'false' : 'true'}">
<button type="submit" id="toggle-enabled">${w.enabled ? 'Disable' : 'Enable'}</button>
</form>
</section>
</div>
<section id="live-days" data-live class="card"><h2>Cost per day, last 30 days</h2>${dayChart(p.costPerDay)}</section>
<section id="live-last-runs" data-live class="card"><h2>Last runs</h2><ul class="plain">${
      p.lastRuns.length
        ? p.lastRuns.map((r) => html`<li>${runLine(r, p.now, { worker: false })}</li>`)
        : html`<li class="muted">no runs yet</li>`
    }</ul></section>`,
  );
}

function eventLine(e: RunEvent): Html {
  const what =
    e.type === 'status'
      ? html`${e.from ? html`${e.from} → ` : ''}${statusBadge(e.to)} ${e.reason ?? ''}`
      : e.type === 'cancel_requested'
        ? html`cancel requested ${e.reason ?? ''}`
        : html`${e.message}`;
  return html`<tr><td>${time(e.at)}</td><td>${what}</td><td class="muted">${
    'agentId' in e && e.agentId ? e.agentId : ''
  }</td></tr>`;
}

/** A web link for a branch or commit when the run's repository is on GitHub. */
function githubOf(run: Run, githubApiUrl: string | undefined): string | null {
  const url = run.checkout.repo?.url;
  const repo = url ? githubRepoOfUrl(url, githubHostOf(githubApiUrl)) : null;
  return repo ? `https://${githubHostOf(githubApiUrl)}/${repo}` : null;
}

export async function runPage(p: RunPage, githubApiUrl: string | undefined): Promise<Html> {
  const { run } = p;
  const web = githubOf(run, githubApiUrl);
  const [progress, result] = await Promise.all([
    run.progress ? renderMarkdown(run.progress.text) : null,
    run.result ? renderMarkdown(run.result) : null,
  ]);
  const branch = run.pushedBranch ?? run.workBranch ?? run.checkout.repo?.branch ?? null;
  const branchLink = (name: string) =>
    web
      ? html`<a href="${web}/tree/${name}"><code>${name}</code></a> · <a href="${web}/pulls?q=${encodeURIComponent(`is:pr head:${name}`)}">pull requests</a>`
      : html`<code>${name}</code>`;
  const commits = run.commits.length
    ? html`<ol>${run.commits.map((sha) =>
        web
          ? html`<li><a href="${web}/commit/${sha}"><code>${sha.slice(0, 12)}</code></a></li>`
          : html`<li><code>${sha.slice(0, 12)}</code></li>`,
      )}</ol>`
    : html`<p class="muted">no commits</p>`;
  const trigger =
    run.trigger.type === 'github'
      ? html`GitHub issue <a href="https://${githubHostOf(githubApiUrl)}/${run.trigger.repo}/issues/${run.trigger.issue}">${run.trigger.repo}#${run.trigger.issue}</a> by ${run.trigger.sender}`
      : run.trigger.type === 'schedule'
        ? html`schedule slot ${time(run.trigger.slot)}`
        : html`the API`;
  return page(
    { title: run.id, signedIn: true, live: !isTerminal(run.status) },
    html`<h1>Run <code>${run.id}</code></h1>
<section id="live-run-status" data-live class="card"><div class="run-line">${statusBadge(run.status)}<a href="/workers/${run.workerId}">${run.workerId}</a><span>${run.model}</span>${
      isTerminal(run.status) ? '' : html`<span>${elapsed(run.startedAt ?? run.createdAt, p.now)}</span>`
    }</div>
<dl class="facts">
<dt>trigger</dt><dd>${trigger}</dd>
<dt>created</dt><dd>${time(run.createdAt)}</dd>
<dt>started</dt><dd>${time(run.startedAt)}</dd>
<dt>finished</dt><dd>${time(run.finishedAt)}</dd>
<dt>usage</dt><dd>${run.usage.turns} turns · ${usd(run.usage.costUsd)} · ${run.usage.inputTokens} in / ${run.usage.outputTokens} out tokens</dd>
<dt>agent</dt><dd>${run.agentId ?? '–'}${run.session ? html` · tmux <code>${run.session}</code>` : ''}</dd>
<dt>branch</dt><dd>${branch ? branchLink(branch) : '–'}${run.wipBranch ? html` · uncommitted work on ${branchLink(run.wipBranch)}` : ''}</dd>
${run.error ? html`<dt>error</dt><dd class="error">${run.error}</dd>` : ''}
${run.cancelReason ? html`<dt>cancel</dt><dd>${run.cancelReason}</dd>` : ''}
</dl>
${
  isTerminal(run.status)
    ? ''
    : html`<form method="post" action="/runs/${run.id}/cancel" class="row"><button type="submit" id="cancel-run">Cancel this run</button></form>`
}</section>
<section id="live-progress" data-live class="card"><h2>Progress</h2>${
      progress === null
        ? html`<p class="muted">no progress yet</p>`
        : html`<div class="markdown" id="progress-markdown">${raw(progress)}</div><p class="muted">updated ${time(run.progress?.updatedAt)}</p>`
    }</section>
<section id="live-result" data-live class="card"><h2>Result</h2>${
      result === null
        ? html`<p class="muted">no result yet</p>`
        : html`<div class="markdown" id="result-markdown">${raw(result)}</div>`
    }</section>
<section id="live-commits" data-live class="card"><h2>Commits (${run.commits.length})</h2>${commits}</section>
<section id="live-events" data-live class="card"><h2>History</h2><div class="scroll"><table><thead><tr><th>at</th><th>what</th><th>agent</th></tr></thead><tbody>${p.events.map(eventLine)}</tbody></table></div></section>
<section class="card"><h2>Prompt</h2><pre class="markdown">${run.prompt}</pre></section>`,
  );
}
