// A private git server for tests and `npm start`: git's own http-backend (CGI) behind a Node HTTP server on loopback that demands HTTP Basic auth.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rename } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createSeededOrigin } from './git-fixture.js';

/** Where git keeps its CGI program on Debian (and most Linux systems). */
export const GIT_HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';

/** Whom the server lets in: the Basic user and password, and the repository path asked for (`owner/repo.git`). */
export type GitAccessCheck = (user: string, password: string, repoPath: string) => boolean;

export interface GitHttpRequest {
  method: string;
  path: string;
  /** The Basic user name sent, null without credentials. */
  user: string | null;
  /** The password sent (the tests look for where the token went), null without credentials. */
  password: string | null;
  status: number;
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The folder whose `<owner>/<repo>.git` bare repositories it serves. */
  root: string;
  /** Every request answered, oldest first. */
  requests: GitHttpRequest[];
  /** A bare repository `<owner>/<name>.git` seeded like createSeededOrigin's; returns its URL and path. */
  createRepo(owner: string, name: string): Promise<{ url: string; path: string }>;
  close(): Promise<void>;
}

/** The repository path of a request: the part before git's own `/info/refs` or `/git-*-pack`. */
function repoPathOf(path: string): string {
  return path
    .replace(/^\/+/, '')
    .replace(/\/(info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.*)$/, '');
}

function basicAuthOf(req: IncomingMessage): { user: string; password: string } | null {
  const header = req.headers.authorization ?? '';
  const match = /^Basic\s+(.+)$/i.exec(header);
  if (match === null) return null;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Serves `root` (one folder per owner) over git's smart HTTP protocol through `git http-backend`; every
 * request, fetch and push alike, must carry Basic credentials that `check` accepts (else 401 with a
 * Basic challenge, as GitHub answers for a private repository).
 */
export async function startGitHttpServer(options: {
  root: string;
  check: GitAccessCheck;
  /** 0 (the default): any free port. */
  port?: number;
}): Promise<GitHttpServer> {
  const requests: GitHttpRequest[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const auth = basicAuthOf(req);
    const record = (status: number) =>
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        user: auth?.user ?? null,
        password: auth?.password ?? null,
        status,
      });
    if (auth === null || !options.check(auth.user, auth.password, repoPathOf(url.pathname))) {
      record(401);
      req.resume();
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="nightshift test git"',
        'Content-Type': 'text/plain',
      });
      res.end('authentication required\n');
      return;
    }
    const cgi = spawn(GIT_HTTP_BACKEND, [], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROJECT_ROOT: options.root,
        GIT_HTTP_EXPORT_ALL: '1',
        // http-backend allows receive-pack only to an authenticated user.
        REMOTE_USER: auth.user,
        REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding']
          ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }
          : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    let status = 200;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers[name] = value;
      }
      record(status);
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => {
      if (!headersDone) {
        record(500);
        res.writeHead(500).end('git http-backend gave no answer\n');
      } else res.end();
    });
    cgi.on('error', () => {
      if (!res.headersSent) res.writeHead(500).end(`cannot run ${GIT_HTTP_BACKEND}\n`);
    });
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    root: options.root,
    requests,
    async createRepo(owner, name) {
      // createSeededOrigin makes `<root>/origins/<name>.git`; the seed lives beside the served folders.
      const seeded = await createSeededOrigin(join(options.root, '.seeds', owner), name);
      const path = join(options.root, owner, `${name}.git`);
      await mkdir(join(options.root, owner), { recursive: true });
      await rename(seeded, path);
      return { url: `${url}/${owner}/${name}.git`, path };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A random token of the shape people paste (for the fixtures; never a real credential). */
export const randomToken = (prefix = 'nstest_'): string => `${prefix}${randomBytes(20).toString('hex')}`;
