// The dashboard's SVG: the 24-hour timeline (a lane per worker, a bar per run) and the cost bar charts.
import { RUN_STATUSES, type Run } from '@nightshift/shared';
import { html } from 'hono/html';
import { DAY_MS } from './data.js';
import { duration, type Html, statusBadge, statusClass, usd } from './layout.js';

/** Minutes of the day: the timeline's x axis, one unit a minute. */
const WIDTH = 1440;
/** A bar never narrower than this many minutes, so a short run can still be seen and tapped. */
const MIN_BAR = 6;

function runDetail(run: Run, now: Date): string {
  const start = run.startedAt ?? run.createdAt;
  const end = run.finishedAt ?? now.toISOString();
  const span = run.finishedAt
    ? `${start.slice(11, 16)}–${end.slice(11, 16)} UTC (${duration(Date.parse(end) - Date.parse(start))})`
    : `since ${start.slice(11, 16)} UTC`;
  return `${run.workerId} · ${run.status.replaceAll('_', ' ')} · ${span} · ${run.usage.turns} turns · ${usd(run.usage.costUsd)}`;
}

/** One lane per worker (those with runs in the window too), each run a bar linking to its page. */
export function timeline(runs: Run[], workerIds: string[], now: Date): Html {
  const from = now.getTime() - DAY_MS;
  const lanes = [...new Set([...workerIds, ...runs.map((r) => r.workerId)])];
  const x = (ms: number) => Math.max(0, Math.min(WIDTH, ((ms - from) / DAY_MS) * WIDTH));
  const ticks = [0, 6, 12, 18].map(
    (h) =>
      html`<line class="tick" x1="${h * 60}" x2="${h * 60}" y1="0" y2="10" vector-effect="non-scaling-stroke"/>`,
  );
  const rows = lanes.map((workerId) => {
    const bars = runs
      .filter((r) => r.workerId === workerId)
      .map((run) => {
        const start = x(Date.parse(run.startedAt ?? run.createdAt));
        const end = x(run.finishedAt ? Date.parse(run.finishedAt) : now.getTime());
        const width = Math.max(MIN_BAR, end - start);
        const left = Math.min(start, WIDTH - width);
        const detail = runDetail(run, now);
        return html`<a href="/runs/${run.id}" data-detail="${detail}" aria-label="${detail}"><rect class="bar ${statusClass(run.status)}" x="${left.toFixed(1)}" y="1" width="${width.toFixed(1)}" height="8" rx="1"><title>${detail}</title></rect></a>`;
      });
    return html`<a class="lane-name" href="/workers/${workerId}">${workerId}</a><svg viewBox="0 0 ${WIDTH} 10" preserveAspectRatio="none" role="img" aria-label="runs of ${workerId} in the last 24 hours"><rect class="track" x="0" y="0" width="${WIDTH}" height="10"/>${ticks}${bars}</svg>`;
  });
  return html`<div class="lanes">${rows.length > 0 ? rows : html`<span class="muted">no workers yet</span><span></span>`}<span></span><div class="axis"><span>−24h</span><span>−18h</span><span>−12h</span><span>−6h</span><span>now</span></div></div>
<p id="timeline-detail" class="muted" aria-live="polite">Hover over or tap a run.</p>
<div class="legend">${RUN_STATUSES.map((s) => statusBadge(s))}</div>`;
}

/** Today's cost over this month's, per worker: the month a pale bar, today a strong one inside it. */
export function costChart(costs: { workerId: string; todayUsd: number; monthUsd: number }[]): Html {
  if (costs.length === 0) return html`<p class="muted">no workers yet</p>`;
  const max = Math.max(0.01, ...costs.map((c) => c.monthUsd));
  const rows = costs.map((c) => {
    const month = (c.monthUsd / max) * 100;
    const today = (c.todayUsd / max) * 100;
    return html`<a class="lane-name" href="/workers/${c.workerId}">${c.workerId}</a><div><svg viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="${c.workerId}: ${usd(c.todayUsd)} today, ${usd(c.monthUsd)} this month"><rect class="month" x="0" y="0" width="${month.toFixed(2)}" height="10"/><rect class="today" x="0" y="0" width="${today.toFixed(2)}" height="10"/></svg><span class="muted">${usd(c.todayUsd)} today · ${usd(c.monthUsd)} this month</span></div>`;
  });
  return html`<div class="lanes costs">${rows}</div>`;
}

/** Cost per day, oldest first: one column a day. */
export function dayChart(days: { day: string; usd: number }[]): Html {
  const max = Math.max(0.01, ...days.map((d) => d.usd));
  const w = 10;
  const bars = days.map((d, i) => {
    const h = (d.usd / max) * 100;
    return html`<rect class="today" x="${i * w + 1}" y="${(100 - h).toFixed(2)}" width="${w - 2}" height="${h.toFixed(2)}"><title>${d.day}: ${usd(d.usd)}</title></rect>`;
  });
  const total = days.reduce((sum, d) => sum + d.usd, 0);
  return html`<div class="days"><svg viewBox="0 0 ${days.length * w} 100" preserveAspectRatio="none" role="img" aria-label="cost per day for ${days.length} days, ${usd(total)} in all"><rect class="track" x="0" y="0" width="${days.length * w}" height="100"/>${bars}</svg>
<div class="axis"><span>${days[0]?.day ?? ''}</span><span>max ${usd(max === 0.01 ? 0 : max)} a day · ${usd(total)} in all</span><span>${days.at(-1)?.day ?? ''}</span></div></div>`;
}
