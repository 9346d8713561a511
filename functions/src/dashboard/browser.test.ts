// The dashboard in Debian's chromium (playwright-core) against the local stack with the stand-in worker: sign in, live overview, run page, sign out.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Run } from '@nightshift/shared';
import {
  createSeededOrigin,
  freePort,
  type Stack,
  startStack,
  writeStandinWorker,
} from '@nightshift/shared/dev';
import {
  describeEmulators,
  describeUnless,
  emulators,
  onFileEnd,
  tempDir,
  testProjectId,
  waitFor,
} from '@nightshift/shared/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { HOSTILE_MARKDOWN } from './testing.js';

const exec = promisify(execFile);
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Debian's chromium: playwright-core never downloads a browser, and none could be downloaded here. */
const CHROMIUM = '/usr/bin/chromium';
/** NIGHTSHIFT_SCREENSHOTS=docs writes the overview's into docs/ (the README shows it); the rest go to a temp folder. */
const SCREENSHOTS_TO_DOCS = process.env.NIGHTSHIFT_SCREENSHOTS === 'docs';
const README_SHOT = 'dashboard.png';

const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 800 };

/** A seeded origin whose PROGRESS.md is hostile: what a worker steered by a hostile issue would leave. */
async function hostileOrigin(root: string): Promise<string> {
  const origin = await createSeededOrigin(root, 'blog');
  const work = join(root, 'hostile-clone');
  await exec('git', ['clone', '-q', origin, work]);
  await writeFile(join(work, 'PROGRESS.md'), `${HOSTILE_MARKDOWN}\n\n`);
  await exec('git', ['-C', work, 'add', 'PROGRESS.md']);
  await exec('git', [
    '-C',
    work,
    '-c',
    'user.name=T',
    '-c',
    'user.email=t@example.com',
    'commit',
    '-qm',
    'hostile',
  ]);
  await exec('git', ['-C', work, 'push', '-q', 'origin', 'main']);
  return origin;
}

describeUnless(
  existsSync(CHROMIUM) ? null : `no browser at ${CHROMIUM} (apt-get install chromium)`,
  'the dashboard in chromium',
  () => {
    describeEmulators('against the local stack', () => {
      let stack: Stack;
      let browser: Browser;
      let shots: string;
      const shot = (name: string) =>
        join(SCREENSHOTS_TO_DOCS && name === README_SHOT ? join(REPO_ROOT, 'docs') : shots, name);
      let logs = '';
      const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        const res = await fetch(`${stack.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${stack.token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
        return (await res.json()) as T;
      };
      const startRun = (scenario: string) =>
        api<Run>('POST', '/v1/runs', { workerId: 'blog', prompt: `Work. scenario: ${scenario}` });
      const statusOf = async (id: string) => (await api<Run>('GET', `/v1/runs/${id}`)).status;
      const until = (id: string, status: string) =>
        waitFor(`run ${id} to be ${status}`, async () => (await statusOf(id)) === status, {
          timeoutMs: 60_000,
          intervalMs: 250,
        }).catch((error: Error) => {
          throw new Error(`${error.message}\n${logs.slice(-4000)}`);
        });

      beforeAll(async () => {
        if (!emulators) throw new Error('needs the emulators');
        const root = await tempDir('nightshift-dashboard-');
        shots = join(root, 'screenshots');
        await mkdir(shots, { recursive: true });
        await mkdir(join(REPO_ROOT, 'docs'), { recursive: true });
        const tmuxDir = join(root, 'tmux');
        await mkdir(tmuxDir);
        const [workerCommand, port, origin] = await Promise.all([
          writeStandinWorker(root),
          freePort(),
          hostileOrigin(root),
        ]);
        const sink = new Writable({
          write(chunk, _encoding, done) {
            logs = (logs + chunk.toString()).slice(-20_000);
            done();
          },
        });
        stack = await startStack({
          emulators,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            GOOGLE_CLOUD_PROJECT: testProjectId(),
            PORT: String(port),
            NIGHTSHIFT_HOME: join(root, 'home'),
            NIGHTSHIFT_WORKER_COMMAND: workerCommand,
            // One at a time: a second run waits queued behind the running one.
            NIGHTSHIFT_MAX_WORKERS: '1',
            NIGHTSHIFT_AGENT_ID: 'browser-test-agent',
            NIGHTSHIFT_LOG_FORMAT: 'json',
            TMUX_TMPDIR: tmuxDir,
          },
          out: sink,
          err: sink,
        });
        // The workers first: a run still working would write into the folder being removed.
        onFileEnd(async () => {
          await exec('tmux', ['-L', 'nightshift', 'kill-server'], {
            env: { ...process.env, TMUX_TMPDIR: tmuxDir },
          }).catch(() => undefined);
          await stack.stop();
        });
        browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
        onFileEnd(() => browser.close());
        await api('POST', '/v1/workers', { id: 'blog', repo: { url: origin, branch: 'main' } });
        await api('POST', '/v1/workers', { id: 'notes', workdir: '/nonexistent/notes' });
        // Runs in several statuses: succeeded, failed (twice: a crashed worker, a missing workdir).
        const done = await startRun('success');
        await until(done.id, 'succeeded');
        const crashed = await startRun('exit_nonzero');
        await until(crashed.id, 'failed');
        const missing = await api<Run>('POST', '/v1/runs', { workerId: 'notes' });
        await until(missing.id, 'failed');
      }, 180_000);

      async function signIn(page: Page): Promise<void> {
        await page.goto(stack.url);
        await expect.poll(() => page.locator('input[name="token"]').count()).toBe(1);
        await page.fill('input[name="token"]', stack.token);
        await page.click('button[type="submit"]');
        await page.waitForSelector('#live-running');
      }

      it('signs in, shows a run going live on the overview without a reload, renders PROGRESS.md inert, signs out', async () => {
        const context = await browser.newContext({ viewport: DESKTOP });
        const page = await context.newPage();
        const violations: string[] = [];
        page.on('console', (m) => {
          if (/Content.Security.Policy|Refused to/i.test(m.text())) violations.push(m.text());
        });
        page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
        await signIn(page);
        const [cookie] = await context.cookies();
        expect(cookie).toMatchObject({ name: 'nightshift-session', httpOnly: true, sameSite: 'Strict' });
        await expect.poll(() => page.locator('#live-running').innerText()).toContain('nothing is running');

        // The page stays as it is (a marker survives) while the run is started, claimed and works.
        await page.evaluate(() => {
          (window as unknown as { marker: number }).marker = 42;
        });
        const slow = await startRun('slow 150000');
        const queued = await startRun('slow 1000');
        const running = page.locator('#live-running');
        await expect.poll(() => running.innerText(), { timeout: 40_000 }).toContain(slow.id);
        await expect.poll(() => running.innerText(), { timeout: 40_000 }).toMatch(/[1-9]\d* turns/);
        // The run's live progress: the tail of its PROGRESS.md or its last words, whichever the agent saw
        // change last (the stand-in writes both for step 5 within a moment).
        await expect
          .poll(() => running.innerText(), { timeout: 40_000 })
          .toMatch(/step 5 done by fake claude|Working on step 5\./);
        await expect
          .poll(() => page.locator('#live-waiting').innerText(), { timeout: 20_000 })
          .toContain(queued.id);
        expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
        // The timeline has a bar for each run, coloured by its status.
        for (const status of ['succeeded', 'failed', 'running']) {
          expect(await page.locator(`#live-timeline rect.bar.st-${status}`).count(), status).toBeGreaterThan(
            0,
          );
        }
        await page.locator(`#live-timeline a[href="/runs/${slow.id}"]`).hover();
        await expect.poll(() => page.locator('#timeline-detail').innerText()).toContain('blog · running');
        await page.screenshot({ path: shot(README_SHOT) });

        // The running run's page: PROGRESS.md rendered, its hostile parts inert, live while it runs.
        await page.goto(`${stack.url}/runs/${slow.id}`);
        const progress = page.locator('#progress-markdown');
        await expect.poll(() => progress.locator('h1').count(), { timeout: 20_000 }).toBe(1);
        expect(await progress.locator('h1').innerText()).toBe('Progress');
        expect(await progress.locator('script, img, iframe, svg, form, input, style, details').count()).toBe(
          0,
        );
        expect(await progress.locator('[onclick], [onerror], [onload], [style]').count()).toBe(0);
        const hrefs = await progress.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
        expect(hrefs).toEqual([null, null, null, 'https://example.com/docs']);
        await progress.locator('a', { hasText: 'click me' }).click();
        expect(
          await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned),
        ).toBeUndefined();
        expect(await page.locator('body').isVisible()).toBe(true);
        await expect
          .poll(() => page.locator('#live-run-status').innerText(), { timeout: 40_000 })
          .toMatch(/[1-9]\d* turns/);
        await page.screenshot({ path: shot('dashboard-run.png'), fullPage: true });

        // The worker page, then the docs page (Swagger UI from the package, under its CSP).
        await page.goto(`${stack.url}/workers/blog`);
        await expect.poll(() => page.locator('#live-last-runs').innerText()).toContain(slow.id);
        await page.goto(`${stack.url}/docs`);
        await expect
          .poll(() => page.locator('.swagger-ui .info .title').count(), { timeout: 20_000 })
          .toBe(1);
        expect(await page.locator('.opblock').count()).toBeGreaterThan(10);

        await page.goto(stack.url);
        await page.click('#sign-out');
        await page.waitForSelector('input[name="token"]');
        expect(await context.cookies()).toEqual([]);
        await page.goto(`${stack.url}/runs/${slow.id}`);
        expect(await page.locator('input[name="token"]').count()).toBe(1);
        expect(violations).toEqual([]);
        await context.close();
      }, 180_000);

      it('reads on a 375-pixel phone: nothing wider than the screen; dark when the system is', async () => {
        const background = (page: Page) =>
          page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        const light = await browser.newContext({ viewport: DESKTOP, colorScheme: 'light' });
        const lightPage = await light.newPage();
        await signIn(lightPage);
        expect(await background(lightPage)).toBe('rgb(247, 247, 245)');
        await light.close();
        const context = await browser.newContext({
          viewport: PHONE,
          deviceScaleFactor: 2,
          isMobile: true,
          hasTouch: true,
          colorScheme: 'dark',
        });
        const page = await context.newPage();
        await signIn(page);
        expect(await background(page)).toBe('rgb(18, 19, 22)');
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(width).toBeLessThanOrEqual(PHONE.width);
        // Every part of the overview is there, one under the other, as wide as the screen allows.
        for (const id of [
          'live-running',
          'live-timeline',
          'live-waiting',
          'live-costs',
          'live-agents',
          'live-vms',
        ]) {
          const box = await page.locator(`#${id}`).boundingBox();
          expect(box?.width ?? 0, id).toBeGreaterThan(300);
          expect(box?.width ?? 0, id).toBeLessThanOrEqual(PHONE.width);
        }
        await page.screenshot({ path: shot('dashboard-phone.png'), fullPage: true });
        await context.close();
      }, 60_000);
    });
  },
);
