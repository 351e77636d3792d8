/**
 * bad-inputs C3 for the gRPC inbound server: a client that never finishes its HTTP/2 preface
 * (dripping it a byte at a time, or stopping after the first byte) is closed at
 * `prefaceTimeoutMs`, while meshed callers are served; an honest connection that goes idle after
 * its preface is kept. The slow client is support/dripping-client.ts.
 */
import { connectivityState, status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createMeshClient, createMeshServer } from '../src/index.ts';
import { callUnary } from './support/calls.ts';
import { closedAfterEach } from './support/closed-after-each.ts';
import { drip } from './support/dripping-client.ts';
import { type EchoServer, startEchoServer } from './support/echo-server.ts';
import { type EchoClient, EchoClientConstructor } from './support/echo-service.ts';
import { grpcWorkload } from './support/mesh-scenario.ts';

const HTTP2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

const closers = closedAfterEach();
const meshOf = closers.meshOf;

async function frontend(prefaceTimeoutMs: number): Promise<{ server: EchoServer; client: EchoClient }> {
  const server = await startEchoServer('frontend', {
    server: createMeshServer(meshOf('frontend'), { prefaceTimeoutMs }),
  });
  closers.push(() => server.close());
  const client = createMeshClient(
    meshOf('caller', [grpcWorkload('frontend', 'frontend-0', server.port)]),
    EchoClientConstructor,
    'frontend:9080',
  );
  closers.push(() => client.close());
  return { server, client };
}

/** Calls `Get` one after another while `isRunning()` (bounded: 200 calls); their status codes. */
async function steadyCalls(client: EchoClient, isRunning: () => boolean): Promise<number[]> {
  const codes: number[] = [];
  while (isRunning() && codes.length < 200) {
    codes.push((await callUnary(client, 'Get', { text: 'steady' }, { deadlineMs: 5_000 })).code);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return codes;
}

describe('C3: the gRPC inbound server against slow HTTP/2 clients', () => {
  it('closes a client that drips its preface, and serves meshed callers meanwhile', async () => {
    const { server, client } = await frontend(400);
    let isTrickling = true;
    const [loris, codes] = await Promise.all([
      drip(server.port, HTTP2_PREFACE, { intervalMs: 50, maxMs: 8_000 }).finally(() => {
        isTrickling = false;
      }),
      steadyCalls(client, () => isTrickling),
    ]);
    expect(loris.endedBy).toBe('server');
    expect(loris.bytesSent).toBeLessThan(HTTP2_PREFACE.length);
    expect(loris.elapsedMs).toBeGreaterThanOrEqual(390);
    expect(loris.elapsedMs).toBeLessThan(5_000);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.every((code) => code === Status.OK)).toBe(true);
  });

  it('closes a client that stops after the first byte of its preface', async () => {
    const { server } = await frontend(400);
    const loris = await drip(server.port, 'P', { intervalMs: 10, maxMs: 8_000 });
    expect(loris.endedBy).toBe('server');
    expect(loris.elapsedMs).toBeGreaterThanOrEqual(390);
    expect(loris.elapsedMs).toBeLessThan(5_000);
  });

  it('keeps an honest connection that goes idle after its preface', async () => {
    const { client } = await frontend(300);
    expect((await callUnary(client, 'Get', { text: 'first' }, { deadlineMs: 5_000 })).code).toBe(Status.OK);
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(client.getChannel().getConnectivityState(false)).toBe(connectivityState.READY);
    expect((await callUnary(client, 'Get', { text: 'later' }, { deadlineMs: 5_000 })).code).toBe(Status.OK);
  });
});
