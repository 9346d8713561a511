// terraform/ held to the code and to the providers' schemas (terraform validate cannot run without providers here).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are Terraform expressions as hcl2json gives them.
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getReferencesInExpression, parse } from '@cdktf/hcl2json';
import { describe, expect, it } from 'vitest';
// biome-ignore lint/style/noRestrictedImports: the deployment test holds terraform to the agent's configuration.
import { loadConfig } from '../../../agent/src/config.js';
import {
  FUNCTION_ENV,
  parseApiConfig,
  parseReactorConfig,
  parseSchedulerConfig,
  parseWebhookConfig,
  // biome-ignore lint/style/noRestrictedImports: the deployment test holds terraform to the functions' configuration.
} from '../../../functions/src/config.js';
import { ConfigError } from '../config.js';
import { COLLECTIONS, FUNCTION_ENTRY_POINTS, PUBSUB } from '../names.js';
import { describeUnless } from '../testing/index.js';
import { REPO_ROOT } from './build.js';
import {
  type BlockSchema,
  checkBody,
  loadSchemas,
  PROVIDER_BINDINGS,
  SCHEMA_CACHE_DIR,
  SchemaFetchError,
  type Schemas,
} from './terraform-schema.js';

const exec = promisify(execFile);
const TF_DIR = join(REPO_ROOT, 'terraform');

type Body = Record<string, unknown>;
interface Block {
  kind: 'resource' | 'data' | 'provider';
  type: string;
  name: string;
  body: Body;
  file: string;
}

// Every .tf file, parsed once (hcl2json: blocks are arrays of objects, expressions are "${...}" strings).
const tfFiles = readdirSync(TF_DIR).filter((f) => f.endsWith('.tf'));
const sources = Object.fromEntries(tfFiles.map((f) => [f, readFileSync(join(TF_DIR, f), 'utf8')]));
const parsed = await Promise.all(
  tfFiles.map(async (f) => ({ file: f, json: await parse(f, sources[f] ?? '') })),
);
const blocks: Block[] = [];
const locals: Body = {};
for (const { file, json } of parsed) {
  for (const kind of ['resource', 'data'] as const) {
    for (const [type, byName] of Object.entries(
      (json[kind] ?? {}) as Record<string, Record<string, Body[]>>,
    )) {
      for (const [name, bodies] of Object.entries(byName)) {
        for (const body of bodies) blocks.push({ kind, type, name, body, file });
      }
    }
  }
  for (const [type, bodies] of Object.entries((json.provider ?? {}) as Record<string, Body[]>)) {
    for (const body of bodies) blocks.push({ kind: 'provider', type, name: type, body, file });
  }
  for (const l of (json.locals ?? []) as Body[]) Object.assign(locals, l);
}
const names = JSON.parse(readFileSync(join(TF_DIR, 'names.tf.json'), 'utf8')).locals.names as Record<
  string,
  unknown
> & { collections: Record<string, string> };

const resource = (type: string, name: string): Body => {
  const found = blocks.find((b) => b.kind === 'resource' && b.type === type && b.name === name);
  if (!found) throw new Error(`terraform has no resource ${type}.${name}`);
  return found.body;
};
const only = (value: unknown): Body => {
  expect(Array.isArray(value) && value.length === 1, `one block, got ${JSON.stringify(value)}`).toBe(true);
  return (value as Body[])[0] as Body;
};
/** `${local.names.x}` → the value of x in names.tf.json. */
const nameOf = (expr: unknown): unknown => {
  const m = /^\$\{local\.names\.(\w+)\}$/.exec(String(expr));
  return m ? names[m[1] ?? ''] : expr;
};

function terraformMissing(): string | null {
  try {
    execFileSync('terraform', ['version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'terraform is not installed, so `terraform fmt -check` did not run (https://developer.hashicorp.com/terraform/install)';
  }
}

describeUnless(terraformMissing(), 'terraform fmt', () => {
  it('finds nothing to reformat in terraform/', async () => {
    const result = await exec('terraform', ['fmt', '-check', '-recursive', '-diff', TF_DIR]).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  });
});

// The providers' schemas: fetched once into a cache folder outside the repository (about 32 MB).
let schemas: Schemas = new Map();
let schemaMissing: string | null = null;
const NEGATIVE_TYPES = [{ kind: 'resource' as const, type: 'google_pubsub_subscription' }];
try {
  schemas = await loadSchemas([
    ...blocks.map(({ kind, type }) => ({ kind, type })),
    ...NEGATIVE_TYPES,
    { kind: 'resource', type: 'google_cloudfunctions2_function' },
  ]);
} catch (error) {
  // Only a failed download skips; a binding that cannot be read fails the file.
  if (!(error instanceof SchemaFetchError)) throw error;
  schemaMissing = `the providers' schemas could not be fetched from the npm registry into ${SCHEMA_CACHE_DIR} (${error.message.slice(0, 200)}), so terraform/ was not checked against them`;
}

describeUnless(schemaMissing, `terraform/ against ${PROVIDER_BINDINGS.google.provider}`, () => {
  it('uses only resource and data types the providers have, and configures the google provider', () => {
    expect(blocks.filter((b) => b.kind === 'provider').map((b) => b.type)).toEqual(['google']);
    const unknown = blocks
      .filter((b) => !schemas.get(`${b.kind}:${b.type}`))
      .map((b) => `${b.kind} ${b.type}`);
    expect(unknown).toEqual([]);
  });

  it('sets only arguments and blocks the schema has, and every required argument', () => {
    const problems = blocks.flatMap((b) =>
      checkBody(b.body, schemas.get(`${b.kind}:${b.type}`) as BlockSchema, `${b.file}: ${b.type}.${b.name}`),
    );
    expect(problems).toEqual([]);
  });

  it('catches a misspelt argument, a misspelt block and a missing required argument', async () => {
    const snippet = `
      resource "google_pubsub_subscription" "typo" {
        name         = "x"
        ack_deadline = 60
        expiration_policy {
          ttl = ""
        }
        retry_polcy {
          minimum_backoff = "1s"
        }
      }
      resource "google_cloudfunctions2_function" "typo" {
        name     = "f"
        location = "us-central1"
        service_config {
          timeout_secs = 60
        }
      }`;
    const json = await parse('snippet.tf', snippet);
    const sub = json.resource.google_pubsub_subscription.typo[0];
    const fn = json.resource.google_cloudfunctions2_function.typo[0];
    const subSchema = schemas.get('resource:google_pubsub_subscription') as BlockSchema;
    const fnSchema = schemas.get('resource:google_cloudfunctions2_function') as BlockSchema;
    expect(checkBody(sub, subSchema, 'sub').sort()).toEqual([
      'sub: no argument or block "ack_deadline"',
      'sub: no argument or block "retry_polcy"',
      'sub: required argument "topic" is missing',
    ]);
    expect(checkBody(fn, fnSchema, 'fn')).toEqual(['fn.service_config: no argument or block "timeout_secs"']);
    // The same snippet spelt right passes.
    expect(checkBody({ ...fn, service_config: [{ timeout_seconds: 60 }] }, fnSchema, 'fn')).toEqual([]);
  });

  it('pins each provider to the line of the version it is checked against', () => {
    const versions = sources['versions.tf'] ?? '';
    for (const [name, { provider }] of Object.entries(PROVIDER_BINDINGS)) {
      const [major, minor] = (provider.split(' ')[1] ?? '').split('.');
      const block = new RegExp(
        `${name} = \\{[^}]*source\\s*=\\s*"hashicorp/${name}"[^}]*version\\s*=\\s*"~> ${major}\\.${minor}"`,
      );
      expect(versions, `versions.tf pins ${name} to ~> ${major}.${minor}`).toMatch(block);
    }
  });
});

describe('terraform/ references (what terraform validate would check first)', () => {
  it('refers only to declared variables, locals, resources and data sources', async () => {
    const variables = new Set(parsed.flatMap(({ json }) => Object.keys(json.variable ?? {})));
    const localNames = new Set([...Object.keys(locals), 'names']);
    const declared = new Set(blocks.map((b) => `${b.kind === 'data' ? 'data.' : ''}${b.type}.${b.name}`));
    const resourceTypes = new Set(blocks.filter((b) => b.kind === 'resource').map((b) => b.type));
    // Expressions everywhere: resources, data, outputs, locals, providers, variable validations.
    const expressions: { where: string; expr: string }[] = [];
    const walk = (value: unknown, where: string) => {
      if (typeof value === 'string' && value.includes('${')) expressions.push({ where, expr: value });
      else if (Array.isArray(value)) for (const v of value) walk(v, where);
      else if (value && typeof value === 'object')
        for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
    };
    for (const { file, json } of parsed) {
      for (const key of ['resource', 'data', 'output', 'locals', 'provider', 'variable'])
        walk(json[key], `${file}:${key}`);
    }
    expect(expressions.length).toBeGreaterThan(100);
    const problems: string[] = [];
    for (const { where, expr } of expressions) {
      for (const ref of (
        await Promise.all(interpolations(expr).map((i) => getReferencesInExpression('x.tf', i)))
      ).flat()) {
        const [head = '', second = '', third = ''] = ref.value.split(/[.[]/);
        if (head === 'var' && !variables.has(second)) problems.push(`${where}: no variable "${second}"`);
        else if (head === 'local' && !localNames.has(second)) problems.push(`${where}: no local "${second}"`);
        else if (head === 'data' && !declared.has(`data.${second}.${third}`))
          problems.push(`${where}: no data.${second}.${third}`);
        else if (resourceTypes.has(head) && !declared.has(`${head}.${second}`))
          problems.push(`${where}: no ${head}.${second}`);
        else if (/^google_|^random_|^archive_/.test(head) && !resourceTypes.has(head)) {
          problems.push(`${where}: no resource of type ${head}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('terraform/ and the code', () => {
  const functions = locals.functions as Record<string, { env: string[]; secrets: string[]; name: string }>;
  const secrets = locals.secrets as Record<string, { id: string; env: string | null }>;

  it('deploys exactly the entry points the bundle exports, each from the build archive on nodejs22', () => {
    expect(Object.keys(functions).sort()).toEqual([...FUNCTION_ENTRY_POINTS].sort());
    expect(names.function_entry_points).toEqual([...FUNCTION_ENTRY_POINTS]);
    const fn = resource('google_cloudfunctions2_function', 'fn');
    expect(fn.for_each).toBe('${local.functions}');
    const build = only(fn.build_config);
    expect(build).toMatchObject({ runtime: 'nodejs22', entry_point: '${each.key}' });
    const archive = blocks.find(
      (b) => b.kind === 'data' && b.type === 'archive_file' && b.name === 'functions',
    );
    expect(archive?.body.source_dir).toBe('${path.module}/../dist/functions');
  });

  it("sets every variable each function's config reads, as a plain variable or a mounted secret", () => {
    const parsers = {
      api: parseApiConfig,
      githubWebhook: parseWebhookConfig,
      scheduler: parseSchedulerConfig,
      reactor: parseReactorConfig,
    };
    for (const entry of FUNCTION_ENTRY_POINTS) {
      // FUNCTION_ENV covers at least what each parser insists on.
      const required = requiredBy(() => parsers[entry]({}));
      expect(required.length).toBeGreaterThan(0);
      for (const name of required) expect(FUNCTION_ENV[entry], `${entry} reads ${name}`).toContain(name);
      const f = functions[entry];
      const provided = [...(f?.env ?? []), ...(f?.secrets ?? []).map((key) => secrets[key]?.env)];
      for (const name of FUNCTION_ENV[entry])
        expect(provided, `terraform gives ${entry} ${name}`).toContain(name);
      for (const name of f?.env ?? [])
        expect(Object.keys(locals.function_env_values as Body)).toContain(name);
    }
    const service = only(resource('google_cloudfunctions2_function', 'fn').service_config);
    expect(String(service.environment_variables)).toContain('local.function_env_values[name]');
    const mounted = only((service.dynamic as Body).secret_environment_variables);
    expect(mounted.for_each).toBe('${local.mounted_secrets[each.key]}');
    expect(only(mounted.content)).toMatchObject({
      key: '${local.secrets[secret_environment_variables.value].env}',
      version: 'latest',
    });
  });

  it("gives the functions that notify the dashboard's address for run links, without referring to the api resource", () => {
    for (const entry of ['reactor', 'scheduler'])
      expect(functions[entry]?.env).toContain('NIGHTSHIFT_PUBLIC_URL');
    for (const entry of ['api', 'githubWebhook'])
      expect(functions[entry]?.env).not.toContain('NIGHTSHIFT_PUBLIC_URL');
    const values = locals.function_env_values as Body;
    expect(values.NIGHTSHIFT_PUBLIC_URL).toBe('${local.public_url}');
    const url = String(locals.public_url);
    // The override, else the api's deterministic Cloud Run address: its service is named as the function.
    expect(url).toContain('var.public_url');
    expect(url).toContain(
      'https://${local.functions.api.name}-${data.google_project.this.number}.${var.region}.run.app',
    );
    // The functions are one for_each resource: a reference to its api instance would be a self-reference.
    expect(url).not.toContain('google_cloudfunctions2_function');
    const outputs = parsed.flatMap((p) => Object.entries((p.json.output ?? {}) as Record<string, Body[]>));
    expect(outputs.find(([name]) => name === 'dashboard_url')?.[1][0]?.value).toBe('${local.public_url}');
  });

  it('writes every setting the agent requires into its environment file on the VM', () => {
    const installer = readFileSync(join(REPO_ROOT, 'agent/install.sh'), 'utf8');
    const required = requiredBy(() => loadConfig({}));
    expect(required).toContain('GOOGLE_CLOUD_PROJECT');
    for (const name of required) expect(installer).toContain(`echo "${name}=`);
    const startup = readFileSync(join(TF_DIR, 'startup.sh.tftpl'), 'utf8');
    for (const flag of ['--project', '--agent-id', '--max-workers', '--idle-minutes', '--credential-file']) {
      expect(startup).toContain(flag);
      expect(installer).toContain(`${flag})`);
    }
  });

  it('creates every secret the code reads and grants it to whoever reads it', () => {
    const secretEnv = Object.values(secrets).map((s) => s.env);
    for (const name of ['NIGHTSHIFT_API_TOKENS', 'GITHUB_WEBHOOK_SECRET', 'GITHUB_TOKEN']) {
      expect(secretEnv).toContain(name);
    }
    expect(resource('google_secret_manager_secret', 's').for_each).toBe('${local.secrets}');
    for (const f of Object.values(functions))
      for (const key of f.secrets) expect(Object.keys(secrets)).toContain(key);
    const toFunctions = resource('google_secret_manager_secret_iam_member', 'functions');
    expect(toFunctions.for_each).toBe('${toset(distinct(flatten([for f in local.functions : f.secrets])))}');
    expect(toFunctions.member).toBe('${local.project_member.functions}');
    // The VM's Claude credential: granted to each VM's account and read by the startup script.
    const toVm = resource('google_secret_manager_secret_iam_member', 'vm');
    expect(toVm.secret_id).toBe('${google_secret_manager_secret.s["claude_credential"].id}');
    const vm = resource('google_compute_instance', 'worker');
    expect(JSON.stringify(vm.metadata)).toContain(
      'google_secret_manager_secret.s[\\"claude_credential\\"].secret_id',
    );
    // A function cannot start on a secret without a version: the mounted ones always have one, or wait
    // for use_github_token.
    expect(locals.generated_secrets).toEqual(['api_tokens', 'webhook_secret']);
    expect(String(locals.mounted_secrets)).toContain('key != "github_token" || var.use_github_token');
  });

  it("creates the git credentials' secrets empty and grants each VM those alone, read by the agent as sm:// references", () => {
    expect(locals.agent_secrets).toEqual(['github_app_key', 'git_token', 'git_tokens']);
    expect(secrets.github_app_key).toEqual({
      id: 'nightshift-github-app-key',
      env: 'GITHUB_APP_PRIVATE_KEY',
    });
    // Empty: no version is made here (the agent takes an empty secret as not configured).
    expect(locals.generated_secrets).not.toContain('git_token');
    const grant = resource('google_secret_manager_secret_iam_member', 'vm_git');
    expect(grant.secret_id).toBe('${google_secret_manager_secret.s[each.value.secret].id}');
    expect(grant.member).toBe('serviceAccount:${google_service_account.vm[each.value.vm].email}');
    expect(String(grant.for_each)).toContain('setproduct(keys(local.vms), local.agent_secrets)');
    const startup = readFileSync(join(TF_DIR, 'startup.sh.tftpl'), 'utf8');
    for (const setting of [
      "'NIGHTSHIFT_GIT_TOKEN=sm://${git_token_secret}'",
      "'NIGHTSHIFT_GIT_TOKENS=sm://${git_tokens_secret}'",
      "'GITHUB_APP_PRIVATE_KEY=sm://${app_key_secret}'",
    ])
      expect(startup).toContain(setting);
    // The agent takes those references and names as they are written.
    const config = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'my-project',
      NIGHTSHIFT_HOME: '/var/lib/nightshift',
      NIGHTSHIFT_GIT_TOKEN: `sm://${secrets.git_token?.id}`,
      NIGHTSHIFT_GIT_TOKENS: `sm://${secrets.git_tokens?.id}`,
      GITHUB_APP_ID: '12345',
      GITHUB_APP_PRIVATE_KEY: `sm://${secrets.github_app_key?.id}`,
    });
    expect(config.git.app?.privateKey).toEqual({
      kind: 'secret-manager',
      version: 'projects/my-project/secrets/nightshift-github-app-key/versions/latest',
    });
    // The functions mount the App's key only once github_app_id is set (a secret without a version
    // would keep them from starting).
    expect(String(locals.mounted_secrets)).toContain('key != "github_app_key" || var.github_app_id != ""');
    for (const f of Object.values(functions)) {
      expect(f.secrets).toContain('github_app_key');
      expect(f.env).toContain('GITHUB_APP_ID');
    }
  });

  it('creates the topics and subscriptions under the names the code uses', () => {
    const topics = blocks.filter((b) => b.type === 'google_pubsub_topic').map((b) => nameOf(b.body.name));
    const subs = blocks
      .filter((b) => b.type === 'google_pubsub_subscription')
      .map((b) => nameOf(b.body.name));
    expect(topics.sort()).toEqual(
      [
        PUBSUB.commandsTopic,
        PUBSUB.deadLetterTopic,
        PUBSUB.runStatusTopic,
        PUBSUB.runStatusDeadLetterTopic,
      ].sort(),
    );
    expect(subs.sort()).toEqual(
      [
        PUBSUB.agentSubscription,
        PUBSUB.deadLetterSubscription,
        PUBSUB.reactorSubscription,
        PUBSUB.runStatusDeadLetterSubscription,
      ].sort(),
    );
  });

  it('writes out every reliability setting of every subscription, with ordering off', () => {
    for (const b of blocks.filter((x) => x.type === 'google_pubsub_subscription')) {
      const where = `subscription ${b.name}`;
      expect(b.body.ack_deadline_seconds, where).toBeTypeOf('number');
      expect(b.body.message_retention_duration, where).toBeDefined();
      expect(only(b.body.expiration_policy).ttl, where).toBe('');
      expect(b.body.enable_message_ordering ?? false, where).toBe(false);
    }
    for (const [name, deadTopic] of [
      ['agent', 'commands_dead'],
      ['reactor', 'run_status_dead'],
    ] as const) {
      const sub = resource('google_pubsub_subscription', name);
      expect(only(sub.dead_letter_policy)).toEqual({
        dead_letter_topic: `\${google_pubsub_topic.${deadTopic}.id}`,
        max_delivery_attempts: '${local.names.max_delivery_attempts}',
      });
      expect(names.max_delivery_attempts).toBe(PUBSUB.maxDeliveryAttempts);
      expect(Object.keys(only(sub.retry_policy)).sort()).toEqual(['maximum_backoff', 'minimum_backoff']);
    }
    // Pub/Sub's service agent may dead-letter: publish on both dead-letter topics, acknowledge on both sources.
    const pub = resource('google_pubsub_topic_iam_member', 'dead_letter_publisher');
    const sub = resource('google_pubsub_subscription_iam_member', 'dead_letter_subscriber');
    expect(pub.member).toBe('${local.pubsub_service_agent}');
    expect(sub.member).toBe('${local.pubsub_service_agent}');
    expect(Object.keys(pub.for_each as Body).sort()).toEqual(['commands', 'run_status']);
    expect(Object.keys(sub.for_each as Body).sort()).toEqual(['agent', 'reactor']);
    const signer = resource('google_service_account_iam_member', 'pubsub_signs_push_tokens');
    expect(signer.service_account_id).toBe('${google_service_account.reactor_push.name}');
    expect(String(locals.pubsub_service_agent)).toBe(
      'serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com',
    );
  });

  it('pushes run.status to the reactor with an OIDC token of the one account allowed to invoke it', () => {
    const push = only(resource('google_pubsub_subscription', 'reactor').push_config);
    expect(push.push_endpoint).toBe('${google_cloudfunctions2_function.fn["reactor"].service_config[0].uri}');
    expect(only(push.oidc_token).service_account_email).toBe('${google_service_account.reactor_push.email}');
    const invokers = blocks.filter(
      (b) =>
        b.type === 'google_cloud_run_v2_service_iam_member' && String(b.body.name).includes('fn["reactor"]'),
    );
    expect(invokers.map((b) => b.body.member)).toEqual([
      'serviceAccount:${google_service_account.reactor_push.email}',
    ]);
    const tick = only(resource('google_cloud_scheduler_job', 'tick').http_target);
    expect(only(tick.oidc_token).service_account_email).toBe('${google_service_account.scheduler.email}');
    const schedulerInvokers = blocks.filter(
      (b) =>
        b.type === 'google_cloud_run_v2_service_iam_member' &&
        String(b.body.name).includes('fn["scheduler"]'),
    );
    expect(schedulerInvokers.map((b) => b.body.member)).toEqual([
      'serviceAccount:${google_service_account.scheduler.email}',
    ]);
  });

  it('declares each index of firestore.indexes.json, and that file holds an index for each compound query', () => {
    const index = resource('google_firestore_index', 'composite');
    expect(index.for_each).toBe('${local.firestore_indexes}');
    expect(String(locals.firestore_indexes)).toContain(
      'jsondecode(file("${path.module}/../functions/firestore.indexes.json")).indexes',
    );
    const file = JSON.parse(readFileSync(join(REPO_ROOT, 'functions/firestore.indexes.json'), 'utf8')) as {
      indexes: { collectionGroup: string; fields: { fieldPath: string }[] }[];
    };
    // Chained filters in the code (`.where('a', …).where('b', …)`): Firestore needs a composite index.
    const queries = compoundQueries();
    expect(queries.map((q) => q.join('+'))).toEqual(
      expect.arrayContaining(['agentId+status', 'workerId+status', 'workerId+trigger.type+trigger.issue']),
    );
    for (const fields of queries) {
      const covered = file.indexes.some(
        (i) =>
          i.collectionGroup === COLLECTIONS.runs &&
          i.fields.length === fields.length &&
          i.fields.every((f) => fields.includes(f.fieldPath)),
      );
      expect(covered, `an index on runs(${fields.join(', ')})`).toBe(true);
    }
  });

  it('expires the bookkeeping collections by their expiresAt: idempotency keys, GitHub deliveries and summaries, notification claims and digest days, run slots', () => {
    const ttl = resource('google_firestore_field', 'ttl');
    expect(ttl.field).toBe('expiresAt');
    expect(ttl.ttl_config).toEqual([{}]);
    const collections = String(ttl.for_each);
    const expiring = {
      idempotency_keys: COLLECTIONS.idempotencyKeys,
      github_deliveries: COLLECTIONS.githubDeliveries,
      github_feedback: COLLECTIONS.githubFeedback,
      notification_deliveries: COLLECTIONS.notificationDeliveries,
      notification_digests: COLLECTIONS.notificationDigests,
      budget_slots: COLLECTIONS.budgetSlots,
    };
    for (const [key, collection] of Object.entries(expiring)) {
      expect(collections).toContain(`local.names.collections.${key}`);
      expect(names.collections[key]).toBe(collection);
    }
  });

  it('lets allUsers invoke only the webhook (signature-checked) and the API (bearer tokens on every route)', () => {
    const publicBlocks = blocks.filter((b) =>
      /"(allUsers|allAuthenticatedUsers)"/.test(JSON.stringify(b.body)),
    );
    // The API is public on purpose: its clients (CLI, curl, the dashboard) carry bearer tokens, not
    // Google identities, and functions/src/api checks a token on everything but /healthz.
    expect(publicBlocks.map((b) => `${b.type}.${b.name}`).sort()).toEqual([
      'google_cloud_run_v2_service_iam_member.api_public',
      'google_cloud_run_v2_service_iam_member.webhook_public',
    ]);
    expect(resource('google_cloud_run_v2_service_iam_member', 'api_public').name).toContain('fn["api"]');
    expect(resource('google_cloud_run_v2_service_iam_member', 'webhook_public').name).toContain(
      'fn["githubWebhook"]',
    );
  });

  it('grants only roles from the allow-list, and custom roles of only the permissions listed', () => {
    /** Each role any service account gets, and why. */
    const ALLOWED_ROLES: Record<string, string> = {
      'roles/datastore.user': 'functions and agents read and write Firestore (no finer level exists)',
      'roles/pubsub.publisher':
        'functions publish commands and run.status; agents run.status; the dead-letter agent',
      'roles/pubsub.subscriber':
        'agents pull their subscription; the Pub/Sub agent acks dead-lettered messages',
      'roles/secretmanager.secretAccessor': 'per secret, to the account that reads it',
      'roles/storage.objectViewer': 'VMs download the agent bundle from the bucket',
      'roles/run.invoker': 'per function: the scheduler job, the reactor push, and the two public ones',
      'roles/logging.logWriter': "the build's logs; the VM's Ops Agent",
      'roles/artifactregistry.writer': 'Cloud Build stores the functions images',
      'roles/storage.objectAdmin': 'Cloud Build reads the source archive and stages the build',
      'roles/iam.serviceAccountTokenCreator':
        "Pub/Sub's agent signs push tokens as the reactor's push account only",
    };
    const text = Object.values(sources).join('\n');
    const used = [...new Set([...text.matchAll(/"(roles\/[A-Za-z0-9._]+)"/g)].map((m) => m[1]))];
    expect(used.length).toBeGreaterThan(5);
    for (const role of used) expect(Object.keys(ALLOWED_ROLES), `role ${role}`).toContain(role);
    const custom = blocks.filter((b) => b.type === 'google_project_iam_custom_role');
    expect(Object.fromEntries(custom.map((b) => [b.body.role_id, b.body.permissions]))).toEqual({
      nightshiftVmStart: ['compute.instances.get', 'compute.instances.start'],
      nightshiftVmStop: ['compute.instances.stop'],
    });
    // Starting is granted per instance to the functions, stopping per instance to that VM's own account.
    expect(resource('google_compute_instance_iam_member', 'vm_stop_self').member).toBe(
      'serviceAccount:${google_service_account.vm[each.key].email}',
    );
    expect(resource('google_compute_instance_iam_member', 'functions_start').member).toBe(
      '${local.project_member.functions}',
    );
  });

  it("renders the VM's startup script with exactly the variables the template uses", () => {
    const template = readFileSync(join(TF_DIR, 'startup.sh.tftpl'), 'utf8');
    // Template interpolations are ${name}; the script's own shell variables are written $NAME.
    const used = [...new Set([...template.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
    expect(template).not.toContain('%{');
    const call = String((resource('google_compute_instance', 'worker').metadata as Body)['startup-script']);
    expect(call).toContain('templatefile("${path.module}/startup.sh.tftpl"');
    const passed = [...call.matchAll(/^\s+(\w+)\s+=/gm)].map((m) => m[1]).sort();
    expect(passed).toEqual(used);
  });

  it("prints the command that attaches to a VM over IAP, on the workers' tmux socket as its owner", () => {
    const outputs = parsed.flatMap(({ json }) =>
      Object.entries((json.output ?? {}) as Record<string, Body[]>),
    );
    const attach = String(only(Object.fromEntries(outputs).attach_commands).value);
    expect(attach).toContain(
      '--tunnel-through-iap -- -t sudo -u nightshift-worker tmux -S /run/nightshift/tmux.sock attach',
    );
    expect(Object.keys(Object.fromEntries(outputs)).sort()).toEqual(
      expect.arrayContaining([
        'api_url',
        'attach_commands',
        'github_webhook_settings',
        'vm_names',
        'webhook_url',
      ]),
    );
  });

  it('lets SSH in only from IAP, only to the worker VMs', () => {
    const rules = blocks.filter((b) => b.type === 'google_compute_firewall');
    expect(rules.map((b) => b.name)).toEqual(['iap_ssh']);
    const rule = rules[0]?.body as Body;
    expect(rule.source_ranges).toEqual(['35.235.240.0/20']);
    expect(rule.allow).toEqual([{ protocol: 'tcp', ports: ['22'] }]);
    const vm = resource('google_compute_instance', 'worker');
    expect(only(only(vm.boot_disk).initialize_params).image).toBe('debian-cloud/debian-12');
    expect(only(vm.network_interface).subnetwork).toBe('${google_compute_subnetwork.nightshift.id}');
  });
});

/**
 * Each top-level `${...}` of a template string (hcl2json keeps literal text around them, which the
 * reference parser cannot take). Braces are counted; the files hold no literal brace inside one.
 */
function interpolations(template: string): string[] {
  const found: string[] = [];
  for (let at = template.indexOf('${'); at >= 0; at = template.indexOf('${', at)) {
    let depth = 0;
    let end = at + 1;
    for (; end < template.length; end++) {
      if (template[end] === '{') depth++;
      else if (template[end] === '}' && --depth === 0) break;
    }
    found.push(template.slice(at, end + 1));
    at = end + 1;
  }
  return found;
}

/** The names of the variables a config parser reports missing when given nothing. */
function requiredBy(parseNothing: () => unknown): string[] {
  try {
    parseNothing();
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => p.split(':')[0] ?? '');
  }
}

/** Field lists of the chained `.where('field', …)` filters in agent/src and functions/src (non-test code). */
function compoundQueries(): string[][] {
  const found = new Set<string>();
  for (const dir of ['agent/src', 'functions/src']) {
    for (const file of readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const text = readFileSync(join(REPO_ROOT, dir, file), 'utf8');
      for (const chain of text.matchAll(/(?:\.where\('[^']+',[^)]*\)\s*){2,}/g)) {
        const fields = [...chain[0].matchAll(/\.where\('([^']+)'/g)].map((m) => m[1] ?? '');
        found.add(fields.join('+'));
      }
    }
  }
  return [...found].map((f) => f.split('+'));
}
