// The dashboard's page frame, sign-in and error pages, and the small formatters every page uses.
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { DASHBOARD_POLL_MS } from '../timings.js';
import { ASSETS } from './assets.js';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** A status as a CSS class name part: the contract's statuses are [a-z_]; anything else is neutralised. */
export function statusClass(status: string): string {
  return `st-${status.replace(/[^a-z_]/g, '')}`;
}

export function statusBadge(status: string): Html {
  return html`<span class="badge ${statusClass(status)}">${status.replaceAll('_', ' ')}</span>`;
}

export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return `$${value < 10 ? value.toFixed(2) : value.toFixed(1)}`;
}

/** `2h05m`, `7m`, `40s`, from milliseconds. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * A moment, to the minute: the server writes UTC, the page's script shows it in the reader's zone. Never
 * finer than a minute, so a page whose data did not change keeps its ETag.
 */
export function time(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">–</span>`;
  const minute = `${iso.slice(0, 16)}Z`;
  return html`<time datetime="${minute}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`;
}

/**
 * Time since `iso`, kept ticking by the script. The start is exact (it never changes while the run goes);
 * the server's text is at the page's minute, so it changes once a minute at most.
 */
export function elapsed(iso: string | null, now: Date): Html {
  if (!iso) return html`<span class="muted">–</span>`;
  const ms = now.getTime() - Date.parse(iso);
  return html`<span class="elapsed" data-since="${iso}">${duration(ms)}</span>`;
}

export interface PageOptions {
  title: string;
  signedIn: boolean;
  /** Whether the page's live parts are polled. */
  live?: boolean;
}

export function page(options: PageOptions, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${options.title} · nightshift</title>
<link rel="stylesheet" href="${ASSETS.css.path}">
<script src="${ASSETS.js.path}" defer></script>
</head>
<body${options.live ? html` data-poll-ms="${DASHBOARD_POLL_MS}"` : ''}>
<header class="top">
<a class="brand" href="/">nightshift</a>
<nav>
<a href="/docs">API docs</a>
${
  options.signedIn
    ? html`<form method="post" action="/session/delete" class="inline"><button type="submit" id="sign-out">Sign out</button></form>`
    : ''
}
</nav>
</header>
<main>
${body}
</main>
</body>
</html>`;
}

/** The page every signed-out request to a page gets: one field for an API token. */
export function signInPage(next: string, error: string | null): Html {
  return page(
    { title: 'Sign in', signedIn: false },
    html`<section class="card narrow">
<h1>Sign in</h1>
<p>Paste one of the API tokens of this deployment (<code>NIGHTSHIFT_API_TOKENS</code>). It is checked once and
exchanged for a session cookie; the token itself is not kept in the browser.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/session" class="stack">
<input type="hidden" name="next" value="${next}">
<label>API token <input type="password" name="token" autocomplete="off" required autofocus></label>
<button type="submit">Sign in</button>
</form>
</section>`,
  );
}

export function errorPage(
  status: number,
  title: string,
  detail: string | undefined,
  signedIn: boolean,
): Html {
  return page(
    { title, signedIn },
    html`<section class="card narrow">
<h1>${status} ${title}</h1>
${detail ? html`<p class="error" role="alert">${detail}</p>` : ''}
<p><a href="/">Back to the overview</a></p>
</section>`,
  );
}
