import { status as Status } from '@grpc/grpc-js';
import type { Mesh } from '@weft/core';
import { describe, expect, it } from 'vitest';
import {
  createMeshClient,
  createMeshServer,
  currentIncomingCall,
  type GrpcServerCallEvent,
  grpcEvents,
  type InboundCallInfo,
  type IncomingCall,
} from '../src/index.ts';
import { callUnary } from './support/calls.ts';
import { closedAfterEach } from './support/closed-after-each.ts';
import { type EchoServer, startEchoServer } from './support/echo-server.ts';
import { type EchoClient, EchoClientConstructor } from './support/echo-service.ts';
import { grpcWorkload } from './support/mesh-scenario.ts';

/**
 * Two meshed services: `frontend` (a MeshServer whose handler calls `backend` through the mesh)
 * and `backend` (a plain echo server). The test calls frontend through a mesh of its own.
 */
const closers = closedAfterEach();
const meshOf = closers.meshOf;

function clientOf(mesh: Mesh, target: string): EchoClient {
  const client = createMeshClient(mesh, EchoClientConstructor, target);
  closers.push(() => client.close());
  return client;
}

async function serverOf(
  name: string,
  options: Parameters<typeof startEchoServer>[1] = {},
): Promise<EchoServer> {
  const server = await startEchoServer(name, options);
  closers.push(() => server.close());
  return server;
}

describe('a MeshServer', () => {
  it('runs handlers inside the inbound call: its deadline and trace context are at hand', async () => {
    const serverMesh = meshOf('frontend');
    let seen: IncomingCall | undefined;
    const frontend = await serverOf('frontend', { server: createMeshServer(serverMesh) });
    frontend.behave(() => ({
      kind: 'custom',
      respond: async () => {
        await Promise.resolve();
        seen = currentIncomingCall();
        return { text: 'ok', servedBy: 'frontend' };
      },
    }));
    const client = clientOf(
      meshOf('caller', [grpcWorkload('frontend', 'frontend-0', frontend.port)]),
      'frontend:9080',
    );

    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const result = await callUnary(
      client,
      'Get',
      { text: 't' },
      { deadlineMs: 30_000, metadata: { traceparent } },
    );

    expect(result.code).toBe(Status.OK);
    expect(seen?.method).toBe('/weft.test.Echo/Get');
    expect(seen?.traceparent).toBe(traceparent);
    const remaining = (seen?.deadlineMs ?? 0) - Date.now();
    expect(remaining).toBeLessThanOrEqual(30_000);
    expect(remaining).toBeGreaterThan(20_000);
    expect(currentIncomingCall()).toBeUndefined();
  });

  it('propagates the inbound deadline and trace context to the calls its handler makes', async () => {
    const backend = await serverOf('backend');
    const frontendMesh = meshOf('frontend', [grpcWorkload('backend', 'backend-0', backend.port)]);
    const toBackend = clientOf(frontendMesh, 'backend:9080');
    const frontend = await serverOf('frontend', { server: createMeshServer(frontendMesh) });
    frontend.behave(() => ({
      kind: 'custom',
      // No deadline and no trace context are passed here: the mesh finds them itself.
      respond: async () => {
        const reply = await callUnary(toBackend, 'Get', { text: 'relayed' });
        return { text: reply.reply?.text ?? '', servedBy: 'frontend' };
      },
    }));
    const client = clientOf(
      meshOf('caller', [grpcWorkload('frontend', 'frontend-0', frontend.port)]),
      'frontend:9080',
    );

    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const result = await callUnary(
      client,
      'Get',
      { text: 'x' },
      { deadlineMs: 8_000, metadata: { traceparent } },
    );

    expect([result.code, result.reply?.text]).toEqual([Status.OK, 'relayed']);
    const downstream = backend.seen[0];
    expect(downstream?.deadlineRemainingMs).toBeLessThanOrEqual(8_000);
    expect(downstream?.deadlineRemainingMs).toBeGreaterThan(3_000);
    expect(downstream?.metadata.get('traceparent')).toEqual([traceparent]);
  });

  it('runs the inbound policy before the handler and answers a denied call itself', async () => {
    const serverMesh = meshOf('frontend');
    const asked: InboundCallInfo[] = [];
    const server = createMeshServer(serverMesh, {
      policy: async (call) => {
        asked.push(call);
        const user = call.metadata.get('x-user')[0];
        if (user === undefined) return { kind: 'deny', reason: 'unauthenticated', details: 'Jwt is missing' };
        if (user !== 'alice')
          return {
            kind: 'deny',
            reason: 'permission-denied',
            details: 'RBAC: access denied',
            policy: 'test/deny',
          };
        return { kind: 'allow' };
      },
    });
    const frontend = await serverOf('frontend', { server });
    const events: GrpcServerCallEvent[] = [];
    closers.push(grpcEvents(serverMesh).serverCall.on((event) => events.push(event)));
    const client = clientOf(
      meshOf('caller', [grpcWorkload('frontend', 'frontend-0', frontend.port)]),
      'frontend:9080',
    );

    const anonymous = await callUnary(client, 'Get');
    const mallory = await callUnary(client, 'Get', { text: 'm' }, { metadata: { 'x-user': 'mallory' } });
    const alice = await callUnary(client, 'Get', { text: 'a' }, { metadata: { 'x-user': 'alice' } });

    expect([anonymous.code, anonymous.errorCode]).toEqual([
      Status.UNAUTHENTICATED,
      'WEFT_ERR_UNAUTHENTICATED',
    ]);
    expect([mallory.code, mallory.error?.details, mallory.errorCode]).toEqual([
      Status.PERMISSION_DENIED,
      'RBAC: access denied',
      'WEFT_ERR_PERMISSION_DENIED',
    ]);
    expect([alice.code, alice.reply?.text]).toEqual([Status.OK, 'a']);
    // Handlers ran for alice only; the policy saw the method path and the authority.
    expect(frontend.seen.map((call) => call.metadata.get('x-user')[0])).toEqual(['alice']);
    expect(asked.map((call) => [call.method, call.host])).toEqual([
      ['/weft.test.Echo/Get', 'frontend:9080'],
      ['/weft.test.Echo/Get', 'frontend:9080'],
      ['/weft.test.Echo/Get', 'frontend:9080'],
    ]);
    expect(events.map((event) => [event.grpcStatusName, event.deniedBy])).toEqual([
      ['UNAUTHENTICATED', 'unauthenticated'],
      ['PERMISSION_DENIED', 'test/deny'],
      ['OK', undefined],
    ]);
  });

  it('refuses a call whose policy throws, without running the handler', async () => {
    const serverMesh = meshOf('frontend');
    const server = createMeshServer(serverMesh, {
      policy: () => {
        throw new Error('policy engine unavailable');
      },
    });
    const frontend = await serverOf('frontend', { server });
    const client = clientOf(
      meshOf('caller', [grpcWorkload('frontend', 'frontend-0', frontend.port)]),
      'frontend:9080',
    );

    const result = await callUnary(client, 'Get');

    expect(result.code).toBe(Status.PERMISSION_DENIED);
    expect(result.error?.details).toContain('policy engine unavailable');
    expect(frontend.seen).toEqual([]);
  });

  it('keeps the handler’s own trailing metadata and status', async () => {
    const frontend = await serverOf('frontend', { server: createMeshServer(meshOf('frontend')) });
    frontend.behave(() => ({ kind: 'fail', code: Status.NOT_FOUND, details: 'no such review' }));
    const client = clientOf(
      meshOf('caller', [grpcWorkload('frontend', 'frontend-0', frontend.port)]),
      'frontend:9080',
    );

    const result = await callUnary(client, 'Get', { text: 'q' }, { metadata: { 'x-user': 'a' } });

    expect([result.code, result.error?.details, result.flags]).toEqual([
      Status.NOT_FOUND,
      'no such review',
      [],
    ]);
  });
});
