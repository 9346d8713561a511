// A loopback TCP proxy for outage tests: forwards to a target (an emulator) until cut, then drops or black-holes.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

/**
 * How new connections are treated while the proxy is cut:
 * - `refuse`: accepted and reset at once (the client sees ECONNRESET, as from a refused or dropped link;
 *   the listening port is kept, so nothing else can take it before `restore()`);
 * - `blackhole`: accepted and never answered (a network partition: calls hang until their deadline).
 */
export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxy {
  /** `127.0.0.1:<port>`, to give a client in place of the target. */
  readonly host: string;
  readonly port: number;
  readonly target: string;
  /** Whether the proxy is cut, and how. */
  readonly cutMode: CutMode | null;
  /** Connections being forwarded now. */
  readonly forwarding: number;
  /** Connections accepted while black-holed and held open, unanswered. */
  readonly blackholed: number;
  /** Connections accepted since start (forwarded, refused or black-holed). */
  readonly accepted: number;
  /** Destroys every live connection and treats new ones by `mode` until `restore()`. */
  cut(mode?: CutMode): void;
  /** Forwards again; black-holed connections are closed, so their clients dial again and get through. */
  restore(): void;
  close(): Promise<void>;
}

function splitHost(target: string): { host: string; port: number } {
  const i = target.lastIndexOf(':');
  const port = Number(target.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0) throw new Error(`not host:port: ${target}`);
  return { host: target.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port };
}

/** Starts a proxy on 127.0.0.1 (a free port) forwarding to `target` (`host:port`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const upstream = splitHost(target);
  const pairs = new Set<[Socket, Socket]>();
  const held = new Set<Socket>();
  let mode: CutMode | null = null;
  let accepted = 0;

  const forward = (client: Socket) => {
    const server = netConnect(upstream.port, upstream.host);
    const pair: [Socket, Socket] = [client, server];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    // Either side ending or failing ends both: the proxy never keeps half a connection.
    for (const s of pair) {
      s.on('error', drop);
      s.on('close', drop);
    }
    client.pipe(server);
    server.pipe(client);
  };

  const listener: Server = createServer((client) => {
    accepted++;
    client.setNoDelay(true);
    if (mode === 'refuse') {
      client.on('error', () => {});
      client.resetAndDestroy();
    } else if (mode === 'blackhole') {
      // Read nothing, answer nothing: the client's bytes stay in the kernel's buffers.
      client.pause();
      held.add(client);
      client.on('error', () => {});
      client.on('close', () => held.delete(client));
    } else {
      forward(client);
    }
  });

  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const address = listener.address();
  if (typeof address !== 'object' || address === null) throw new Error('tcp proxy: no address');
  const port = address.port;

  const dropAll = () => {
    for (const [client, server] of [...pairs]) {
      // A reset, not a polite FIN: what a client sees when the link to its server is gone.
      client.resetAndDestroy();
      server.destroy();
    }
    pairs.clear();
  };
  const releaseHeld = () => {
    for (const s of [...held]) s.resetAndDestroy();
    held.clear();
  };

  return {
    host: `127.0.0.1:${port}`,
    port,
    target,
    get cutMode() {
      return mode;
    },
    get forwarding() {
      return pairs.size;
    },
    get blackholed() {
      return held.size;
    },
    get accepted() {
      return accepted;
    },
    cut(how: CutMode = 'blackhole') {
      mode = how;
      dropAll();
      if (how === 'refuse') releaseHeld();
    },
    restore() {
      mode = null;
      releaseHeld();
    },
    async close() {
      mode = 'refuse';
      dropAll();
      releaseHeld();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
