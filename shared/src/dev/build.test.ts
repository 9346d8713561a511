// The bundles of `npm run build` as deployed: their dependencies installed by `npm ci`, run by plain node (no tsx).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentHeartbeatSchema,
  COLLECTIONS,
  checkoutOf,
  commandsTopic,
  FUNCTION_ENTRY_POINTS,
  makeCommand,
  publishCommand,
  TMUX_SOCKET,
  WorkerSchema,
} from '../index.js';
import { describeEmulators, emulators, tempDir, testRun, useTestEnv, waitFor } from '../testing/index.js';
import { type BuildResult, build, NODE_MAJOR, REPO_ROOT } from './build.js';
import { createSeededOrigin } from './git-fixture.js';

const exec = promisify(execFile);
const FAKE_CLAUDE = join(REPO_ROOT, 'agent/src/testing/fake-claude.mjs');
const TOKEN = 'ns_bundle-test-token-0123456789';
const WEBHOOK_SECRET = 'bundle-test-webhook-secret';

let out: string;
let result: BuildResult;

/**
 * Installs a bundle's dependencies as Cloud Build and the VM do: `npm ci` on its package.json and
 * package-lock.json, in a temp folder outside the repository, so nothing resolves from the repository's own
 * node_modules. Offline: the packages are the ones `npm ci` of the repository already put in npm's cache.
 */
async function npmCi(dir: string): Promise<void> {
  await exec(
    'npm',
    ['ci', '--offline', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    {
      cwd: dir,
      timeout: 120_000,
    },
  );
}

beforeAll(async () => {
  out = await tempDir('nightshift-build-');
  result = await build({ outDir: out });
  await Promise.all([npmCi(result.functions.dir), npmCi(result.agent.dir)]);
}, 240_000);

/** Plain node, as the Cloud Functions runtime and the VM run it; the emulators when there are some. */
function nodeEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    METADATA_SERVER_DETECTION: 'none',
    ...extra,
  };
  if (emulators) {
    env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
    env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  }
  return env;
}

describe('the functions bundle', () => {
  it('has a package.json and lock for Cloud Build: ESM, its main, Node 22, only the packages it imports', async () => {
    const pkg = JSON.parse(await readFile(join(result.functions.dir, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({
      type: 'module',
      main: 'index.js',
      engines: { node: `>=${NODE_MAJOR}` },
      scarfSettings: { enabled: false },
    });
    expect(Object.keys(pkg.dependencies).sort()).toEqual([
      '@google-cloud/compute',
      '@google-cloud/firestore',
      '@google-cloud/functions-framework',
      '@google-cloud/pubsub',
      'google-gax',
      'swagger-ui-dist',
    ]);
    const installed = JSON.parse(
      await readFile(join(REPO_ROOT, 'node_modules/@google-cloud/firestore/package.json'), 'utf8'),
    );
    expect(pkg.dependencies['@google-cloud/firestore']).toBe(installed.version);
    expect(pkg.scripts).toBeUndefined();
    // The lock pins the very tree the tests ran on (npm ci above would have refused a lock out of step).
    const lock = JSON.parse(await readFile(join(result.functions.dir, 'package-lock.json'), 'utf8'));
    const rootLock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
    expect(lock.packages[''].dependencies).toEqual(pkg.dependencies);
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path !== '')
        expect((entry as { integrity?: string }).integrity).toBe(rootLock.packages[path].integrity);
    }
  });

  it('registers every entry point when plain node imports it, and nothing else', async () => {
    const probe = `
      await import('./index.js');
      const { getTestServer } = await import('@google-cloud/functions-framework/testing');
      const found = {};
      for (const name of ${JSON.stringify([...FUNCTION_ENTRY_POINTS, 'notAFunction'])}) {
        try { getTestServer(name); found[name] = true; } catch { found[name] = false; }
      }
      process.stdout.write(JSON.stringify(found));`;
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: result.functions.dir,
      env: nodeEnv({}),
    });
    expect(JSON.parse(stdout)).toEqual({
      ...Object.fromEntries(FUNCTION_ENTRY_POINTS.map((name) => [name, true])),
      notAFunction: false,
    });
  });

  it('registers only the entry point its instance serves (FUNCTION_TARGET)', async () => {
    const probe = `
      await import('./index.js');
      const { getTestServer } = await import('@google-cloud/functions-framework/testing');
      const found = {};
      for (const name of ${JSON.stringify(FUNCTION_ENTRY_POINTS)}) {
        try { getTestServer(name); found[name] = true; } catch { found[name] = false; }
      }
      process.stdout.write(JSON.stringify(found));`;
    for (const target of FUNCTION_ENTRY_POINTS) {
      const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', probe], {
        cwd: result.functions.dir,
        env: nodeEnv({ FUNCTION_TARGET: target }),
      });
      expect(JSON.parse(stdout)).toEqual(
        Object.fromEntries(FUNCTION_ENTRY_POINTS.map((name) => [name, name === target])),
      );
    }
  });

  it("keeps Pub/Sub off every function's import path (it loads on the first publish)", async () => {
    // What the instance has loaded once its entry point is imported, then once deps has published.
    const probe = `
      import { createRequire } from 'node:module';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache)
        .some((path) => path.includes('/node_modules/@google-cloud/pubsub/'));
      await import('./index.js');
      const atImport = loaded();
      process.stdout.write(JSON.stringify({ atImport }));`;
    for (const target of FUNCTION_ENTRY_POINTS) {
      const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', probe], {
        cwd: result.functions.dir,
        env: nodeEnv({ FUNCTION_TARGET: target }),
      });
      expect({ target, ...JSON.parse(stdout) }).toEqual({ target, atImport: false });
    }
    const pkg = JSON.parse(await readFile(join(result.functions.dir, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies)).toContain('@google-cloud/pubsub');
  });

  describe('served by functions-framework from the bundle', () => {
    let child: ChildProcess;
    let ports: { api: number; githubWebhook: number };

    beforeAll(async () => {
      // A driver beside index.js, so that it resolves functions-framework exactly as the bundle does.
      const driver = join(result.functions.dir, 'serve-for-test.mjs');
      await writeFile(
        driver,
        `await import('./index.js');
        const { getTestServer } = await import('@google-cloud/functions-framework/testing');
        const listen = (name) => new Promise((resolve) => {
          const server = getTestServer(name);
          server.listen(0, '127.0.0.1', () => resolve(server.address().port));
        });
        const ports = { api: await listen('api'), githubWebhook: await listen('githubWebhook') };
        process.stdout.write(JSON.stringify(ports) + '\\n');`,
      );
      child = spawn(process.execPath, [driver], {
        cwd: result.functions.dir,
        env: nodeEnv({
          GOOGLE_CLOUD_PROJECT: 'bundle-test',
          NIGHTSHIFT_API_TOKENS: TOKEN,
          GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
        }),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      ports = await new Promise((resolve, reject) => {
        let text = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('\n')) resolve(JSON.parse(text.split('\n')[0] ?? ''));
        });
        child.on('exit', (code) => reject(new Error(`the bundle's test server exited with ${code}`)));
      });
    });
    afterAll(() => {
      child?.kill('SIGTERM');
    });

    it('answers /healthz of api, and keeps /v1 behind the bearer token', async () => {
      const health = await fetch(`http://127.0.0.1:${ports.api}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      expect((await fetch(`http://127.0.0.1:${ports.api}/v1/workers`)).status).toBe(401);
    });

    it('serves the dashboard sign-in and the docs page with its swagger-ui-dist files', async () => {
      const home = await fetch(`http://127.0.0.1:${ports.api}/`);
      expect(home.status).toBe(401);
      expect(await home.text()).toContain('action="/session"');
      const docs = await (await fetch(`http://127.0.0.1:${ports.api}/docs`)).text();
      const files = [...docs.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
      expect(files).toHaveLength(3);
      for (const file of files)
        expect((await fetch(`http://127.0.0.1:${ports.api}${file}`)).status, file).toBe(200);
    });

    it('answers a correctly signed GitHub ping, and refuses a wrongly signed one', async () => {
      const body = JSON.stringify({
        zen: 'Keep it logically awesome.',
        hook_id: 1,
        hook: { type: 'Repository' },
      });
      const post = async (signature: string) =>
        fetch(`http://127.0.0.1:${ports.githubWebhook}/`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'ping',
            'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
            'x-hub-signature-256': signature,
          },
          body,
        });
      const good = await post(await sign(WEBHOOK_SECRET, body));
      expect(good.status).toBe(200);
      expect(await good.json()).toMatchObject({ ok: true, event: 'ping' });
      expect((await post(await sign('not-the-webhook-secret', body))).status).toBe(401);
    });
  });
});

describe('both bundles', () => {
  it("carry zod's English messages only, not its other locales", async () => {
    for (const dir of [result.functions.dir, result.agent.dir]) {
      const files = [join(dir, dir === result.agent.dir ? 'main.js' : 'index.js')];
      const chunks = join(dir, 'chunks');
      for (const name of await readdir(chunks).catch(() => [] as string[])) {
        if (name.endsWith('.js')) files.push(join(chunks, name));
      }
      const text = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
      expect(text).toContain('Invalid input: expected ');
      expect(text).not.toContain('Ungültige Eingabe');
    }
  });
});

describe('the agent bundle', () => {
  it('holds main.js, the tmux runner beside it, its installer and units, and a package.json', async () => {
    const pkg = JSON.parse(await readFile(join(result.agent.dir, 'package.json'), 'utf8'));
    const source = JSON.parse(await readFile(join(REPO_ROOT, 'agent/package.json'), 'utf8'));
    expect(pkg).toMatchObject({ type: 'module', main: 'main.js', version: source.version });
    expect(Object.keys(pkg.dependencies).sort()).toEqual([
      '@google-cloud/compute',
      '@google-cloud/firestore',
      '@google-cloud/pubsub',
      'google-gax',
    ]);
    for (const file of [
      'runner/runner.mjs',
      'runner/render.mjs',
      'install.sh',
      'systemd/nightshift-agent.service',
    ]) {
      await expect(readFile(join(result.agent.dir, file), 'utf8')).resolves.toBeTruthy();
    }
  });

  it('names every missing setting in one line each when run by plain node without configuration', async () => {
    const failed = await exec(process.execPath, [join(result.agent.dir, 'main.js')], {
      env: nodeEnv({}),
    }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('nightshift agent: GOOGLE_CLOUD_PROJECT: expected it to be set');
    expect(failed?.stderr).toContain('nightshift agent: NIGHTSHIFT_HOME: expected it to be set');
  });
});

describeEmulators('the agent bundle run by plain node', () => {
  let agent: ChildProcess;
  let tmuxDir: string;
  let stderr = '';

  afterAll(async () => {
    agent?.kill('SIGKILL');
    // The bundle's tmux server, on the real socket name in this test's own socket folder.
    await exec('tmux', ['-L', TMUX_SOCKET, 'kill-server'], {
      env: { ...process.env, TMUX_TMPDIR: tmuxDir },
    }).catch(() => {});
  });

  it('takes a run from Pub/Sub and finishes it succeeded, reporting its version', async () => {
    const env = await useTestEnv();
    const root = await tempDir('nightshift-bundle-agent-');
    tmuxDir = join(root, 'tmux');
    await mkdir(tmuxDir);
    const at = new Date().toISOString();
    const worker = WorkerSchema.parse({
      id: 'bundled',
      repo: { url: await createSeededOrigin(root, 'bundled'), branch: 'main', push: false },
      createdAt: at,
      updatedAt: at,
    });
    await env.cols.workers.doc(worker.id).set(worker);
    const run = testRun({ id: 'run-bundled-1', workerId: worker.id, checkout: checkoutOf(worker) });
    await env.cols.runs.doc(run.id).set(run);

    agent = spawn(process.execPath, [join(result.agent.dir, 'main.js')], {
      env: nodeEnv({
        GOOGLE_CLOUD_PROJECT: env.projectId,
        NIGHTSHIFT_HOME: join(root, 'home'),
        NIGHTSHIFT_WORKER_COMMAND: FAKE_CLAUDE,
        NIGHTSHIFT_MAX_WORKERS: '1',
        NIGHTSHIFT_AGENT_ID: 'bundled-agent',
        // The agent's socket is always "nightshift": its folder keeps it apart from any other on this machine.
        TMUX_TMPDIR: tmuxDir,
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    agent.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await publishCommand(commandsTopic(env.pubsub), makeCommand('run.start', run.id));

    const done = await waitFor(
      `run ${run.id} to end (agent stderr: ${stderr.slice(-500)})`,
      async () => {
        const r = (await env.cols.runs.doc(run.id).get()).data();
        return r && ['succeeded', 'failed', 'cancelled', 'timed_out', 'lost'].includes(r.status)
          ? r
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect({ status: done.status, error: done.error, agentId: done.agentId }).toEqual({
      status: 'succeeded',
      error: null,
      agentId: 'bundled-agent',
    });
    expect(done.commits.length).toBeGreaterThan(0);
    const doc = AgentHeartbeatSchema.parse(
      (await env.db.collection(COLLECTIONS.agents).doc('bundled-agent').get()).data(),
    );
    const source = JSON.parse(await readFile(join(REPO_ROOT, 'agent/package.json'), 'utf8'));
    expect(doc.version).toBe(source.version);

    agent.kill('SIGTERM');
    const code = await new Promise((resolve) => agent.on('exit', resolve));
    expect(code).toBe(0);
  }, 90_000);
});
