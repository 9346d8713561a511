// A stand-in of the metadata server's token endpoint and Secret Manager's `versions/*:access`, speaking their REST wire format (base64 payload.data).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretManagerStandin {
  /** `127.0.0.1:<port>`, for GCE_METADATA_HOST. */
  metadataHost: string;
  /** `http://127.0.0.1:<port>`, for SECRET_MANAGER_API_URL. */
  apiUrl: string;
  /** Adds a version (enabled) to `projects/<project>/secrets/<secret>`; returns its number. */
  addVersion(project: string, secret: string, data: string): number;
  /** Disables a version, as `gcloud secrets versions disable` does. */
  disable(project: string, secret: string, version: number): void;
  /** Creates a secret with no version (what terraform makes). */
  createSecret(project: string, secret: string): void;
  /** Requests answered: `token` (metadata) or the secret version's name, with the status. */
  requests: { what: string; status: number }[];
  close(): Promise<void>;
}

export async function startSecretManagerStandin(): Promise<SecretManagerStandin> {
  const secrets = new Map<string, { data: string; enabled: boolean }[]>();
  const tokens = new Set<string>();
  const requests: SecretManagerStandin['requests'] = [];
  const error = (code: number, status: string, message: string) => ({ error: { code, message, status } });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (what: string, status: number, body: unknown) => {
      requests.push({ what, status });
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
      if (req.headers['metadata-flavor'] !== 'Google')
        return send('token', 403, 'Missing Metadata-Flavor header');
      const token = `ya29.${randomBytes(16).toString('hex')}`;
      tokens.add(token);
      return send('token', 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    const access = /^\/v1\/(projects\/([^/]+)\/secrets\/([^/]+))\/versions\/(latest|\d+):access$/.exec(path);
    if (req.method === 'GET' && access) {
      const [, secretName, , , version] = access as unknown as [string, string, string, string, string];
      const name = `${secretName}/versions/${version}`;
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (bearer === undefined || !tokens.has(bearer))
        return send(
          name,
          401,
          error(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
        );
      const versions = secrets.get(secretName);
      if (versions === undefined)
        return send(
          name,
          404,
          error(404, 'NOT_FOUND', `Secret [${secretName}] not found or has no versions.`),
        );
      const number =
        version === 'latest'
          ? versions.reduce((found, v, i) => (v.enabled ? i + 1 : found), 0)
          : Number(version);
      const found = versions[number - 1];
      if (number === 0 || found === undefined)
        return send(
          name,
          404,
          error(404, 'NOT_FOUND', `Secret [${secretName}] not found or has no versions.`),
        );
      if (!found.enabled)
        return send(
          name,
          400,
          error(400, 'FAILED_PRECONDITION', `${secretName}/versions/${number} is in DISABLED state.`),
        );
      return send(name, 200, {
        name: `${secretName}/versions/${number}`,
        payload: { data: Buffer.from(found.data).toString('base64') },
      });
    }
    return send(path, 404, error(404, 'NOT_FOUND', 'Not found'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const key = (project: string, secret: string) => `projects/${project}/secrets/${secret}`;
  return {
    metadataHost: `127.0.0.1:${port}`,
    apiUrl: `http://127.0.0.1:${port}`,
    requests,
    createSecret(project, secret) {
      if (!secrets.has(key(project, secret))) secrets.set(key(project, secret), []);
    },
    addVersion(project, secret, data) {
      const list = secrets.get(key(project, secret)) ?? [];
      list.push({ data, enabled: true });
      secrets.set(key(project, secret), list);
      return list.length;
    },
    disable(project, secret, version) {
      const v = secrets.get(key(project, secret))?.[version - 1];
      if (v) v.enabled = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
