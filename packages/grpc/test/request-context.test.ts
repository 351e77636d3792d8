/**
 * One request context across HTTP and gRPC (core's RequestContext): an HTTP handler behind
 * @weft/http's createMeshServer makes gRPC calls through createMeshClient, and a gRPC handler
 * behind a MeshServer makes HTTP calls through @weft/http's fetch; either way the call carries
 * the inbound request's id, end user, trace context and what is left of its deadline, and ends
 * when that deadline passes. Real servers on 127.0.0.1, no header or metadata copying in any
 * handler.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { status as Status } from '@grpc/grpc-js';
import { createMesh, ErrorCodes, type Mesh, type RegisteredWorkload, seededRandom } from '@weft/core';
import {
  createMeshServer as createHttpMeshServer,
  createMeshDispatcher,
  createMeshFetch,
  DEADLINE_HEADER,
  ERROR_CODE_HEADER,
  type MeshFetch,
} from '@weft/http';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createMeshClient, createMeshServer } from '../src/index.ts';
import { type CallResult, callUnary } from './support/calls.ts';
import { type EchoServer, startEchoServer } from './support/echo-server.ts';
import { type EchoClient, EchoClientConstructor, type EchoReply } from './support/echo-service.ts';
import { grpcWorkload } from './support/mesh-scenario.ts';
import { eventually } from './support/waiting.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const FROM_OUTSIDE = {
  traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
  'x-request-id': 'req-42',
  'end-user': 'jason',
};

let closers: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

function meshOf(name: string, workloads: readonly RegisteredWorkload[]): Mesh {
  const mesh = createMesh({
    workload: { name: `${name}-v1`, namespace: 'default', serviceAccount: name, labels: { app: name } },
    workloads,
    random: seededRandom(5),
  });
  closers.push(() => mesh.close());
  return mesh;
}

function grpcClientOf(mesh: Mesh, service: string): EchoClient {
  const client = createMeshClient(mesh, EchoClientConstructor, `weft:///${service}.default:9080`);
  closers.push(() => client.close());
  return client;
}

function fetchOf(mesh: Mesh): MeshFetch {
  const dispatcher = createMeshDispatcher(mesh);
  closers.push(() => dispatcher.close());
  return createMeshFetch(mesh, { meshDispatcher: dispatcher });
}

async function echoServer(name: string, server?: Parameters<typeof startEchoServer>[1]): Promise<EchoServer> {
  const started = await startEchoServer(name, server);
  closers.push(() => started.close());
  return started;
}

/** Listens on 127.0.0.1 port 0; closed (open connections too) after the test. */
async function listen(server: NetServer & { closeAllConnections?: () => void }): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** An HTTP workload of `service` serving its port 9080 on `port`. */
function httpWorkload(service: string, port: number): RegisteredWorkload {
  return {
    name: `${service}-v1`,
    namespace: 'default',
    service,
    serviceAccount: service,
    labels: { app: service, version: 'v1' },
    address: '127.0.0.1',
    ports: { 9080: port },
  };
}

describe('an HTTP handler’s gRPC calls', () => {
  /** productpage (HTTP, a Weft server) whose handler calls reviews (gRPC) and records the result. */
  async function startProductpage(backend: EchoServer) {
    const mesh = meshOf('productpage', [grpcWorkload('reviews', 'reviews-0', backend.port)]);
    const client = grpcClientOf(mesh, 'reviews');
    const results: { result: CallResult<EchoReply>; elapsedMs: number }[] = [];
    const server = createHttpMeshServer(mesh, async (_request, response: ServerResponse) => {
      const started = performance.now();
      const result = await callUnary(client, 'Get', { text: 'from http' });
      results.push({ result, elapsedMs: performance.now() - started });
      response.end(String(result.code));
    });
    const port = await listen(server);
    const call = async (headers: Record<string, string>) => {
      const answer = await request(`http://127.0.0.1:${port}/product`, { headers });
      await answer.body.text();
      return answer.statusCode;
    };
    return { call, results };
  }

  it('carry the request id, end user, trace context and what is left of the deadline', async () => {
    const backend = await echoServer('reviews-0');
    const productpage = await startProductpage(backend);

    expect(await productpage.call({ ...FROM_OUTSIDE, [DEADLINE_HEADER]: '5000' })).toBe(200);

    expect(productpage.results[0]?.result.code).toBe(Status.OK);
    const seen = backend.seen[0];
    expect(seen?.metadata.get('x-request-id')).toEqual(['req-42']);
    expect(seen?.metadata.get('end-user')).toEqual(['jason']);
    expect(seen?.metadata.get('traceparent')).toEqual([FROM_OUTSIDE.traceparent]);
    expect(seen?.deadlineRemainingMs).toBeGreaterThan(0);
    expect(seen?.deadlineRemainingMs).toBeLessThanOrEqual(5000);
  });

  it('end with DEADLINE_EXCEEDED when the HTTP caller’s deadline passes', async () => {
    const backend = await echoServer('reviews-0');
    backend.behave(() => ({ kind: 'hang' }));
    const productpage = await startProductpage(backend);

    await productpage.call({ [DEADLINE_HEADER]: '400' });

    const [ended] = productpage.results;
    expect(ended?.result.code).toBe(Status.DEADLINE_EXCEEDED);
    // Near 400 ms; without the deadline the call would wait for the hung server for ever.
    expect(ended?.elapsedMs).toBeGreaterThanOrEqual(300);
    expect(ended?.elapsedMs).toBeLessThan(4000);
  });

  it('outside any request carry none of it', async () => {
    const backend = await echoServer('reviews-0');
    const mesh = meshOf('productpage', [grpcWorkload('reviews', 'reviews-0', backend.port)]);

    await callUnary(grpcClientOf(mesh, 'reviews'), 'Get');

    expect(backend.seen[0]?.metadata.get('x-request-id')).toEqual([]);
    expect(backend.seen[0]?.deadlineRemainingMs).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('a gRPC handler’s HTTP calls', () => {
  /**
   * ratings (a plain HTTP server recording what reached it, `hang`ing when told), frontend (a
   * MeshServer whose handler fetches ratings through the mesh) and a meshed gRPC caller.
   */
  async function startChain(options: { hang: boolean }) {
    const seenByRatings: IncomingHttpHeaders[] = [];
    const ratings = createServer((incoming, response) => {
      seenByRatings.push({ ...incoming.headers });
      if (!options.hang) response.end('ratings');
    });
    const ratingsPort = await listen(ratings);
    const frontendMesh = meshOf('frontend', [httpWorkload('ratings', ratingsPort)]);
    const meshFetch = fetchOf(frontendMesh);
    const fetched: { status: number; errorCode: string | null; elapsedMs: number }[] = [];
    const frontend = await echoServer('frontend-0', { server: createMeshServer(frontendMesh) });
    frontend.behave(() => ({
      kind: 'custom',
      respond: async () => {
        const started = performance.now();
        const answer = await meshFetch('http://ratings:9080/ratings/1');
        await answer.text();
        fetched.push({
          status: answer.status,
          errorCode: answer.headers.get(ERROR_CODE_HEADER),
          elapsedMs: performance.now() - started,
        });
        return { text: String(answer.status), servedBy: 'frontend' };
      },
    }));
    const callerMesh = meshOf('caller', [grpcWorkload('frontend', 'frontend-0', frontend.port)]);
    const client = grpcClientOf(callerMesh, 'frontend');
    return { client, seenByRatings, fetched };
  }

  it('carry the request id, end user, trace context and what is left of the deadline', async () => {
    const chain = await startChain({ hang: false });

    const result = await callUnary(
      chain.client,
      'Get',
      { text: 'x' },
      { metadata: FROM_OUTSIDE, deadlineMs: 5000 },
    );

    expect(result.code).toBe(Status.OK);
    expect(result.reply?.text).toBe('200');
    const [headers] = chain.seenByRatings;
    expect(headers).toMatchObject(FROM_OUTSIDE);
    const carried = Number(headers?.[DEADLINE_HEADER]);
    expect(carried).toBeGreaterThan(0);
    expect(carried).toBeLessThanOrEqual(5000);
  });

  it('end near the gRPC caller’s deadline: 504 WEFT_ERR_DEADLINE_EXCEEDED', async () => {
    const chain = await startChain({ hang: true });

    const result = await callUnary(chain.client, 'Get', { text: 'x' }, { deadlineMs: 500 });

    expect(result.code).toBe(Status.DEADLINE_EXCEEDED);
    // The handler's own call ends at the deadline too, instead of waiting on the hung upstream.
    expect(await eventually(() => chain.fetched.length === 1, 4000)).toBe(true);
    expect(chain.fetched[0]).toMatchObject({ status: 504, errorCode: ErrorCodes.deadlineExceeded });
    expect(chain.fetched[0]?.elapsedMs).toBeLessThan(4000);
  });

  it('without a caller deadline carry none', async () => {
    const chain = await startChain({ hang: false });

    await callUnary(chain.client, 'Get', { text: 'x' }, { metadata: { 'x-request-id': 'req-7' } });

    expect(chain.seenByRatings[0]?.['x-request-id']).toBe('req-7');
    expect(chain.seenByRatings[0]?.[DEADLINE_HEADER]).toBeUndefined();
  });
});
