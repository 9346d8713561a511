// The outage proxy on a plain echo server: forwards, cuts live connections, refuses or black-holes, restores.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './index.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** A client connection that records what it receives and how it ended. */
function dial(host: string) {
  const [h, p] = host.split(':');
  const socket = netConnect(Number(p), h);
  const seen = { data: '', closed: false, error: null as string | null, connected: false };
  socket.on('connect', () => {
    seen.connected = true;
  });
  socket.on('data', (chunk) => {
    seen.data += chunk.toString();
  });
  socket.on('error', (e: NodeJS.ErrnoException) => {
    seen.error = e.code ?? e.message;
  });
  socket.on('close', () => {
    seen.closed = true;
  });
  return { socket, seen };
}

describe('tcp proxy', () => {
  let echo: Server;
  let echoed = 0;
  const sockets = new Set<Socket>();
  let proxy: TcpProxy;

  beforeAll(async () => {
    echo = createServer((s) => {
      echoed++;
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const address = echo.address();
    if (typeof address !== 'object' || address === null) throw new Error('no echo address');
    proxy = await startTcpProxy(`127.0.0.1:${address.port}`);
  });
  afterAll(async () => {
    await proxy.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => echo.close(r));
  });

  it('forwards both ways', async () => {
    const { socket, seen } = dial(proxy.host);
    socket.write('hello');
    await waitFor('the echo', () => seen.data === 'hello');
    expect(proxy.forwarding).toBe(1);
    socket.destroy();
    await waitFor('the pair to be dropped', () => proxy.forwarding === 0);
  });

  it('cut destroys live connections and refuses new ones; restore forwards again', async () => {
    const live = dial(proxy.host);
    live.socket.write('a');
    await waitFor('the echo', () => live.seen.data === 'a');

    proxy.cut('refuse');
    await waitFor('the live connection to be closed', () => live.seen.closed);
    expect(proxy.forwarding).toBe(0);

    const before = echoed;
    const refused = dial(proxy.host);
    refused.socket.write('lost');
    await waitFor('the new connection to be reset', () => refused.seen.closed);
    expect(refused.seen.data).toBe('');
    expect(echoed).toBe(before); // never reached the target

    proxy.restore();
    const again = dial(proxy.host);
    again.socket.write('back');
    await waitFor('the echo after restore', () => again.seen.data === 'back');
    again.socket.destroy();
  });

  it('black-holes new connections while cut; restore closes them so their clients dial again', async () => {
    proxy.cut('blackhole');
    const before = echoed;
    const accepted = proxy.accepted;
    const hole = dial(proxy.host);
    hole.socket.write('into the void');
    await waitFor('the connection to be held', () => proxy.accepted > accepted && proxy.blackholed === 1);
    expect(hole.seen.connected).toBe(true);
    expect(hole.seen.closed).toBe(false);
    expect(hole.seen.data).toBe('');
    expect(echoed).toBe(before);

    proxy.restore();
    await waitFor('the held connection to be closed', () => hole.seen.closed);
    expect(hole.seen.data).toBe('');
    const again = dial(proxy.host);
    again.socket.write('through');
    await waitFor('the echo after restore', () => again.seen.data === 'through');
    again.socket.destroy();
  });
});
