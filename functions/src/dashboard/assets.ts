// The dashboard's one stylesheet and one script, served by the api function under content-hashed paths.
import { createHash } from 'node:crypto';

const CSS = `
:root{color-scheme:light dark;--bg:#f7f7f5;--fg:#1d1d1f;--muted:#6b6b70;--card:#fff;--line:#dedee2;--accent:#3558d8;
--ok:#2e9d57;--bad:#d1432f;--warn:#c98a0c;--run:#3b82f6;--idle:#8b8b94;--other:#8e5bd6;--lost:#7a4b2a;--track:#ececf0}
@media (prefers-color-scheme:dark){:root{--bg:#121316;--fg:#e9e9ec;--muted:#9a9aa3;--card:#1c1d21;--line:#2e2f35;
--accent:#8aa4ff;--ok:#4cc27a;--bad:#f0715c;--warn:#e6b341;--run:#60a5fa;--idle:#7c7c86;--other:#b18cf0;--lost:#b07c55;--track:#2a2b31}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--accent)}
main{max-width:72rem;margin:0 auto;padding:0 .75rem 3rem}
.top{display:flex;align-items:center;justify-content:space-between;gap:1rem;padding:.6rem .9rem;border-bottom:1px solid var(--line);background:var(--card)}
.top nav{display:flex;gap:.8rem;align-items:center}
.brand{font-weight:700;text-decoration:none;color:var(--fg)}
h1{font-size:1.35rem;margin:1rem 0 .5rem}h2{font-size:1.05rem;margin:0 0 .6rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.8rem .9rem;margin:.8rem 0;overflow-wrap:anywhere}
.narrow{max-width:30rem;margin:3rem auto}
.grid{display:grid;gap:.8rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,22rem),1fr))}
.grid>.card{margin:0}
.muted{color:var(--muted)}.error{color:var(--bad)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .4rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:.85rem}
.scroll{overflow-x:auto}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.8rem;font-weight:600;color:#fff;background:var(--other);white-space:nowrap}
.st-succeeded{background:var(--ok)}.st-failed{background:var(--bad)}.st-timed_out{background:var(--warn)}
.st-cancelled{background:var(--idle)}.st-lost{background:var(--lost)}.st-running,.st-starting{background:var(--run)}
.st-queued{background:var(--idle)}
svg .bar{fill:var(--other)}svg .bar.st-succeeded{fill:var(--ok)}svg .bar.st-failed{fill:var(--bad)}
svg .bar.st-timed_out{fill:var(--warn)}svg .bar.st-cancelled,svg .bar.st-queued{fill:var(--idle)}
svg .bar.st-lost{fill:var(--lost)}svg .bar.st-running,svg .bar.st-starting{fill:var(--run)}
svg .track{fill:var(--track)}svg .tick{stroke:var(--line)}svg .today{fill:var(--accent)}svg .month{fill:var(--track)}
svg a:focus .bar,svg a:hover .bar{stroke:var(--fg);stroke-width:2px}
.lanes{display:grid;grid-template-columns:minmax(4rem,9rem) 1fr;gap:.3rem .6rem;align-items:center}
.lanes svg{width:100%;height:1.4rem;display:block}
.lane-name{font-size:.85rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.axis{display:flex;justify-content:space-between;font-size:.75rem;color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:.4rem;margin:.5rem 0 0}
.costs svg{width:100%;height:.9rem;display:block}
.days svg{width:100%;height:6rem;display:block}
.progress{border-left:3px solid var(--run);padding-left:.6rem;margin:.4rem 0;max-height:9rem;overflow:auto;font-size:.9rem}
.markdown{overflow-x:auto}.markdown pre{background:var(--track);padding:.5rem;border-radius:6px;overflow-x:auto}
.markdown code{font-size:.88em}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.stack{display:flex;flex-direction:column;gap:.6rem}.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.inline{display:inline;margin:0}
input,textarea,button,select{font:inherit;color:inherit}
input[type=password],input[type=text],textarea{width:100%;padding:.45rem;border:1px solid var(--line);border-radius:6px;background:var(--bg)}
button{padding:.35rem .8rem;border-radius:6px;border:1px solid var(--line);background:var(--bg);cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
.run-line{display:flex;flex-wrap:wrap;gap:.3rem .8rem;align-items:baseline}
ul.plain{list-style:none;padding:0;margin:0}ul.plain>li{padding:.45rem 0;border-bottom:1px solid var(--line)}ul.plain>li:last-child{border-bottom:0}
code{font-size:.9em}
`;

/**
 * Times in the reader's zone, elapsed times ticking, the timeline's details on hover or tap, and the live
 * parts of the page polled: the page asks for itself with If-None-Match, nothing comes back while nothing
 * changed (304), and on a change each element marked data-live is swapped for its fresh copy.
 */
const JS = `'use strict';
(() => {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const localise = (root) => {
    for (const t of root.querySelectorAll('time[datetime]')) {
      const at = new Date(t.getAttribute('datetime'));
      if (!Number.isNaN(at.getTime())) { t.title = t.textContent; t.textContent = format.format(at); }
    }
  };
  const duration = (ms) => {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm';
    return Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0') + 'm';
  };
  const tick = () => {
    for (const e of document.querySelectorAll('[data-since]')) {
      e.textContent = duration(Date.now() - Date.parse(e.getAttribute('data-since')));
    }
  };
  const detail = (event) => {
    const bar = event.target.closest && event.target.closest('[data-detail]');
    const out = document.getElementById('timeline-detail');
    if (bar && out) out.textContent = bar.getAttribute('data-detail');
  };
  let etag = null;
  let busy = false;
  const poll = async () => {
    if (busy || document.visibilityState !== 'visible') return;
    busy = true;
    try {
      const res = await fetch(location.href, {
        headers: etag ? { 'If-None-Match': etag } : {},
        cache: 'no-store',
        credentials: 'same-origin',
      });
      if (res.status === 401) return location.reload();
      if (res.status !== 200) return;
      etag = res.headers.get('ETag');
      const fresh = new DOMParser().parseFromString(await res.text(), 'text/html');
      for (const part of fresh.querySelectorAll('[data-live]')) {
        const old = document.getElementById(part.id);
        if (!old) continue;
        const adopted = document.adoptNode(part);
        old.replaceWith(adopted);
        localise(adopted);
      }
      tick();
      document.body.setAttribute('data-polled', String(Date.now()));
    } catch {
      // Offline for a moment: the next poll tries again.
    } finally {
      busy = false;
    }
  };
  document.addEventListener('DOMContentLoaded', () => {
    localise(document);
    setInterval(tick, 1000);
    document.addEventListener('pointerover', detail);
    document.addEventListener('focusin', detail);
    const every = Number(document.body.getAttribute('data-poll-ms'));
    if (every > 0) {
      setInterval(poll, every);
      document.addEventListener('visibilitychange', poll);
    }
  });
})();
`;

export interface Asset {
  path: string;
  type: string;
  body: string;
}

function asset(name: string, ext: string, type: string, body: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `/assets/${name}-${hash}.${ext}`, type, body };
}

export const ASSETS = {
  css: asset('dashboard', 'css', 'text/css; charset=utf-8', CSS),
  js: asset('dashboard', 'js', 'text/javascript; charset=utf-8', JS),
} as const;
