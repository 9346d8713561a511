// A local stand-in for the Compute Engine REST API (instances get/start/stop, zone operations), with
// realistic status changes and delays; its starts and stops can launch and stop a local agent.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VmStatus } from '../vm.js';

export interface StandinInstance {
  name: string;
  zone: string;
  status: VmStatus;
  machineType: string;
}

/** What one request asked for, as the stand-in understood it (tests count these). */
export interface StandinRequest {
  method: string;
  action: 'get' | 'start' | 'stop' | 'operation.get' | 'operation.wait' | 'unknown';
  instance: string | null;
  requestId: string | null;
}

/** A failure the next matching request gets, as Google's APIs answer: `{error: {code, message, errors}}`. */
export interface StandinFault {
  action: StandinRequest['action'];
  code: number;
  message: string;
  reason?: string;
}

export interface ComputeStandinOptions {
  project: string;
  instances: Array<Omit<StandinInstance, 'status' | 'machineType'> & Partial<StandinInstance>>;
  /** TERMINATED → STAGING → RUNNING: time in STAGING (Compute takes a few seconds; tests shorten it). */
  stagingMs?: number;
  /** STOPPING → TERMINATED. */
  stoppingMs?: number;
  /** Called when an instance reaches RUNNING (the local stack launches its agent here). */
  onRunning?: (instance: StandinInstance) => void | Promise<void>;
  /** Called when an instance starts STOPPING (the local stack stops its agent here). */
  onStopping?: (instance: StandinInstance) => void | Promise<void>;
}

export interface ComputeStandin {
  /** http://127.0.0.1:<port>, for COMPUTE_API_URL. */
  url: string;
  instance(name: string): StandinInstance | undefined;
  /** Sets a status directly (a test's starting point). */
  setStatus(name: string, status: VmStatus): void;
  requests: StandinRequest[];
  /** The next request of `fault.action` fails with it (once). */
  failNext(fault: StandinFault): void;
  close(): Promise<void>;
}

interface Operation {
  name: string;
  operationType: 'start' | 'stop';
  instance: string;
  zone: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  insertTime: string;
  endTime?: string;
}

const BASE = 'https://www.googleapis.com/compute/v1';

export async function startComputeStandin(options: ComputeStandinOptions): Promise<ComputeStandin> {
  const stagingMs = options.stagingMs ?? 2_000;
  const stoppingMs = options.stoppingMs ?? 2_000;
  const instances = new Map<string, StandinInstance>();
  for (const i of options.instances)
    instances.set(i.name, { status: 'TERMINATED', machineType: 'e2-medium', ...i });
  const operations = new Map<string, Operation>();
  const byRequestId = new Map<string, Operation>();
  const faults: StandinFault[] = [];
  const requests: StandinRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const instanceJson = (i: StandinInstance) => ({
    kind: 'compute#instance',
    id: String(Math.abs(hash(i.name))),
    name: i.name,
    status: i.status,
    zone: `${BASE}/projects/${options.project}/zones/${i.zone}`,
    machineType: `${BASE}/projects/${options.project}/zones/${i.zone}/machineTypes/${i.machineType}`,
    selfLink: `${BASE}/projects/${options.project}/zones/${i.zone}/instances/${i.name}`,
  });
  const operationJson = (op: Operation) => ({
    kind: 'compute#operation',
    id: String(Math.abs(hash(op.name))),
    name: op.name,
    operationType: op.operationType,
    status: op.status,
    progress: op.status === 'DONE' ? 100 : 0,
    targetLink: `${BASE}/projects/${options.project}/zones/${op.zone}/instances/${op.instance}`,
    zone: `${BASE}/projects/${options.project}/zones/${op.zone}`,
    insertTime: op.insertTime,
    ...(op.endTime ? { endTime: op.endTime } : {}),
    selfLink: `${BASE}/projects/${options.project}/zones/${op.zone}/operations/${op.name}`,
  });

  const newOperation = (type: Operation['operationType'], i: StandinInstance): Operation => {
    const op: Operation = {
      name: `operation-${Date.now()}-${randomBytes(6).toString('hex')}`,
      operationType: type,
      instance: i.name,
      zone: i.zone,
      status: 'RUNNING',
      insertTime: new Date().toISOString(),
    };
    operations.set(op.name, op);
    return op;
  };
  const finish = (op: Operation) => {
    op.status = 'DONE';
    op.endTime = new Date().toISOString();
  };

  const start = (i: StandinInstance): Operation => {
    const op = newOperation('start', i);
    if (i.status === 'RUNNING' || i.status === 'STAGING' || i.status === 'PROVISIONING') {
      finish(op); // starting a running instance is a no-op that succeeds
      return op;
    }
    i.status = 'STAGING';
    later(stagingMs, () => {
      if (i.status !== 'STAGING') return;
      i.status = 'RUNNING';
      finish(op);
      void options.onRunning?.(i);
    });
    return op;
  };
  const stop = (i: StandinInstance): Operation => {
    const op = newOperation('stop', i);
    if (i.status === 'TERMINATED' || i.status === 'STOPPED') {
      finish(op);
      return op;
    }
    i.status = 'STOPPING';
    void options.onStopping?.(i);
    later(stoppingMs, () => {
      if (i.status !== 'STOPPING') return;
      i.status = 'TERMINATED';
      finish(op);
    });
    return op;
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(body));
  };
  const googleError = (res: ServerResponse, code: number, message: string, reason: string) =>
    send(res, code, { error: { code, message, errors: [{ message, domain: 'global', reason }] } });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    for await (const _ of req) {
      // the body of start/stop is empty; read it so the connection stays usable
    }
    const url = new URL(req.url ?? '/', 'http://standin');
    const m = url.pathname.match(
      /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/(instances|operations)\/([^/]+)(?:\/(start|stop|wait))?$/,
    );
    const request: StandinRequest = {
      method: req.method ?? 'GET',
      action: 'unknown',
      instance: null,
      requestId: url.searchParams.get('requestId'),
    };
    requests.push(request);
    if (!m || m[1] !== options.project)
      return googleError(res, 404, `The resource '${url.pathname}' was not found`, 'notFound');
    const [, , zone, kind, id = '', verb] = m;
    if (kind === 'operations') {
      request.action = verb === 'wait' ? 'operation.wait' : 'operation.get';
    } else {
      request.action = verb === 'start' ? 'start' : verb === 'stop' ? 'stop' : 'get';
      request.instance = id;
    }
    const faultAt = faults.findIndex((f) => f.action === request.action);
    if (faultAt >= 0) {
      const [fault] = faults.splice(faultAt, 1);
      if (fault) return googleError(res, fault.code, fault.message, fault.reason ?? 'backendError');
    }
    if (kind === 'operations') {
      const op = operations.get(id);
      if (!op || op.zone !== zone)
        return googleError(res, 404, `The resource 'operations/${id}' was not found`, 'notFound');
      return send(res, 200, operationJson(op));
    }
    const instance = instances.get(id);
    if (!instance || instance.zone !== zone)
      return googleError(
        res,
        404,
        `The resource 'projects/${options.project}/zones/${zone}/instances/${id}' was not found`,
        'notFound',
      );
    if (request.action === 'get') return send(res, 200, instanceJson(instance));
    if (req.method !== 'POST') return googleError(res, 405, 'Method not allowed', 'httpMethodNotAllowed');
    // Compute's own idempotency: a repeated requestId is the same operation, done once.
    const repeated = request.requestId ? byRequestId.get(request.requestId) : undefined;
    if (repeated) return send(res, 200, operationJson(repeated));
    if (request.action === 'start' && (instance.status === 'STOPPING' || instance.status === 'SUSPENDING'))
      return googleError(
        res,
        400,
        `The resource 'projects/${options.project}/zones/${zone}/instances/${id}' is not ready`,
        'resourceNotReady',
      );
    const op = request.action === 'start' ? start(instance) : stop(instance);
    if (request.requestId) byRequestId.set(request.requestId, op);
    return send(res, 200, operationJson(op));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => googleError(res, 500, String(error), 'backendError'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    instance: (name) => instances.get(name),
    setStatus(name, status) {
      const i = instances.get(name);
      if (i) i.status = status;
    },
    requests,
    failNext: (fault) => void faults.push(fault),
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + (c.codePointAt(0) ?? 0)) | 0;
  return h;
}
