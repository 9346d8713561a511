// Test helpers: the documented webhook payloads re-signed with a test secret, and a stand-in for api.github.com
// (with a GitHub App's endpoints: installation lookups, and installation tokens it checks and then accepts).
import {
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  verify,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import { sign } from '@octokit/webhooks-methods';

export const SECRET = 'test-webhook-secret';

// The package is the JSON file GitHub's documented examples are published as.
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];

// biome-ignore lint/suspicious/noExplicitAny: tests edit the documented payloads freely.
type Payload = Record<string, any>;

/** A deep copy of the first documented example of an event (and action). */
export function example(event: string, action?: string): Payload {
  const definition = examples.find((d) => d.name === event);
  const found = (definition?.examples as Array<Record<string, unknown>> | undefined)?.find(
    (e) => action === undefined || e.action === action,
  );
  if (!found) throw new Error(`no documented example for ${event}${action ? `.${action}` : ''}`);
  return structuredClone(found) as Payload;
}

export interface Delivery {
  event: string;
  payload: unknown;
  deliveryId?: string;
  /** Sign with this secret; null sends no signature header; a string starting "sha256=" is sent as is. */
  secret?: string | null;
  signature?: string;
}

export async function deliveryRequest(
  d: Delivery,
): Promise<{ headers: Record<string, string>; body: string }> {
  const body = JSON.stringify(d.payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': d.event,
    'x-github-delivery': d.deliveryId ?? randomUUID(),
    'user-agent': 'GitHub-Hookshot/test',
  };
  const secret = d.secret === undefined ? SECRET : d.secret;
  if (d.signature !== undefined) headers['x-hub-signature-256'] = d.signature;
  else if (secret !== null) headers['x-hub-signature-256'] = await sign(secret, body);
  return { headers, body };
}

/** Sends a delivery through app.request(). */
export async function deliver(
  app: { request(path: string, init: RequestInit): Response | Promise<Response> },
  d: Delivery,
): Promise<Response> {
  const { headers, body } = await deliveryRequest(d);
  return app.request('/', { method: 'POST', headers, body });
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Payload | null;
}

/** A test's own answer to a request; undefined falls back to `status`. */
export type Responder = (request: RecordedRequest) => { status: number; body: unknown } | undefined;

/** One installation of the stand-in App: its account and the repositories it covers. */
export interface FakeInstallation {
  id: number;
  account: string;
  /** `all`, or the `owner/name` of each repository it covers. */
  repositories: 'all' | string[];
  /** What the account granted; a token asking for more is refused, as GitHub refuses it. */
  permissions: Record<string, 'read' | 'write'>;
}

/** The stand-in's GitHub App: the key pair made in the test, and where it is installed. */
export interface FakeApp {
  appId: string;
  /** PKCS#1 PEM, as GitHub hands out an App's private key. */
  privateKey: string;
  publicKey: KeyObject;
  installations: FakeInstallation[];
}

/** A GitHub App with a fresh 2048-bit RSA key pair (node:crypto), installed as given. */
export function fakeApp(appId: string, installations: FakeInstallation[]): FakeApp {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { appId, privateKey, publicKey: createPublicKey(publicKey), installations };
}

/** An installation token the stand-in handed out, and what it was limited to. */
export interface MintedToken {
  token: string;
  installationId: number;
  /** The repository names the request asked for (`repositories`), or null when it asked for none. */
  repositories: string[] | null;
  permissions: Record<string, string> | null;
  /** The verified JWT's claims. */
  claims: { iss: unknown; iat: number; exp: number };
  expiresAt: number;
}

const base64url = (text: string) => Buffer.from(text, 'base64url');

/**
 * Checks a GitHub App JWT as GitHub does: RS256 over header.payload with the App's public key, `iss` the
 * App's id, issued no later than a minute from now, not expired, and at most 10 minutes long.
 */
function verifyAppJwt(app: FakeApp, authorization: string | undefined): MintedToken['claims'] | string {
  const jwt = /^bearer (.+)$/i.exec(authorization ?? '')?.[1];
  if (!jwt) return 'expected Authorization: Bearer <JWT>';
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  let claims: MintedToken['claims'];
  try {
    if (JSON.parse(base64url(header).toString()).alg !== 'RS256') return 'expected alg RS256';
    claims = JSON.parse(base64url(payload).toString());
  } catch {
    return 'A JSON web token could not be decoded';
  }
  const signed = verify(
    'RSA-SHA256',
    Buffer.from(`${header}.${payload}`),
    app.publicKey,
    base64url(signature),
  );
  if (!signed) return 'A JSON web token could not be decoded';
  const now = Math.floor(Date.now() / 1000);
  if (String(claims.iss) !== app.appId) return `'Issuer' claim ('iss') must be the App id ${app.appId}`;
  if (!(claims.exp > now)) return "'Expiration time' claim ('exp') is in the past";
  if (!(claims.iat <= now + 60)) return "'Issued at' claim ('iat') is in the future";
  if (claims.exp - claims.iat > 600) return "'Expiration time' claim ('exp') is too far in the future";
  return claims;
}

const LEVEL: Record<string, number> = { read: 1, write: 2 };
const coversRepo = (installation: FakeInstallation, repo: string) =>
  installation.repositories === 'all'
    ? repo.split('/')[0]?.toLowerCase() === installation.account.toLowerCase()
    : installation.repositories.some((r) => r.toLowerCase() === repo.toLowerCase());

interface FakeState {
  requests: RecordedRequest[];
  status: number;
  respond: Responder | null;
  app: FakeApp | null;
  tokens: MintedToken[];
}

/** The App's own endpoints; null when the request is not one of them. */
function appAnswer(state: FakeState, request: RecordedRequest): { status: number; body: unknown } | null {
  const app = state.app;
  const mint = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(request.path);
  const lookup = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(request.path);
  if (!app || !((mint && request.method === 'POST') || (lookup && request.method === 'GET'))) return null;
  const claims = verifyAppJwt(app, request.authorization);
  if (typeof claims === 'string') return { status: 401, body: { message: claims } };
  if (lookup) {
    const repo = `${lookup[1]}/${lookup[2]}`;
    const found = app.installations.find((i) => coversRepo(i, repo));
    if (!found) return { status: 404, body: { message: 'Not Found' } };
    return {
      status: 200,
      body: { id: found.id, account: { login: found.account }, app_id: Number(app.appId) },
    };
  }
  const installation = app.installations.find((i) => i.id === Number(mint?.[1]));
  if (!installation) return { status: 404, body: { message: 'Not Found' } };
  const asked = (request.body?.repositories as string[] | undefined) ?? null;
  for (const name of asked ?? []) {
    if (!coversRepo(installation, `${installation.account}/${name}`)) {
      return {
        status: 422,
        body: {
          message: `There is at least one repository that does not exist or is not accessible to the parent installation: ${name}`,
        },
      };
    }
  }
  const permissions = (request.body?.permissions as Record<string, string> | undefined) ?? null;
  for (const [name, level] of Object.entries(permissions ?? {})) {
    if ((LEVEL[installation.permissions[name] ?? ''] ?? 0) < (LEVEL[level] ?? 3)) {
      return {
        status: 422,
        body: { message: `The permissions requested are not granted to this installation: ${name}` },
      };
    }
  }
  const expiresAt = Date.now() + 60 * 60_000;
  const token = `ghs_${randomBytes(18).toString('hex')}`;
  state.tokens.push({
    token,
    installationId: installation.id,
    repositories: asked,
    permissions,
    claims,
    expiresAt,
  });
  return {
    status: 201,
    body: {
      token,
      expires_at: new Date(expiresAt).toISOString(),
      permissions: permissions ?? installation.permissions,
      repository_selection: asked ? 'selected' : installation.repositories === 'all' ? 'all' : 'selected',
      ...(asked
        ? {
            repositories: asked.map((name, i) => ({
              id: 1000 + i,
              name,
              full_name: `${installation.account}/${name}`,
            })),
          }
        : {}),
    },
  };
}

/**
 * An installation token on any other call must be one the stand-in handed out, unexpired, and limited to
 * the repository of the path (GitHub answers 404 for a repository the token cannot see), and carry
 * checks or actions for check runs or Actions jobs (403 without, as GitHub answers). Other
 * credentials (GITHUB_TOKEN in the tests) pass unchecked.
 */
function tokenRefusal(state: FakeState, request: RecordedRequest): { status: number; body: unknown } | null {
  const token = /^token (ghs_.+)$/.exec(request.authorization ?? '')?.[1];
  if (!token) return null;
  const minted = state.tokens.find((t) => t.token === token);
  if (!minted || minted.expiresAt <= Date.now()) return { status: 401, body: { message: 'Bad credentials' } };
  const repo = /^\/repos\/[^/]+\/([^/?]+)/.exec(request.path)?.[1];
  if (
    repo &&
    minted.repositories &&
    !minted.repositories.some((r) => r.toLowerCase() === repo.toLowerCase())
  ) {
    return { status: 404, body: { message: 'Not Found' } };
  }
  // Check runs and Actions jobs need their own permission in the token, as GitHub answers without it.
  const needs = /\/check-runs(\?|$)/.test(request.path)
    ? 'checks'
    : /^\/repos\/[^/]+\/[^/]+\/actions\//.test(request.path)
      ? 'actions'
      : null;
  if (needs && minted.permissions && !minted.permissions[needs]) {
    return { status: 403, body: { message: 'Resource not accessible by integration' } };
  }
  return null;
}

/**
 * A local HTTP server standing in for api.github.com; answers every request with `status`, unless the
 * test's `respond` answers it (e.g. a pull request as GitHub describes it). With `app` set it also serves
 * that App's installation lookups and tokens, and checks the installation tokens it is sent.
 */
export async function fakeGithub(): Promise<{
  url: string;
  requests: RecordedRequest[];
  status: number;
  respond: Responder | null;
  app: FakeApp | null;
  /** The installation tokens handed out. */
  tokens: MintedToken[];
  close(): Promise<void>;
}> {
  const state: FakeState = { requests: [], status: 201, respond: null, app: null, tokens: [] };
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let data = '';
      req.on('data', (chunk) => {
        data += chunk;
      });
      req.on('end', () => resolve(data));
    });
  const server: Server = createServer(async (req, res) => {
    const text = await read(req);
    const request: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      body: text ? JSON.parse(text) : null,
    };
    state.requests.push(request);
    const answer = appAnswer(state, request) ??
      tokenRefusal(state, request) ??
      state.respond?.(request) ?? {
        status: state.status,
        body: state.status < 300 ? { id: state.requests.length } : { message: 'Server Error' },
      };
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: state.requests,
    tokens: state.tokens,
    get status() {
      return state.status;
    },
    set status(value: number) {
      state.status = value;
    },
    get respond() {
      return state.respond;
    },
    set respond(value: Responder | null) {
      state.respond = value;
    },
    get app() {
      return state.app;
    },
    set app(value: FakeApp | null) {
      state.app = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
