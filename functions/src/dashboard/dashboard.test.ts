// The dashboard through app.request() on the emulators: sign-in and out, cookie flags, CSRF, CSP, pages with real data.
import { WorkerSpecSchema } from '@nightshift/shared';
import { describeEmulators, type TestEnv, testRun, useTestEnv } from '@nightshift/shared/testing';
import { beforeAll, expect, it } from 'vitest';
import { createApiApp } from '../api/app.js';
import { OTHER_TOKEN, TEST_TOKEN } from '../api/testing.js';
import { createDeps } from '../core/deps.js';
import { memoryLogger } from '../core/log.js';
import { SESSION_LIFETIME_MS } from '../timings.js';
import { createWorker } from '../workers/service.js';
import { ASSETS } from './assets.js';
import { HOSTILE_MARKDOWN } from './testing.js';

let env: TestEnv;
let clock = Date.parse('2030-03-15T12:00:00Z');
let app: ReturnType<typeof createApiApp>;
const ago = (minutes: number) => new Date(clock - minutes * 60_000).toISOString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const ORIGIN = 'http://localhost';

async function signIn(token = TEST_TOKEN, url = '/session'): Promise<Response> {
  return app.request(url, {
    method: 'POST',
    headers: { ...FORM, origin: new URL(url, ORIGIN).origin },
    body: new URLSearchParams({ token, next: '/runs/r-running' }).toString(),
  });
}

/** The name=value of a Set-Cookie header, to send back as a Cookie header. */
const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

describeEmulators('the dashboard', () => {
  let cookie: string;
  beforeAll(async () => {
    env = await useTestEnv();
    const deps = createDeps({ projectId: env.projectId, log: memoryLogger(), now: () => new Date(clock) });
    app = createApiApp(deps, { tokens: [TEST_TOKEN, OTHER_TOKEN], projectId: env.projectId });
    await createWorker(
      deps,
      WorkerSpecSchema.parse({
        id: 'blog',
        repo: { url: 'https://github.com/me/blog.git', branch: 'main', push: true },
        schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      }),
    );
    await createWorker(deps, WorkerSpecSchema.parse({ id: 'notes', workdir: '/srv/notes' }));
    const runs = [
      testRun({
        id: 'r-running',
        workerId: 'blog',
        status: 'running',
        createdAt: ago(30),
        startedAt: ago(29),
        usage: { turns: 7, costUsd: 0.42, inputTokens: 1000, outputTokens: 200 },
        progress: { text: HOSTILE_MARKDOWN, updatedAt: ago(1) },
        checkout: {
          repo: { url: 'https://github.com/me/blog.git', branch: 'main', push: true },
          workdir: null,
          roadmapPath: 'docs/roadmap.md',
          progressPath: 'PROGRESS.md',
        },
        commits: ['0123456789abcdef0123456789abcdef01234567'],
        pushedBranch: 'nightshift/r-running',
      }),
      testRun({
        id: 'r-done',
        workerId: 'blog',
        status: 'succeeded',
        createdAt: ago(300),
        startedAt: ago(299),
        finishedAt: ago(240),
        usage: { turns: 30, costUsd: 1.5, inputTokens: 1, outputTokens: 1 },
        result: 'All **done**.',
      }),
      testRun({
        id: 'r-failed',
        workerId: 'notes',
        status: 'failed',
        createdAt: ago(200),
        startedAt: ago(199),
        finishedAt: ago(190),
        error: 'the clone failed: <b>no such repo</b>',
      }),
      testRun({ id: 'r-queued', workerId: 'notes', status: 'queued', createdAt: ago(2) }),
    ];
    for (const run of runs) await env.cols.runs.doc(run.id).set(run);
    await env.cols.agents.doc('vm-1').set({
      id: 'vm-1',
      version: '0.1.0',
      host: 'vm-1',
      state: 'running',
      capacity: 2,
      running: ['r-running'],
      startedAt: ago(60),
      heartbeatAt: ago(0),
    });
    cookie = cookieOf(await signIn());
  });

  it('answers a page without a session with the sign-in form, under a strict CSP', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).toContain('action="/session"');
    expect(text).toContain('type="password"');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    // No inline script at all: every <script> has a src on this origin.
    expect(text.match(/<script[^>]*>/g)).toEqual([`<script src="${ASSETS.js.path}" defer>`]);
  });

  it('exchanges a token for an HttpOnly, SameSite=Strict cookie, not Secure on loopback; a wrong token gets none', async () => {
    const res = await signIn();
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/runs/r-running');
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^nightshift-session=/);
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
    expect(set).toContain('Path=/');
    expect(set).toContain(`Max-Age=${SESSION_LIFETIME_MS / 1000}`);
    expect(set).not.toContain('Secure');
    expect(set).not.toContain(TEST_TOKEN);
    const wrong = await signIn('not-a-token-of-this-api');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toContain('not one of the API tokens');
    // The other configured token signs in too.
    expect((await signIn(OTHER_TOKEN)).status).toBe(303);
  });

  it('makes the cookie Secure and __Host- off loopback', async () => {
    const res = await signIn(TEST_TOKEN, 'https://nightshift.example.com/session');
    expect(res.status).toBe(303);
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^__Host-nightshift-session=/);
    expect(set).toContain('Secure');
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
  });

  it('sends the browser on only to a path of this site after sign-in', async () => {
    for (const next of ['https://evil.example/', '//evil.example/', '/\\evil.example']) {
      const res = await app.request('/session', {
        method: 'POST',
        headers: { ...FORM, origin: ORIGIN },
        body: new URLSearchParams({ token: TEST_TOKEN, next }).toString(),
      });
      expect(res.headers.get('location'), next).toBe('/');
    }
  });

  it('refuses a forged, tampered or expired cookie, and a cookie on /v1', async () => {
    const [name, value] = cookie.split('=') as [string, string];
    const forged = `${name}=${encodeURIComponent(`v1.9999999999999.${'A'.repeat(43)}=`)}`;
    const tampered = `${name}=${value.replace(/^v1\.\d+/, 'v1.9999999999999')}`;
    for (const c of [forged, tampered]) {
      expect((await app.request('/', { headers: { cookie: c } })).status).toBe(401);
    }
    expect((await app.request('/', { headers: { cookie } })).status).toBe(200);
    const saved = clock;
    clock += SESSION_LIFETIME_MS + 1000;
    try {
      expect((await app.request('/', { headers: { cookie } })).status).toBe(401);
    } finally {
      clock = saved;
    }
    const v1 = await app.request('/v1/workers', { headers: { cookie } });
    expect(v1.status).toBe(401);
  });

  it('shows the overview with real data: agents, running run with its progress, timeline, costs, queued runs', async () => {
    const res = await app.request('/', { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, no-cache');
    const text = await res.text();
    const running = text.slice(text.indexOf('id="live-running"'), text.indexOf('id="live-timeline"'));
    expect(running).toContain('r-running');
    expect(running).toContain('7 turns');
    expect(running).toContain('$0.42');
    expect(running).toContain('data-since="2030-03-15T11:31:00.000Z"');
    // The tail of the progress text, as text: markup in it is shown, never parsed.
    expect(running).toContain('[a real link](https://example.com/docs)</pre>');
    expect(running).toContain('&lt;style&gt;body{display:none}&lt;/style&gt;');
    expect(running).not.toMatch(/<(?:script|iframe|img|svg|style)/i);
    const timeline = text.slice(text.indexOf('id="live-timeline"'), text.indexOf('id="live-waiting"'));
    for (const id of ['r-running', 'r-done', 'r-failed', 'r-queued'])
      expect(timeline).toContain(`href="/runs/${id}"`);
    expect(timeline).toContain('class="bar st-succeeded"');
    expect(timeline).toContain('class="bar st-failed"');
    const waiting = text.slice(text.indexOf('id="live-waiting"'), text.indexOf('id="live-costs"'));
    expect(waiting).toContain('r-queued');
    expect(waiting).not.toContain('r-running');
    const costs = text.slice(text.indexOf('id="live-costs"'), text.indexOf('id="live-agents"'));
    expect(costs).toContain('$1.92 today · $1.92 this month');
    expect(text).toContain('1/2 running');
  });

  it('answers 304 to a poll while nothing changed, and the new page once something did', async () => {
    const first = await app.request('/', { headers: { cookie } });
    const tag = first.headers.get('etag');
    expect(tag).toBeTruthy();
    const again = await app.request('/', { headers: { cookie, 'if-none-match': tag ?? '' } });
    expect(again.status).toBe(304);
    await env.cols.runs.doc('r-running').update({ 'usage.turns': 8 });
    const changed = await app.request('/', { headers: { cookie, 'if-none-match': tag ?? '' } });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toContain('8 turns');
  });

  it('reads the month again at most once a minute per instance; open runs on every request', async () => {
    await app.request('/', { headers: { cookie } });
    const late = testRun({
      id: 'r-late',
      workerId: 'notes',
      status: 'succeeded',
      createdAt: ago(10),
      startedAt: ago(10),
      finishedAt: ago(5),
      usage: { turns: 1, costUsd: 2, inputTokens: 1, outputTokens: 1 },
    });
    await env.cols.runs.doc(late.id).set(late);
    await env.cols.runs.doc('r-queued').update({ 'usage.turns': 3 });
    const soon = await (await app.request('/', { headers: { cookie } })).text();
    expect(soon).not.toContain('href="/runs/r-late"');
    expect(soon.slice(soon.indexOf('id="live-waiting"'))).toMatch(/r-queued[\s\S]*3 turns/);
    const saved = clock;
    clock += 61_000;
    try {
      const later = await (await app.request('/', { headers: { cookie } })).text();
      expect(later).toContain('href="/runs/r-late"');
      expect(later).toContain('$2.00 today');
    } finally {
      clock = saved;
      await env.cols.runs.doc(late.id).delete();
      await env.cols.runs.doc('r-queued').update({ 'usage.turns': 0 });
    }
  });

  it('shows a run: history, usage, commits and branch linked on GitHub, PROGRESS.md rendered and inert', async () => {
    await env.cols
      .runEvents('r-running')
      .doc('e1')
      .set({
        type: 'status',
        id: 'e1',
        runId: 'r-running',
        at: ago(29),
        from: 'starting',
        to: 'running',
        reason: 'the worker started',
        agentId: 'vm-1',
      });
    const res = await app.request('/runs/r-running', { headers: { cookie } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('the worker started');
    expect(text).toContain(
      'href="https://github.com/me/blog/commit/0123456789abcdef0123456789abcdef01234567"',
    );
    expect(text).toContain('href="https://github.com/me/blog/tree/nightshift/r-running"');
    const progress = text.slice(text.indexOf('id="progress-markdown"'), text.indexOf('id="live-result"'));
    expect(progress).toContain('<h1>Progress</h1>');
    expect(progress).toContain('☑ feed done');
    expect(progress).not.toMatch(/<(?:script|img|iframe|svg|form|input|style)/i);
    expect(progress).not.toMatch(/\son\w+=/i);
    expect(progress).not.toMatch(/javascript:|data:text/i);
    const failed = await (await app.request('/runs/r-failed', { headers: { cookie } })).text();
    expect(failed).toContain('the clone failed: &lt;b&gt;no such repo&lt;/b&gt;');
    const done = await (await app.request('/runs/r-done', { headers: { cookie } })).text();
    expect(done).toContain('All <strong>done</strong>.');
    const missing = await app.request('/runs/r-nope', { headers: { cookie } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('text/html');
  });

  it('shows a worker: settings, next slot, last runs, cost per day', async () => {
    const res = await app.request('/workers/blog', { headers: { cookie } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('https://github.com/me/blog.git');
    // 02:30 in Berlin on 16 March 2030 (CET, UTC+1) is 01:30 UTC.
    expect(text).toContain('<time datetime="2030-03-16T01:30Z">');
    expect(text).toContain('href="/runs/r-done"');
    expect(text).toContain('aria-label="cost per day for 30 days, $1.92 in all"');
    expect((await app.request('/workers/nope', { headers: { cookie } })).status).toBe(404);
  });

  it('refuses a form from another origin (CSRF), and acts on one from its own pages', async () => {
    const post = (path: string, origin: string | null, body: Record<string, string>) =>
      app.request(path, {
        method: 'POST',
        headers: { ...FORM, cookie, ...(origin ? { origin } : {}) },
        body: new URLSearchParams(body).toString(),
      });
    for (const origin of ['https://evil.example', null]) {
      const res = await post('/workers/notes/enabled', origin, { enabled: 'false' });
      expect(res.status, String(origin)).toBe(403);
      expect((await env.cols.workers.doc('notes').get()).data()?.enabled).toBe(true);
    }
    const cross = await app.request('/workers/notes/enabled', {
      method: 'POST',
      headers: { ...FORM, cookie, 'sec-fetch-site': 'cross-site' },
      body: 'enabled=false',
    });
    expect(cross.status).toBe(403);
    const disabled = await post('/workers/notes/enabled', ORIGIN, { enabled: 'false' });
    expect(disabled.status).toBe(303);
    expect((await env.cols.workers.doc('notes').get()).data()?.enabled).toBe(false);
    const refused = await post('/workers/notes/runs', ORIGIN, {});
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('is disabled');
    expect((await post('/workers/notes/enabled', ORIGIN, { enabled: 'true' })).status).toBe(303);
    const started = await post('/workers/notes/runs', ORIGIN, { prompt: 'Do the one thing.' });
    expect(started.status).toBe(303);
    const runId = started.headers.get('location')?.replace('/runs/', '') ?? '';
    const run = (await env.cols.runs.doc(runId).get()).data();
    expect(run).toMatchObject({ workerId: 'notes', status: 'queued', prompt: 'Do the one thing.' });
    // Without a session a form does nothing, whatever its origin.
    const anonymous = await app.request('/workers/notes/enabled', {
      method: 'POST',
      headers: { ...FORM, origin: ORIGIN },
      body: 'enabled=false',
    });
    expect(anonymous.status).toBe(401);
    expect((await env.cols.workers.doc('notes').get()).data()?.enabled).toBe(true);
  });

  it('signs out: the cookie is cleared', async () => {
    const res = await app.request('/session/delete', {
      method: 'POST',
      headers: { ...FORM, cookie, origin: ORIGIN },
    });
    expect(res.status).toBe(303);
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^nightshift-session=;/);
    expect(set).toContain('Max-Age=0');
  });

  it('serves its files with long cache headers, and the docs page from the package under a CSP', async () => {
    const css = await app.request(ASSETS.css.path);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(css.headers.get('cache-control')).toContain('immutable');
    const docs = await app.request('/docs');
    expect(docs.status).toBe(200);
    const text = await docs.text();
    expect(text).not.toMatch(/https?:\/\//);
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
    const sources = [...text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(sources).toHaveLength(3);
    for (const path of sources) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toContain('max-age=31536000');
    }
    const bundle = await app.request(sources.find((s) => s.endsWith('swagger-ui-bundle.js')) ?? '');
    expect((await bundle.text()).length).toBeGreaterThan(500_000);
    expect((await app.request('/docs/assets/0.0.1/swagger-ui.css')).status).toBe(404);
    expect((await app.request('/docs/assets/5.35.0/package.json')).status).toBe(404);
  });
});
