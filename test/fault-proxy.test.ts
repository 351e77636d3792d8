/**
 * The fault proxy (test/support/fault-proxy.ts) against real servers on 127.0.0.1: each fault
 * does what it says, per connection, and nothing else — a chaos test is only as good as its faults.
 */
import { randomBytes } from 'node:crypto';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  request as httpRequest,
} from 'node:http';
import { type AddressInfo, createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy, slowLoris } from './support/fault-proxy.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface EchoServer {
  readonly port: number;
  /** Sizes of the chunks the server read, in order. */
  readonly chunkSizes: number[];
  /** Whether each connection's request side ended (FIN from the client). */
  readonly ended: boolean[];
  readonly accepted: () => number;
}

/** Echoes what it reads; when the client half-closes, writes "bye" and ends its side too. */
async function echoServer(): Promise<EchoServer> {
  const chunkSizes: number[] = [];
  const ended: boolean[] = [];
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const index = accepted++;
    ended[index] = false;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      chunkSizes.push(chunk.length);
      socket.write(chunk);
    });
    socket.on('end', () => {
      ended[index] = true;
      socket.end('bye');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, chunkSizes, ended, accepted: () => accepted };
}

interface HttpOrigin {
  readonly port: number;
  /** Requests whose head the server read. */
  readonly requests: () => number;
}

/** Answers every request with `bodyBytes` bytes (written at once) after reading its body. */
async function httpOrigin(bodyBytes: number, options: { headersTimeout?: number } = {}): Promise<HttpOrigin> {
  let requests = 0;
  const timeouts =
    options.headersTimeout === undefined
      ? {}
      : {
          headersTimeout: options.headersTimeout,
          requestTimeout: options.headersTimeout,
          // Node enforces both timeouts at this interval (30 s by default).
          connectionsCheckingInterval: 50,
        };
  const server: HttpServer = createHttpServer(timeouts, (request, response) => {
    requests += 1;
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-length': bodyBytes });
      response.end(Buffer.alloc(bodyBytes, 0x61));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, requests: () => requests };
}

async function startProxy(...args: Parameters<typeof FaultProxy.start>): Promise<FaultProxy> {
  const proxy = await FaultProxy.start(...args);
  cleanups.push(() => proxy.close());
  return proxy;
}

/** A raw client: connects, and collects what arrives until the server ends or resets. */
function connectRaw(port: number): {
  readonly socket: Socket;
  readonly received: () => Buffer;
  readonly outcome: Promise<'end' | 'reset' | 'close'>;
} {
  const socket = new Socket({ allowHalfOpen: true });
  const chunks: Buffer[] = [];
  const outcome = new Promise<'end' | 'reset' | 'close'>((resolve) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve('end'));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ECONNRESET' ? 'reset' : 'close'),
    );
    socket.on('close', () => resolve('close'));
  });
  socket.connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  return { socket, received: () => Buffer.concat(chunks), outcome };
}

interface HttpOutcome {
  readonly status?: number;
  readonly bodyBytes: number;
  readonly error?: string;
  readonly elapsedMs: number;
}

/** One GET through node:http (no agent reuse); never rejects. */
function get(port: number, timeoutMs = 3_000): Promise<HttpOutcome> {
  const startedAtMs = performance.now();
  return new Promise((resolve) => {
    let status: number | undefined;
    let bodyBytes = 0;
    const done = (error?: string) =>
      resolve({
        ...(status === undefined ? {} : { status }),
        bodyBytes,
        ...(error === undefined ? {} : { error }),
        elapsedMs: performance.now() - startedAtMs,
      });
    const request = httpRequest(
      { host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs },
      (response) => {
        status = response.statusCode;
        response.on('data', (chunk: Buffer) => {
          bodyBytes += chunk.length;
        });
        response.on('end', () => done());
        response.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    request.end();
  });
}

describe('fault proxy: pass-through', () => {
  it('relays bytes unchanged both ways and carries a half-close (FIN) one way only', async () => {
    const echo = await echoServer();
    const proxy = await startProxy({ targetPort: echo.port });
    const payload = randomBytes(256 * 1024);
    const client = connectRaw(proxy.port);
    client.socket.end(payload); // data, then FIN: the server's side stays open and answers "bye"

    expect(await client.outcome).toBe('end');
    expect(client.received().equals(Buffer.concat([payload, Buffer.from('bye')]))).toBe(true);
    expect(echo.ended).toEqual([true]);
    const [connection] = proxy.connections;
    expect(connection?.bytesUpstream).toBe(payload.length);
    expect(connection?.bytesDownstream).toBe(payload.length + 3);
    await connection?.closed;
  });

  it('slices writes so the server reads chunks no larger than the slice', async () => {
    const echo = await echoServer();
    const proxy = await startProxy({ targetPort: echo.port, plan: { upstream: { sliceBytes: 7 } } });
    const client = connectRaw(proxy.port);
    client.socket.end(Buffer.alloc(100, 1));
    await client.outcome;
    expect(echo.chunkSizes.reduce((sum, size) => sum + size, 0)).toBe(100);
    // Slices leave 1 ms apart; a reader that falls behind may read several at once, but every
    // read ends on a slice boundary (a multiple of 7 bytes, or the short last slice).
    expect(echo.chunkSizes.length).toBeGreaterThanOrEqual(3);
    let offset = 0;
    for (const size of echo.chunkSizes) {
      offset += size;
      expect(offset % 7 === 0 || offset === 100).toBe(true);
    }
  });
});

describe('fault proxy: latency and bandwidth', () => {
  it('adds latency each way, with seeded jitter, and keeps byte order', async () => {
    const echo = await echoServer();
    const proxy = await startProxy({
      targetPort: echo.port,
      plan: { upstream: { latencyMs: 60, jitterMs: 20 }, downstream: { latencyMs: 60 } },
      seed: 42,
    });
    const client = connectRaw(proxy.port);
    const startedAtMs = performance.now();
    const pieces = Array.from({ length: 20 }, (_, index) => Buffer.from(`${index};`));
    for (const piece of pieces) client.socket.write(piece);
    client.socket.end();
    await client.outcome;
    const elapsedMs = performance.now() - startedAtMs;
    expect(client.received().toString()).toBe(`${pieces.join('')}bye`);
    expect(elapsedMs).toBeGreaterThanOrEqual(120); // one way up, one way down
    expect(elapsedMs).toBeLessThan(2_000);
  });

  it('holds a direction to its bandwidth: 24 KiB at 64 KiB/s takes at least ~375 ms', async () => {
    const origin = await httpOrigin(24 * 1024);
    const proxy = await startProxy({
      targetPort: origin.port,
      plan: { downstream: { bytesPerSecond: 64 * 1024 } },
    });
    const outcome = await get(proxy.port);
    expect(outcome.status).toBe(200);
    expect(outcome.bodyBytes).toBe(24 * 1024);
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(340);
    expect(outcome.elapsedMs).toBeLessThan(3_000);
  });
});

describe('fault proxy: resets', () => {
  it('resets before the response started: the server got the request, the client no status', async () => {
    const origin = await httpOrigin(10);
    const proxy = await startProxy({
      targetPort: origin.port,
      plan: { downstream: { limit: { bytes: 0, action: 'reset' } } },
    });
    const outcome = await get(proxy.port);
    expect(outcome.status).toBeUndefined();
    expect(outcome.error).toBe('ECONNRESET');
    expect(origin.requests()).toBe(1);
    expect(proxy.connections[0]?.isReset).toBe(true);
    expect(proxy.connections[0]?.bytesDownstream).toBe(0);
  });

  it('resets after the response started: the client has a status, then its body breaks', async () => {
    const origin = await httpOrigin(64 * 1024);
    const proxy = await startProxy({
      targetPort: origin.port,
      plan: { downstream: { limit: { bytes: 1_000, action: 'reset' } } },
    });
    const outcome = await get(proxy.port);
    expect(outcome.status).toBe(200);
    expect(outcome.error).toMatch(/ECONNRESET|aborted/);
    expect(outcome.bodyBytes).toBeLessThan(1_000);
    expect(proxy.connections[0]?.bytesDownstream).toBe(1_000);
  });

  it('resets only the connection the plan picks, by index', async () => {
    const origin = await httpOrigin(10);
    const proxy = await startProxy({
      targetPort: origin.port,
      plan: (index) => (index === 1 ? { resetOnAccept: true } : {}),
    });
    const outcomes = [await get(proxy.port), await get(proxy.port), await get(proxy.port)];
    expect(outcomes.map((outcome) => outcome.status ?? outcome.error)).toEqual([200, 'ECONNRESET', 200]);
    expect(origin.requests()).toBe(2);
  });

  it('resets a live connection on demand, and the server sees it too', async () => {
    const echo = await echoServer();
    const proxy = await startProxy({ targetPort: echo.port });
    const accepted = proxy.nextConnection();
    const client = connectRaw(proxy.port);
    client.socket.write('hello');
    const connection = await accepted;
    await waitFor(() => connection.bytesDownstream === 5);
    connection.reset();
    expect(await client.outcome).toBe('reset');
    await connection.closed;
    expect(connection.isClosed).toBe(true);
  });
});

describe('fault proxy: black holes and half-closes', () => {
  it('a black hole accepts and never answers, and never dials the server', async () => {
    const origin = await httpOrigin(10);
    const proxy = await startProxy({ targetPort: origin.port, plan: { blackhole: true } });
    const outcome = await get(proxy.port, 300);
    expect(outcome.status).toBeUndefined();
    expect(outcome.error).toBe('timeout');
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(290);
    expect(origin.requests()).toBe(0);
    expect(proxy.connections[0]?.bytesFromClient).toBeGreaterThan(0);
  });

  it('stalls open connections on demand (TCP alive, no bytes) and heals for new ones', async () => {
    const echo = await echoServer();
    const proxy = await startProxy({ targetPort: echo.port });
    const client = connectRaw(proxy.port);
    client.socket.write('a');
    await waitFor(() => client.received().toString() === 'a');
    proxy.blackholeAll();
    client.socket.write('b');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.received().toString()).toBe('a');
    expect(client.socket.destroyed).toBe(false);

    proxy.heal();
    const fresh = connectRaw(proxy.port);
    fresh.socket.end('c');
    expect(await fresh.outcome).toBe('end');
    expect(fresh.received().toString()).toBe('cbye');
  });

  it('ends the way toward the client (FIN) while the client can still send', async () => {
    const echo = await echoServer();
    const proxy = await startProxy({ targetPort: echo.port });
    const accepted = proxy.nextConnection();
    const client = connectRaw(proxy.port);
    const connection = await accepted;
    connection.endTowardClient();
    expect(await client.outcome).toBe('end');
    // Half-closed: the client's writes still reach the server.
    client.socket.write('late');
    await waitFor(() => connection.bytesUpstream === 4);
    expect(client.socket.writable).toBe(true);
  });

  it('ends the way toward the server while its answer still flows back', async () => {
    const echo = await echoServer();
    const proxy = await startProxy({ targetPort: echo.port });
    const accepted = proxy.nextConnection();
    const client = connectRaw(proxy.port);
    const connection = await accepted;
    client.socket.write('x');
    await waitFor(() => client.received().toString() === 'x');
    connection.endTowardServer();
    await waitFor(() => echo.ended[0] === true);
    expect(await client.outcome).toBe('end');
    expect(client.received().toString()).toBe('xbye');
  });

  it('a byte limit can end (FIN) or silence a direction instead of resetting', async () => {
    const echo = await echoServer();
    const proxy = await startProxy({
      targetPort: echo.port,
      plan: (index) => ({ downstream: { limit: { bytes: 3, action: index === 0 ? 'end' : 'blackhole' } } }),
    });
    const ended = connectRaw(proxy.port);
    ended.socket.write('abcdef');
    expect(await ended.outcome).toBe('end');
    expect(ended.received().toString()).toBe('abc');

    const silenced = connectRaw(proxy.port);
    silenced.socket.write('abcdef');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(silenced.received().toString()).toBe('abc');
    expect(silenced.socket.destroyed).toBe(false);
  });
});

describe('slow-loris client', () => {
  it('trickles a request head; a server with a 300 ms headers timeout drops it before it is complete', async () => {
    const origin = await httpOrigin(10, { headersTimeout: 300 });
    const head = `GET / HTTP/1.1\r\nHost: x\r\n${'X-Pad: y\r\n'.repeat(50)}\r\n`;
    const result = await slowLoris(origin.port, head, { intervalMs: 10, maxMs: 5_000 });
    expect(result.endedBy).not.toBe('client-finished');
    expect(result.bytesSent).toBeLessThan(head.length);
    // Node checks the headers timeout on an interval, so the drop comes a bit after 300 ms.
    expect(result.elapsedMs).toBeGreaterThanOrEqual(290);
    expect(result.elapsedMs).toBeLessThan(4_000);
    expect(origin.requests()).toBe(0);
  });

  it('through the proxy, any client is a slow loris: the upstream bandwidth cap paces the request', async () => {
    const echo = await echoServer();
    const proxy = await startProxy({ targetPort: echo.port, plan: { upstream: { bytesPerSecond: 200 } } });
    const client = connectRaw(proxy.port);
    const startedAtMs = performance.now();
    client.socket.end(Buffer.alloc(40, 0x62));
    expect(await client.outcome).toBe('end');
    expect(performance.now() - startedAtMs).toBeGreaterThanOrEqual(180); // 40 bytes at 200 B/s
    expect(echo.chunkSizes.reduce((sum, size) => sum + size, 0)).toBe(40);
  });
});

describe('fault proxy: closing', () => {
  it('close() resets every connection, so nothing it relayed outlives it', async () => {
    const echo = await echoServer();
    const proxy = await FaultProxy.start({ targetPort: echo.port });
    const clients = [connectRaw(proxy.port), connectRaw(proxy.port)];
    await waitFor(() => proxy.connections.length === 2);
    await proxy.close();
    expect(await Promise.all(clients.map((client) => client.outcome))).toEqual(['reset', 'reset']);
    await Promise.all(proxy.connections.map((connection) => connection.closed));
    expect(proxy.openConnections).toEqual([]);
  });
});

async function waitFor(condition: () => boolean, limitMs = 2_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
