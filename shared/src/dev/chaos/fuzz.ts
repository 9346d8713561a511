// The fuzz generator (pure, seeded): bad API requests from the OpenAPI document, and bad webhook deliveries.
import { createHmac } from 'node:crypto';
import { seededRandom } from './checks.js';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
};

interface OpenApiDoc {
  paths: Record<string, Record<string, OperationDoc>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface OperationDoc {
  parameters?: Array<{ in: string; name: string; schema?: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface FuzzOperation {
  method: string;
  path: string;
  query: Array<{ name: string; schema: JsonSchema }>;
  body: JsonSchema | null;
}

export interface FuzzRequest {
  /** Which mutation made it, for the report. */
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Ids the requests use where a real one reaches deeper than a random one. */
export interface FuzzKnown {
  token: string;
  /** Workers runs are started for (never changed or deleted by the fuzz). */
  runWorkers: string[];
  /** The worker PATCH and DELETE are aimed at. */
  patchWorker: string;
  runId: string;
  repoUrl: string;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

export const API_KINDS = [
  'valid',
  'wrong-type',
  'extra-field',
  'missing-required',
  'huge-string',
  'oversized-body',
  'deep-nesting',
  'lone-surrogate',
  'invalid-utf8',
  'control-char',
  'number-edge',
  'duplicate-keys',
  'broken-json',
  'content-type',
  'method',
  'path-trick',
  'query-trick',
  'huge-header',
  'many-headers',
  'auth',
  'idempotency-key',
] as const;

const PATH_TRICKS = [
  '..',
  '%2e%2e',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%F0%9F%92%A9',
  '%',
  '%zz',
  '%20',
  '-leading',
  'UPPER',
  ';x',
  '%3Fx%3D1',
  '%C3%A9',
  'x'.repeat(129),
  'y'.repeat(5_000),
];
const WHOLE_PATHS = [
  '//v1//workers',
  '/v1/workers/',
  '/v1/./workers',
  '/v1/workers/../runs',
  '/V1/RUNS',
  '/v1/runs/',
  '/v1',
  '/v1/',
  '/v1/nothing',
  '/%2e%2e/%2e%2e/etc/passwd',
  `/v1/runs/${'z'.repeat(20_000)}`,
  '/v1/runs/a/b/c/d',
  '/v1/runs/x/events/y',
  '/*',
];
const QUERY_VALUES = [
  '0',
  '-1',
  '1e309',
  'NaN',
  '101',
  '1.5',
  '',
  '0x10',
  '9'.repeat(400),
  '%00',
  '%ED%A0%80',
  'bogus',
];
const NUMBER_EDGES = [
  '1e309',
  '-1e309',
  '-0',
  '1e-400',
  '9007199254740993',
  '0.1e1',
  '1.0',
  '-1',
  '0',
  '1E2',
];
const BROKEN_JSON = [
  '',
  '{',
  '{"a":',
  'null',
  '[]',
  '"str"',
  '123',
  'true',
  "{'single':1}",
  '{"a":1,}',
  '\uFEFF{}',
  '{"a":1}{"b":2}',
  '{"a" 1}',
];
const CONTENT_TYPES = [
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/json; charset=latin1',
  'application/json, text/plain',
  'application/jsonx',
  '',
];

/** The operations of an OpenAPI document: each path and method, its query parameters and JSON body schema. */
export function operationsOf(doc: OpenApiDoc): FuzzOperation[] {
  const ops: FuzzOperation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!METHODS.includes(method.toUpperCase())) continue;
      ops.push({
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? [])
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
      });
    }
  }
  return ops.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

class Gen {
  constructor(
    readonly rand: () => number,
    readonly doc: OpenApiDoc,
    readonly known: FuzzKnown,
  ) {}
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  resolve(schema: JsonSchema): JsonSchema {
    let s = schema;
    for (let i = 0; i < 10 && s.$ref; i++) {
      const name = s.$ref.split('/').pop() as string;
      s = this.doc.components?.schemas?.[name] ?? {};
    }
    return s;
  }
  /** A value the schema accepts, as far as this small sampler knows (strings by field name). */
  sample(schema: JsonSchema, name = '', depth = 0): unknown {
    const s = this.resolve(schema);
    if (s.enum) return this.pick(s.enum);
    const alternatives = s.anyOf ?? s.oneOf;
    if (alternatives)
      return this.sample(this.pick(alternatives.filter((a) => a.type !== 'null')), name, depth);
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
    switch (type) {
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const [key, prop] of Object.entries(s.properties ?? {})) {
          // A workdir would have the stand-in worker write in a directory of the machine, and pushing
          // workers would race each other to the one shared origin's branch: neither is sent.
          if (key === 'workdir' || key === 'push') continue;
          if ((s.required ?? []).includes(key) || (depth < 3 && this.chance(0.4))) {
            out[key] = this.sample(prop, key, depth + 1);
          }
        }
        if (s.properties?.repo && s.properties.workdir && out.repo === undefined) {
          out.repo = { url: this.known.repoUrl };
        }
        return out;
      }
      case 'array':
        return Array.from({ length: this.int(3) }, () => this.sample(s.items ?? {}, name, depth + 1));
      case 'integer':
        return Math.max(s.minimum ?? 1, Math.min(s.maximum ?? 100, 1 + this.int(50)));
      case 'number':
        return Math.max(s.minimum ?? 0.5, Math.min(s.maximum ?? 100, 0.5 + this.int(20)));
      case 'boolean':
        return this.chance(0.5);
      default:
        return this.stringFor(name);
    }
  }
  stringFor(name: string): string {
    switch (name) {
      case 'workerId':
        return this.pick(this.known.runWorkers);
      case 'id':
        return `fuzz-new-${this.int(1_000_000)}`;
      case 'url':
        return this.known.repoUrl;
      case 'branch':
        return 'main';
      case 'model':
        return this.pick(['sonnet', 'opus', 'claude-x.1']);
      case 'repo':
        return 'chaos/fuzz';
      case 'cron':
        return '0 3 * * *';
      case 'timezone':
        return this.pick(['UTC', 'Europe/Berlin']);
      case 'status':
        return 'queued';
      default:
        return `fuzz ${name} ${this.int(1000)}`;
    }
  }
  /** A value of another JSON type than the field's. */
  wrongType(value: unknown): unknown {
    const options: unknown[] = [42, -1.5, 'text', true, null, [], {}, [1, 'a'], { nested: { x: 1 } }];
    const others = options.filter(
      (o) => typeof o !== typeof value || Array.isArray(o) !== Array.isArray(value),
    );
    return this.pick(others);
  }
}

/** Replaces the first `"<key>":<value>` of `text` with `"<key>":<raw>` (raw JSON text, maybe invalid). */
function replaceValue(text: string, key: string, value: unknown, raw: string): string {
  const needle = `"${key}":${JSON.stringify(value)}`;
  return text.includes(needle)
    ? text.replace(needle, `"${key}":${raw}`)
    : text.replace(/}$/, `,"${key}":${raw}}`);
}

function fillPath(g: Gen, op: FuzzOperation): string {
  return op.path.replace(/\{(\w+)\}/g, () =>
    op.path.startsWith('/v1/workers') ? g.known.patchWorker : g.known.runId,
  );
}

/**
 * The `index`-th API request of a seed: the same seed and index give the same request, so one failing
 * request can be replayed alone.
 */
export function apiRequest(doc: OpenApiDoc, known: FuzzKnown, seed: number, index: number): FuzzRequest {
  const g = new Gen(seededRandom(seed * 1_000_003 + index), doc, known);
  const ops = operationsOf(doc);
  const op = g.pick(ops);
  const kind = g.pick(API_KINDS);
  const headers: Record<string, string> = { authorization: `Bearer ${known.token}` };
  let method = op.method;
  let path = fillPath(g, op);
  let bodyText: string | undefined;
  let bodyBytes: Buffer | undefined;
  const value = op.body ? (g.sample(op.body) as Record<string, unknown>) : undefined;
  const keys = value && typeof value === 'object' ? Object.keys(value) : [];
  const key = keys.length > 0 ? g.pick(keys) : 'field';
  if (value !== undefined) bodyText = JSON.stringify(value);
  if (op.query.length > 0 && g.chance(0.5)) {
    const q = g.pick(op.query);
    path += `?${q.name}=${encodeURIComponent(String(g.sample(q.schema, q.name)))}`;
  }

  switch (kind) {
    case 'valid':
      break;
    case 'wrong-type':
      if (value) bodyText = JSON.stringify({ ...value, [key]: g.wrongType(value[key]) });
      break;
    case 'extra-field':
      if (value) bodyText = JSON.stringify({ ...value, [`extra${g.int(100)}`]: g.wrongType(undefined) });
      break;
    case 'missing-required':
      if (value) {
        const { [key]: _dropped, ...rest } = value;
        bodyText = JSON.stringify(rest);
      }
      break;
    case 'huge-string':
      if (value)
        bodyText = JSON.stringify({ ...value, [key]: 'x'.repeat(g.pick([100_001, 300_000, 900_000])) });
      break;
    case 'oversized-body':
      bodyText = JSON.stringify({ ...(value ?? {}), [key]: 'x'.repeat(g.pick([1_100_000, 3_000_000])) });
      break;
    case 'deep-nesting': {
      const depth = g.pick([100, 1_000, 10_000, 100_000]);
      const nested = g.chance(0.5)
        ? `${'['.repeat(depth)}${']'.repeat(depth)}`
        : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      bodyText = value && bodyText ? replaceValue(bodyText, key, value[key], nested) : nested;
      break;
    }
    case 'lone-surrogate': {
      const s = g.pick(['"\\ud800"', '"a\\udfffb"', '"\\ud83d"', '"\\udc00\\ud800"']);
      if (value && bodyText) bodyText = replaceValue(bodyText, key, value[key], s);
      else path += g.pick(['', '?workerId=%ED%A0%80', '?cursor=%ED%B0%80']);
      break;
    }
    case 'invalid-utf8': {
      const text = bodyText ?? '{"x":"y"}';
      const at = Math.max(1, text.indexOf('"', 2) + 1);
      const bad = g.pick([[0xed, 0xa0, 0x80], [0xff], [0xc3], [0xf0, 0x9f, 0x92], [0xc0, 0xaf]]);
      bodyBytes = Buffer.concat([
        Buffer.from(text.slice(0, at)),
        Buffer.from(bad),
        Buffer.from(text.slice(at)),
      ]);
      break;
    }
    case 'control-char':
      if (value) {
        const ch = g.pick(['\u0000', '\u0007', '\u001b', '\u007f', '\u2028', '\r\n']);
        const field = keys.includes('prompt') || !op.body ? 'prompt' : key;
        bodyText = JSON.stringify({ ...value, [field]: `before${ch}after` });
      }
      break;
    case 'number-edge': {
      const raw = g.pick(NUMBER_EDGES);
      const field =
        keys.find((k) => typeof value?.[k] === 'number') ??
        g.pick(['maxTurns', 'maxBudgetUsd', 'maxDurationMinutes']);
      if (value && bodyText) bodyText = replaceValue(bodyText, field, value[field], raw);
      else path = `${path.replace(/\?.*$/, '')}?limit=${raw}`;
      break;
    }
    case 'duplicate-keys':
      if (value && bodyText)
        bodyText = bodyText.replace(/}$/, `,"${key}":${JSON.stringify(g.wrongType(value[key]))}}`);
      break;
    case 'broken-json':
      bodyText = g.pick(BROKEN_JSON);
      break;
    case 'content-type':
      headers['content-type'] = g.pick(CONTENT_TYPES);
      bodyText ??= '{}';
      break;
    case 'method':
      method = g.pick(METHODS.filter((m) => m !== op.method && m !== 'HEAD'));
      break;
    case 'path-trick':
      path = g.chance(0.5) ? g.pick(WHOLE_PATHS) : op.path.replace(/\{(\w+)\}/g, () => g.pick(PATH_TRICKS));
      if (!path.includes('{') && !op.path.includes('{')) path = `${op.path}/${g.pick(PATH_TRICKS)}`;
      break;
    case 'query-trick': {
      const names = op.query.length > 0 ? op.query.map((q) => q.name) : ['limit', 'x'];
      const parts = Array.from(
        { length: 1 + g.int(4) },
        () => `${g.pick(names)}${g.pick(['', '[]', '[0]', '.x'])}=${g.pick(QUERY_VALUES)}`,
      );
      path = `${path.replace(/\?.*$/, '')}?${parts.join('&')}`;
      break;
    }
    case 'huge-header':
      headers[`x-fuzz-${g.int(10)}`] = 'h'.repeat(g.pick([10_000, 70_000, 200_000]));
      break;
    case 'many-headers':
      for (let i = 0; i < g.pick([100, 500, 2_000]); i++) headers[`x-many-${i}`] = String(i);
      break;
    case 'auth': {
      const variants = [
        undefined,
        'Bearer',
        'Bearer ',
        'Bearer wrong',
        'Basic dXNlcjpwYXNz',
        `bearer ${known.token}`,
        `Bearer ${known.token} extra`,
        `Bearer ${known.token.slice(0, -1)}`,
        `Bearer\t${known.token}`,
        'Bearer \u00e9\u00e9',
      ];
      const auth = g.pick(variants);
      if (auth === undefined) delete headers.authorization;
      else headers.authorization = auth;
      break;
    }
    case 'idempotency-key':
      headers['idempotency-key'] = g.pick([
        '',
        ' ',
        'k'.repeat(256),
        'k'.repeat(255),
        '\u00e9t\u00e9',
        `key-${g.int(5)}`,
      ]);
      break;
  }
  if (
    bodyBytes === undefined &&
    bodyText !== undefined &&
    (op.body ||
      kind === 'oversized-body' ||
      kind === 'broken-json' ||
      kind === 'content-type' ||
      kind === 'deep-nesting' ||
      kind === 'method')
  ) {
    bodyBytes = Buffer.from(bodyText);
  }
  if (bodyBytes !== undefined && headers['content-type'] === undefined)
    headers['content-type'] = 'application/json';
  if (headers['content-type'] === '') delete headers['content-type'];
  return { kind, method, path, headers, ...(bodyBytes !== undefined ? { body: bodyBytes } : {}) };
}

export const WEBHOOK_KINDS = ['valid', 'bad-signature', 'signed-mangled', 'bad-headers', 'replay'] as const;

export interface WebhookDelivery {
  kind: (typeof WEBHOOK_KINDS)[number];
  /** The issue the payload names; a run for it is legitimate only for `valid` (and `replay`, once). */
  issue: number;
  /** Whether a run may come of it: only correctly signed, well-formed label events. */
  mayQueue: boolean;
  headers: Record<string, string>;
  body: Buffer;
}

export interface WebhookTarget {
  secret: string;
  repo: string;
  label: string;
}

/** Issue numbers by kind, so a run's trigger tells which delivery made it. */
export const ISSUE_BASE = {
  valid: 1_000,
  'bad-signature': 100_000,
  'signed-mangled': 200_000,
  'bad-headers': 300_000,
  replay: 1_000,
} as const;

export function labelPayload(target: WebhookTarget, issue: number): Record<string, unknown> {
  const user = { login: 'chaos-owner', type: 'User' };
  return {
    action: 'labeled',
    issue: {
      number: issue,
      title: `chaos issue ${issue}`,
      body: 'do it',
      user,
      author_association: 'OWNER',
      labels: [{ name: target.label }],
    },
    label: { name: target.label },
    repository: { full_name: target.repo },
    sender: user,
  };
}

export function sign(secret: string, body: Buffer, algorithm: 'sha256' | 'sha1' = 'sha256'): string {
  return `${algorithm}=${createHmac(algorithm, secret).update(body).digest('hex')}`;
}

/** The `index`-th webhook delivery of a seed (deterministic, like apiRequest). */
export function webhookDelivery(target: WebhookTarget, seed: number, index: number): WebhookDelivery {
  const g = new Gen(
    seededRandom(seed * 7_000_003 + index),
    { paths: {} },
    { token: '', runWorkers: [], patchWorker: '', runId: '', repoUrl: '' },
  );
  const roll = g.rand();
  const kind: WebhookDelivery['kind'] =
    roll < 0.05
      ? 'valid'
      : roll < 0.45
        ? 'bad-signature'
        : roll < 0.85
          ? 'signed-mangled'
          : roll < 0.97
            ? 'bad-headers'
            : 'replay';
  const issue = ISSUE_BASE[kind] + (kind === 'replay' ? g.int(3) : index);
  const good = Buffer.from(JSON.stringify(labelPayload(target, issue)));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': 'issues',
    'x-github-delivery': kind === 'replay' ? `replayed-${issue}` : `chaos-${seed}-${index}`,
  };
  let body = good;
  let signature: string | undefined = sign(target.secret, good);
  switch (kind) {
    case 'valid':
    case 'replay':
      break;
    case 'bad-signature': {
      const other = Buffer.from(JSON.stringify(labelPayload(target, issue + 1)));
      signature = g.pick([
        undefined,
        '',
        `sha256=${'0'.repeat(64)}`,
        `sha256=${'g'.repeat(64)}`,
        sign(`${target.secret}x`, good),
        sign(target.secret, other),
        sign(target.secret, good, 'sha1'),
        (signature as string).slice(0, -2),
        `${signature}00`,
        `sha512=${(signature as string).slice(7)}`,
        'sha256=',
      ]);
      if (g.chance(0.3)) body = Buffer.concat([good, Buffer.from(' ')]);
      break;
    }
    case 'signed-mangled': {
      const text = good.toString();
      const mangled = g.pick([
        () => Buffer.from(text.slice(0, g.int(text.length))),
        () =>
          Buffer.concat([
            Buffer.from(text.slice(0, 20)),
            Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80]),
            Buffer.from(text.slice(20)),
          ]),
        () => Buffer.from(text.replace(`"number":${issue}`, `"number":"${issue}"`)),
        () => Buffer.from(text.replace(`"number":${issue}`, '"number":1e309')),
        () => Buffer.from(text.replace('"chaos-owner"', '"\\ud800"')),
        () => Buffer.from(`${'['.repeat(50_000)}${']'.repeat(50_000)}`),
        () => Buffer.from(text.replace('"labeled"', '"deleted"')),
        () => Buffer.from(JSON.stringify({ zen: 'ping', hook_id: 1 })),
        () => Buffer.from(text.replace(/"repository":\{[^}]*\}/, '"repository":null')),
        () => Buffer.from(text.replace('"do it"', JSON.stringify('z'.repeat(2_000_000)))),
        () => Buffer.from(''),
        () => Buffer.from(text.replace('"do it"', '"do\\u0000it"')),
      ])();
      body = mangled;
      signature = sign(target.secret, body);
      break;
    }
    case 'bad-headers': {
      const change = g.pick([
        () => delete headers['x-github-event'],
        () =>
          (headers['x-github-event'] = g.pick(['', 'nope', 'issues '.repeat(50), 'ping', 'issue_comment'])),
        () => delete headers['x-github-delivery'],
        () => (headers['x-github-delivery'] = g.pick(['', '../../x', 'd'.repeat(300), 'a b', '\u00e9'])),
        () => (headers['content-type'] = g.pick(['application/x-www-form-urlencoded', 'text/plain', ''])),
        () => (headers['x-hub-signature-256'] = 'h'.repeat(100_000)),
      ]);
      change();
      if (headers['content-type'] === '') delete headers['content-type'];
      break;
    }
  }
  if (signature !== undefined && headers['x-hub-signature-256'] === undefined)
    headers['x-hub-signature-256'] = signature;
  const mayQueue =
    kind === 'valid' || kind === 'replay' || kind === 'signed-mangled' || kind === 'bad-headers';
  return { kind, issue, mayQueue, headers, body };
}
