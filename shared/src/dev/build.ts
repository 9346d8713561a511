// `npm run build`: bundles the Cloud Functions (dist/functions) and the agent (dist/agent) with esbuild.

import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild, type Metafile, type Plugin } from 'esbuild';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Kept out of the bundles and installed as packages beside them: the Google client libraries load their
 * .proto files from disk at run time, and functions-framework must be the very module whose `http()`
 * registry the Cloud Functions runtime reads (it starts the framework from node_modules, then imports us).
 * google-gax is the Google clients' transport (shared/src/compute.ts uses its auth for the Compute stand-in).
 * swagger-ui-dist: the api's docs page serves its files from disk (functions/src/dashboard/docs.ts).
 */
export const EXTERNAL_PACKAGES = ['@google-cloud/*', 'google-gax', 'swagger-ui-dist'];

/** Node on the VM (install.sh) and the Cloud Functions runtime (terraform: nodejs22). */
export const NODE_MAJOR = 22;

export interface BundleInfo {
  dir: string;
  /** Size of the bundled JavaScript file, in bytes. */
  bytes: number;
  /** The packages the bundle imports at run time, with the versions installed here (its package.json). */
  dependencies: Record<string, string>;
}

export interface BuildResult {
  functions: BundleInfo;
  agent: BundleInfo;
  cli: BundleInfo;
  ms: number;
}

/**
 * Bundled CommonJS modules call require() for Node's built-ins; an ESM bundle has none, so it gets one.
 * Nothing else is added: the code itself uses import.meta.url, never __dirname.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __nightshiftCreateRequire } from 'node:module';\n" +
  'const require = __nightshiftCreateRequire(import.meta.url);';

/** The package a bare import names: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Node's lookup of a package from `from`: the nearest node_modules/<name>/package.json up the tree. */
async function installedPackageJson(name: string, from: string): Promise<string | null> {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (
      await stat(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/** The external packages a bundle imports (from esbuild's metafile), each with the version installed for `from`. */
async function externalDependencies(meta: Metafile, from: string): Promise<Record<string, string>> {
  const names = new Set<string>();
  for (const output of Object.values(meta.outputs)) {
    for (const imp of output.imports) {
      if (imp.external && !isBuiltin(imp.path)) names.add(packageOf(imp.path));
    }
  }
  const deps: Record<string, string> = {};
  for (const name of [...names].sort()) {
    // Exact versions: what the tests ran against is what Cloud Build and the VM install.
    const pkgPath = await installedPackageJson(name, from);
    if (pkgPath === null) {
      throw new Error(`the bundle imports ${name}, which is not installed for ${relative(REPO_ROOT, from)}`);
    }
    deps[name] = (await readJson<{ version: string }>(pkgPath)).version;
  }
  return deps;
}

/**
 * agent/src/main.ts reads its version from `../package.json` beside its source; next to dist/agent/main.js
 * that path would leave the bundle, so the bundle reads `./package.json`, which the build writes with the
 * agent's version. A no-op once main.ts imports the version as JSON (inlined by esbuild).
 */
const agentVersionPath: Plugin = {
  name: 'agent-version-path',
  setup(b) {
    b.onLoad({ filter: /agent[\\/]src[\\/]main\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll(
        "new URL('../package.json', import.meta.url)",
        "new URL('./package.json', import.meta.url)",
      ),
      loader: 'ts',
    }));
  },
};

/**
 * One bundle of `entry` at `outfile`. With `split`, each dynamic import() becomes its own file beside it
 * (chunks/), loaded only when that import runs: what one entry point does not use stays off its import path.
 */
/**
 * zod's `locales` namespace holds every language's error messages (about 260 KB of the bundle); nothing
 * here selects a locale, and zod itself configures English from locales/en.js. The bundles get a
 * namespace with English only, so each function's import parses a quarter of a megabyte less.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '../locales/english-only.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

async function bundle(
  entry: string,
  outfile: string,
  {
    plugins = [],
    split = false,
    minifyWhitespace = true,
  }: { plugins?: Plugin[]; split?: boolean; minifyWhitespace?: boolean } = {},
): Promise<Metafile> {
  const out = split
    ? {
        outdir: dirname(outfile),
        entryNames: basename(outfile, '.js'),
        chunkNames: 'chunks/[name]-[hash]',
        splitting: true,
      }
    : { outfile };
  const result = await esbuild({
    entryPoints: [entry],
    ...out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${NODE_MAJOR}`,
    external: EXTERNAL_PACKAGES,
    banner: { js: ESM_REQUIRE_BANNER },
    // Syntax minified, identifiers left as written: function and class names stay in stack traces. Not
    // keepNames: its name-setting call on every function and class cost about 30 ms of each function's
    // import here (A/B of the api's import, 20 rounds), for what this gives for free. Whitespace too for
    // the functions (their cold start parses it); the agent keeps its lines and the `// agent/src/…`
    // comment before each file's code, so that a stack frame of main.js can be read without the source
    // map (the agent runs without --enable-source-maps: see its unit).
    minifyWhitespace,
    minifySyntax: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [zodEnglishOnly, ...plugins],
  });
  return result.metafile;
}

/** Size of every JavaScript file a bundle wrote (its entry and its chunks), in bytes. */
function javascriptBytes(meta: Metafile): number {
  return Object.entries(meta.outputs)
    .filter(([path]) => path.endsWith('.js'))
    .reduce((sum, [, output]) => sum + output.bytes, 0);
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  devOptional?: boolean;
  link?: boolean;
}

/**
 * A package-lock.json for a bundle's dependencies, cut from the repository's own: exactly the packages
 * (and versions, tarballs, integrity hashes) the tests ran against, so Cloud Build and the VM run `npm ci`
 * on the same tree. Node's lookup over the lock's paths gives every package each one needs.
 */
async function lockfileFor(
  name: string,
  version: string,
  dependencies: Record<string, string>,
): Promise<unknown> {
  const root = await readJson<{ packages: Record<string, LockEntry> }>(join(REPO_ROOT, 'package-lock.json'));
  const all = root.packages;
  const parentOf = (path: string) => {
    const at = path.lastIndexOf('/node_modules/');
    return at < 0 ? '' : path.slice(0, at);
  };
  const lookup = (from: string, dep: string): string | undefined => {
    for (let dir = from; ; dir = parentOf(dir)) {
      const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${dep}`;
      if (all[candidate] && !all[candidate].link) return candidate;
      if (dir === '') return undefined;
    }
  };
  const packages: Record<string, LockEntry> = {
    '': { version, dependencies } as LockEntry,
  };
  const queue: string[] = [];
  for (const [dep, wanted] of Object.entries(dependencies)) {
    const path = lookup('', dep);
    if (path === undefined || all[path]?.version !== wanted) {
      throw new Error(`package-lock.json has no ${dep}@${wanted} at the top of node_modules`);
    }
    queue.push(path);
  }
  while (queue.length > 0) {
    const path = queue.pop() as string;
    if (packages[path]) continue;
    const { dev: _dev, devOptional: _devOptional, ...entry } = all[path] as LockEntry;
    packages[path] = entry;
    const needs = { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies };
    for (const dep of Object.keys(needs)) {
      const found = lookup(path, dep);
      if (found !== undefined) queue.push(found);
      else if (!(dep in (entry.optionalDependencies ?? {})) && !entry.peerDependenciesMeta?.[dep]?.optional) {
        throw new Error(`package-lock.json: ${path} needs ${dep}, which is not in the lock`);
      }
    }
  }
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => a.localeCompare(b)));
  return {
    name,
    version,
    lockfileVersion: 3,
    requires: true,
    packages: { ...sorted, '': { name, version, dependencies } },
  };
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

async function buildFunctions(outDir: string): Promise<BundleInfo> {
  const dir = join(outDir, 'functions');
  await rm(dir, { recursive: true, force: true });
  const ws = join(REPO_ROOT, 'functions');
  const meta = await bundle(join(ws, 'src/index.ts'), join(dir, 'index.js'), { split: true });
  const dependencies = await externalDependencies(meta, ws);
  const { version } = await readJson<{ version: string }>(join(ws, 'package.json'));
  // The source archive terraform uploads; Cloud Build installs exactly these dependencies (npm ci).
  await writeFile(
    join(dir, 'package-lock.json'),
    json(await lockfileFor('nightshift-functions', version, dependencies)),
  );
  await writeFile(
    join(dir, 'package.json'),
    json({
      name: 'nightshift-functions',
      version,
      private: true,
      type: 'module',
      main: 'index.js',
      engines: { node: `>=${NODE_MAJOR}` },
      dependencies,
      // swagger-ui-dist depends on @scarf/scarf, whose install script reports each install to scarf.sh
      // unless the installing package says no: Cloud Build's npm ci must not phone home.
      scarfSettings: { enabled: false },
    }),
  );
  return { dir, bytes: await javascriptBytes(meta), dependencies };
}

async function buildAgent(outDir: string): Promise<BundleInfo> {
  const dir = join(outDir, 'agent');
  await rm(dir, { recursive: true, force: true });
  const ws = join(REPO_ROOT, 'agent');
  const meta = await bundle(join(ws, 'src/main.ts'), join(dir, 'main.js'), {
    plugins: [agentVersionPath],
    minifyWhitespace: false,
  });
  const dependencies = await externalDependencies(meta, ws);
  const { version } = await readJson<{ version: string }>(join(ws, 'package.json'));
  await writeFile(
    join(dir, 'package-lock.json'),
    json(await lockfileFor('nightshift-agent', version, dependencies)),
  );
  await writeFile(
    join(dir, 'package.json'),
    json({
      name: 'nightshift-agent',
      version,
      private: true,
      type: 'module',
      main: 'main.js',
      engines: { node: `>=${NODE_MAJOR}` },
      dependencies,
    }),
  );
  // The tmux runner, run by bare node inside each run's session: `<dir of main.js>/runner/runner.mjs`.
  await mkdir(join(dir, 'runner'), { recursive: true });
  for (const name of await readdir(join(ws, 'src/runner'))) {
    if (name.endsWith('.mjs')) await copyFile(join(ws, 'src/runner', name), join(dir, 'runner', name));
  }
  // The installer and its units travel with the bundle: the VM's startup script runs this very install.sh.
  await copyFile(join(ws, 'install.sh'), join(dir, 'install.sh'));
  await mkdir(join(dir, 'systemd'), { recursive: true });
  for (const name of await readdir(join(ws, 'systemd'))) {
    await copyFile(join(ws, 'systemd', name), join(dir, 'systemd', name));
  }
  return { dir, bytes: (await stat(join(dir, 'main.js'))).size, dependencies };
}

/**
 * The `nightshift` CLI as one file run by plain node (dist/cli/nightshift.mjs): every package it uses is
 * inside, so it can be copied anywhere on a PATH.
 */
export async function buildCli(outDir: string): Promise<BundleInfo> {
  const dir = join(outDir, 'cli');
  await rm(dir, { recursive: true, force: true });
  const file = join(dir, 'nightshift.mjs');
  await esbuild({
    entryPoints: [join(REPO_ROOT, 'cli/src/main.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: `#!/usr/bin/env node\n${ESM_REQUIRE_BANNER}` },
    legalComments: 'none',
    logLevel: 'warning',
  });
  await chmod(file, 0o755);
  return { dir, bytes: (await stat(file)).size, dependencies: {} };
}

/** Builds the bundles into `outDir` (default `dist/`), replacing what was there. */
export async function build({
  outDir = join(REPO_ROOT, 'dist'),
}: {
  outDir?: string;
} = {}): Promise<BuildResult> {
  const started = performance.now();
  const [functions, agent, cli] = await Promise.all([
    buildFunctions(outDir),
    buildAgent(outDir),
    buildCli(outDir),
  ]);
  return { functions, agent, cli, ms: Math.round(performance.now() - started) };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  build()
    .then(({ functions, agent, cli, ms }) => {
      for (const [what, info] of [
        ['functions', functions],
        ['agent', agent],
        ['cli', cli],
      ] as const) {
        const deps = Object.entries(info.dependencies).map(([n, v]) => `${n}@${v}`);
        process.stdout.write(
          `${relative(process.cwd(), info.dir)}: ${what} bundle ${kib(info.bytes)}; installs ${deps.join(', ')}\n`,
        );
      }
      process.stdout.write(`built in ${ms} ms. Next: terraform -chdir=terraform apply (see README).\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`npm run build: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
