// The Terraform providers' schemas, read from their generated cdktf bindings, and the check of HCL against them.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * The provider versions terraform/versions.tf pins, and the last cdktf bindings generated for each (their
 * READMEs name the provider version). Fetched by the test, never installed by `npm ci`.
 */
export const PROVIDER_BINDINGS = {
  google: { pkg: '@cdktf/provider-google', version: '16.12.1', provider: 'hashicorp/google 6.50.0' },
  archive: { pkg: '@cdktf/provider-archive', version: '11.0.1', provider: 'hashicorp/archive 2.7.1' },
  random: { pkg: '@cdktf/provider-random', version: '12.0.1', provider: 'hashicorp/random 3.7.2' },
} as const;
export type ProviderName = keyof typeof PROVIDER_BINDINGS;

export const SCHEMA_CACHE_DIR = join(
  process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
  'nightshift',
  'terraform-schemas',
);

/** One block of a resource: its arguments (required or not) and its nested blocks. */
export interface BlockSchema {
  attributes: Record<string, { required: boolean }>;
  blocks: Record<string, BlockSchema>;
}

export type SchemaKind = 'resource' | 'data' | 'provider';

/**
 * `google_pubsub_subscription` → `lib/pubsub-subscription`; data `archive_file` → `lib/data-archive-file`;
 * the `provider "google"` block → `lib/provider`.
 */
export function bindingDir(kind: SchemaKind, type: string): { provider: string; dir: string } {
  if (kind === 'provider') return { provider: type, dir: 'provider' };
  const [provider, ...rest] = type.split('_');
  const name = rest.join('-');
  return { provider: provider ?? '', dir: kind === 'data' ? `data-${provider}-${name}` : name };
}

interface Entry {
  name: string;
  camel: string | null;
  isBlock: boolean;
  blockFn: string | null;
}

/** The `name: { value: …, isBlock: …, type: …, storageClassType: … }` entries of one synthesize function. */
function entriesOf(body: string): Entry[] {
  const entries: Entry[] = [];
  const re =
    /^\s+(\w+): \{\s*value: ([\s\S]*?),\s*isBlock: (true|false),\s*type: "\w+",\s*storageClassType: "\w+",?\s*\}/gm;
  for (const m of body.matchAll(re)) {
    const value = m[2] ?? '';
    entries.push({
      name: m[1] ?? '',
      camel: /(?:this\._|struct\.)(\w+)/.exec(value)?.[1] ?? null,
      isBlock: m[3] === 'true',
      blockFn: /(?<![.\w])([a-z]\w*)ToHclTerraform/.exec(value)?.[1] ?? null,
    });
  }
  return entries;
}

/** `readonly name?: type` members of each exported interface in index.d.ts: interface → member → optional. */
function interfacesOf(dts: string): Map<string, Map<string, boolean>> {
  const result = new Map<string, Map<string, boolean>>();
  for (const m of dts.matchAll(/export interface (\w+)[^{]*\{([\s\S]*?)\n\}/g)) {
    const members = new Map<string, boolean>();
    for (const member of (m[2] ?? '').matchAll(/^\s+readonly (\w+)(\?)?:/gm)) {
      members.set(member[1] ?? '', member[2] === '?');
    }
    result.set(m[1] ?? '', members);
  }
  return result;
}

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The schema of one resource or data source from its binding's index.js and index.d.ts. */
export function schemaFromBinding(js: string, dts: string): BlockSchema {
  const interfaces = interfacesOf(dts);
  const fnBodies = new Map<string, string>();
  for (const m of js.matchAll(/^function (\w+)ToHclTerraform\(struct\) \{([\s\S]*?)^\}/gm)) {
    fnBodies.set(m[1] ?? '', m[2] ?? '');
  }
  const top = /synthesizeHclAttributes\(\) \{([\s\S]*?)^ {4}\}/m.exec(js)?.[1];
  if (top === undefined) throw new Error('no synthesizeHclAttributes() in the binding');
  const configInterface = [...interfaces.keys()].find(
    (name) =>
      name.endsWith('Config') && dts.includes(`interface ${name} extends cdktf.TerraformMetaArguments`),
  );
  const toBlock = (body: string, iface: Map<string, boolean> | undefined, depth: number): BlockSchema => {
    const block: BlockSchema = { attributes: {}, blocks: {} };
    for (const entry of entriesOf(body)) {
      if (entry.isBlock && entry.blockFn !== null && depth < 12) {
        const nested = fnBodies.get(entry.blockFn) ?? '';
        block.blocks[entry.name] = toBlock(nested, interfaces.get(pascal(entry.blockFn)), depth + 1);
      } else {
        // `id` is in every binding but is computed by the provider, not an argument anyone sets.
        const optional = entry.camel === null ? true : (iface?.get(entry.camel) ?? true);
        block.attributes[entry.name] = { required: !optional && entry.name !== 'id' };
      }
    }
    return block;
  };
  return toBlock(top, configInterface ? interfaces.get(configInterface) : undefined, 0);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The bindings could not be fetched (no registry here): the one reason a schema check may be skipped. */
export class SchemaFetchError extends Error {
  override readonly name = 'SchemaFetchError';
}

/** The binding's tarball in the cache folder, fetched with `npm pack` the first time. */
async function tarball(provider: ProviderName): Promise<string> {
  const { pkg, version } = PROVIDER_BINDINGS[provider];
  const file = join(SCHEMA_CACHE_DIR, `${pkg.replace('@', '').replace('/', '-')}-${version}.tgz`);
  if (await exists(file)) return file;
  // Packed into a folder of this process, then renamed: another test run never reads a half-written file.
  const staging = join(SCHEMA_CACHE_DIR, `staging-${process.pid}`);
  await mkdir(staging, { recursive: true });
  try {
    await exec('npm', ['pack', `${pkg}@${version}`, '--pack-destination', staging, '--loglevel=error'], {
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: unknown) => {
      const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
      throw new SchemaFetchError(
        `npm pack ${pkg}@${version} failed: ${stderr.split('\n')[0] || String(error)}`,
      );
    });
    await rename(join(staging, basename(file)), file);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return file;
}

export type Schemas = Map<string, BlockSchema | null>;

/**
 * The schemas of the given `kind:type` keys (null for a type the provider does not have), computed from the
 * bindings once and cached as JSON beside their tarballs. Throws when a binding cannot be fetched.
 */
export async function loadSchemas(keys: { kind: SchemaKind; type: string }[]): Promise<Schemas> {
  const schemas: Schemas = new Map();
  const missing = new Map<ProviderName, { kind: SchemaKind; type: string; dir: string; cache: string }[]>();
  const unique = new Map(keys.map((k) => [`${k.kind}:${k.type}`, k]));
  for (const { kind, type } of unique.values()) {
    const { provider, dir } = bindingDir(kind, type);
    if (!(provider in PROVIDER_BINDINGS)) {
      schemas.set(`${kind}:${type}`, null);
      continue;
    }
    const p = provider as ProviderName;
    const cache = join(SCHEMA_CACHE_DIR, 'json', `${p}-${PROVIDER_BINDINGS[p].version}`, `${dir}.json`);
    if (await exists(cache)) {
      schemas.set(`${kind}:${type}`, JSON.parse(await readFile(cache, 'utf8')));
    } else {
      missing.set(p, [...(missing.get(p) ?? []), { kind, type, dir, cache }]);
    }
  }
  for (const [provider, wanted] of missing) {
    const file = await tarball(provider);
    const into = join(SCHEMA_CACHE_DIR, 'unpacked', `${provider}-${process.pid}`);
    await mkdir(into, { recursive: true });
    try {
      // One pass over the tarball for every binding still missing; a type the provider lacks has no folder.
      const listing = (await exec('tar', ['-tzf', file], { maxBuffer: 64 * 1024 * 1024 })).stdout.split('\n');
      const paths = wanted
        .flatMap((w) => [`package/lib/${w.dir}/index.js`, `package/lib/${w.dir}/index.d.ts`])
        .filter((p) => listing.includes(p));
      if (paths.length > 0) await exec('tar', ['-xzf', file, '-C', into, ...paths]);
      for (const w of wanted) {
        const js = join(into, 'package/lib', w.dir, 'index.js');
        let schema: BlockSchema | null = null;
        if (await exists(js)) {
          schema = schemaFromBinding(
            await readFile(js, 'utf8'),
            await readFile(join(into, 'package/lib', w.dir, 'index.d.ts'), 'utf8'),
          );
          await mkdir(join(w.cache, '..'), { recursive: true });
          await writeFile(`${w.cache}.${process.pid}`, JSON.stringify(schema));
          await rename(`${w.cache}.${process.pid}`, w.cache);
        }
        schemas.set(`${w.kind}:${w.type}`, schema);
      }
    } finally {
      await rm(into, { recursive: true, force: true });
    }
  }
  return schemas;
}

/** Terraform's own arguments of every resource and data block. */
const META_ARGUMENTS = new Set([
  'count',
  'for_each',
  'depends_on',
  'provider',
  'lifecycle',
  'provisioner',
  'connection',
]);

type Body = Record<string, unknown>;
const isBodyList = (v: unknown): v is Body[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));

/**
 * Every argument and nested block of one resource body (as @cdktf/hcl2json gives it: blocks are arrays of
 * objects) that its schema does not have, and every required argument it lacks. `where` names it in messages.
 */
export function checkBody(body: Body, schema: BlockSchema, where: string, top = true): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (top && META_ARGUMENTS.has(key)) continue;
    if (key === 'dynamic' && typeof value === 'object' && value !== null) {
      for (const [name, list] of Object.entries(value as Record<string, unknown>)) {
        const nested = schema.blocks[name];
        if (!nested) {
          problems.push(`${where}: no block "${name}" (dynamic)`);
          continue;
        }
        for (const d of isBodyList(list) ? list : []) {
          for (const content of isBodyList(d.content) ? d.content : []) {
            problems.push(...checkBody(content, nested, `${where}.${name}`, false));
          }
        }
      }
      continue;
    }
    const nested = schema.blocks[key];
    if (nested) {
      if (!isBodyList(value)) {
        problems.push(`${where}: "${key}" is a block, written as an argument`);
        continue;
      }
      for (const item of value) problems.push(...checkBody(item, nested, `${where}.${key}`, false));
    } else if (!(key in schema.attributes)) {
      problems.push(`${where}: no argument or block "${key}"`);
    }
  }
  for (const [name, attr] of Object.entries(schema.attributes)) {
    if (attr.required && !(name in body)) problems.push(`${where}: required argument "${name}" is missing`);
  }
  return problems;
}
