/**
 * Automatic context propagation (issue 6): three workloads, A → B → C, each a real Weft server on
 * 127.0.0.1 whose handler calls the next through Weft's fetch without copying a single header.
 * C sees A's trace, request id, end user and baggage, and a deadline no later than A's; with an
 * OpenTelemetry SDK the hops are one trace of parent and child spans; the propagated end user
 * drives routing; what a handler sets itself wins; outside a request nothing is added.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { currentRequestContext, type Mesh, type RegisteredWorkload, remainingMs } from '@weft/core';
import type { Dispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestSdk, type TestSdk } from '../../core/test/support/otel-test-sdk.ts';
import { createMeshDispatcher, createMeshFetch, DEADLINE_HEADER, type MeshFetch } from '../src/index.ts';
import { createInboundHarness, type InboundHarness, registered } from './support/inbound-harness.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

/** What C saw of the request that reached it. */
interface Seen {
  readonly headers: IncomingMessage['headers'];
  /** What was left of its deadline when the handler ran, by its RequestContext. */
  readonly remainingMs: number | undefined;
}

let harness: InboundHarness;
let dispatchers: Dispatcher[];
let seenByC: Seen[];

beforeEach(() => {
  harness = createInboundHarness();
  dispatchers = [];
  seenByC = [];
});
afterEach(async () => {
  for (const dispatcher of dispatchers.splice(0)) await dispatcher.close();
  await harness.close();
});

function fetchFor(mesh: Mesh): MeshFetch {
  const dispatcher = createMeshDispatcher(mesh);
  dispatchers.push(dispatcher);
  return createMeshFetch(mesh, { meshDispatcher: dispatcher });
}

/** A handler that calls `next` through the mesh with no headers at all, and relays its answer. */
function relay(meshFetch: MeshFetch, next: string, headers: Record<string, string> = {}) {
  return async (_request: IncomingMessage, response: ServerResponse) => {
    const answer = await meshFetch(`http://${next}:9080/hop`, { headers });
    response.writeHead(answer.status, { 'content-type': 'text/plain' });
    response.end(await answer.text());
  };
}

function recordingC(name = 'c') {
  return (request: IncomingMessage, response: ServerResponse) => {
    const requestContext = currentRequestContext();
    seenByC.push({
      headers: { ...request.headers },
      remainingMs: requestContext === undefined ? undefined : remainingMs(requestContext),
    });
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(name);
  };
}

interface Chain {
  readonly portA: number;
  readonly meshes: readonly Mesh[];
}

/** A → B → C, plaintext (no identities), each mesh knowing every workload; `extra` C workloads too. */
async function startChain(
  options: {
    telemetry?: Parameters<InboundHarness['mesh']>[1];
    yaml?: string;
    handlerHeaders?: Record<string, string>;
    extraC?: (harness: InboundHarness) => Promise<RegisteredWorkload[]>;
  } = {},
): Promise<Chain> {
  const meshA = harness.mesh('a', {
    ...options.telemetry,
    ...(options.yaml === undefined ? {} : { yaml: options.yaml }),
  });
  const meshB = harness.mesh('b', {
    ...options.telemetry,
    ...(options.yaml === undefined ? {} : { yaml: options.yaml }),
  });
  const meshC = harness.mesh('c', { ...options.telemetry });
  const a = await harness.serve(meshA, relay(fetchFor(meshA), 'b', options.handlerHeaders));
  const b = await harness.serve(meshB, relay(fetchFor(meshB), 'c'));
  const c = await harness.serve(meshC, recordingC());
  const workloads = [
    registered('a', a.port),
    registered('b', b.port),
    registered('c', c.port),
    ...((await options.extraC?.(harness)) ?? []),
  ];
  for (const mesh of [meshA, meshB, meshC]) mesh.setWorkloads(workloads);
  return { portA: a.port, meshes: [meshA, meshB, meshC] };
}

const FROM_OUTSIDE = {
  traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`,
  'x-request-id': 'req-42',
  'end-user': 'jason',
  baggage: 'tenant=acme',
  [DEADLINE_HEADER]: '5000',
};

describe('two hops with no header copying in any handler', () => {
  it('C sees the trace, request id, end user and baggage A received, and a deadline no later than A’s', async () => {
    const { portA } = await startChain();
    const outcome = await harness.plain().get(portA, '/start', FROM_OUTSIDE);
    expect(outcome).toMatchObject({ kind: 'response', status: 200, body: 'c' });
    const [seen] = seenByC;
    expect(seen?.headers.traceparent).toBe(FROM_OUTSIDE.traceparent);
    expect(seen?.headers).toMatchObject({
      'x-request-id': 'req-42',
      'end-user': 'jason',
      baggage: 'tenant=acme',
    });
    const carried = Number(seen?.headers[DEADLINE_HEADER]);
    expect(carried).toBeGreaterThan(0);
    expect(carried).toBeLessThanOrEqual(5000);
    expect(seen?.remainingMs).toBeLessThanOrEqual(carried);
  });

  it('a request without a deadline or trace carries none, but still gets one request id end to end', async () => {
    const { portA } = await startChain();
    await harness.plain().get(portA, '/start');
    const [seen] = seenByC;
    expect(seen?.headers[DEADLINE_HEADER]).toBeUndefined();
    expect(seen?.headers.traceparent).toBeUndefined();
    expect(seen?.remainingMs).toBeUndefined();
    expect(seen?.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('headers a handler sets itself win over the propagated ones', async () => {
    const { portA } = await startChain({
      handlerHeaders: { 'end-user': 'mary', [DEADLINE_HEADER]: '9999999' },
    });
    await harness.plain().get(portA, '/start', FROM_OUTSIDE);
    const [seen] = seenByC;
    expect(seen?.headers['end-user']).toBe('mary');
    // B got A's own deadline header and propagated what was left of it.
    expect(Number(seen?.headers[DEADLINE_HEADER])).toBeGreaterThan(5000);
  });

  it('the propagated end user drives routing at the next hop (Bookinfo’s reviews → ratings)', async () => {
    const route = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: c
  namespace: default
spec:
  hosts: [c]
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: c
        subset: v2
  - route:
    - destination:
        host: c
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: c
  namespace: default
spec:
  host: c
  subsets:
  - name: v1
    labels: { version: v1 }
  - name: v2
    labels: { version: v2 }
`;
    const { portA } = await startChain({
      yaml: route,
      extraC: async (inner) => {
        const { port } = await inner.serve(inner.mesh('c'), recordingC('c-v2'));
        return [{ ...registered('c', port), name: 'c-v2', labels: { app: 'c', version: 'v2' } }];
      },
    });
    expect(await harness.plain().get(portA, '/start', { 'end-user': 'jason' })).toMatchObject({
      body: 'c-v2',
    });
    expect(await harness.plain().get(portA, '/start', { 'end-user': 'mary' })).toMatchObject({ body: 'c' });
  });

  it('a call made outside any inbound request carries nothing', async () => {
    const { meshes } = await startChain();
    const meshA = meshes[0] as Mesh;
    const answer = await fetchFor(meshA)('http://c:9080/direct');
    await answer.text();
    expect(seenByC[0]?.headers['end-user']).toBeUndefined();
    expect(seenByC[0]?.headers[DEADLINE_HEADER]).toBeUndefined();
  });
});

describe('with an OpenTelemetry SDK', () => {
  let sdk: TestSdk;
  beforeEach(() => {
    sdk = startTestSdk();
  });
  afterEach(async () => {
    context.disable();
    await sdk.shutdown();
  });

  /** The spans of the trace, by kind and workload, each with its parent span id. */
  async function hops() {
    const spans = (await sdk.spans()).filter((span) => span.spanContext().traceId === TRACE_ID);
    return spans.map((span) => ({
      kind: span.kind === SpanKind.SERVER ? 'server' : 'client',
      workload: String(
        span.kind === SpanKind.SERVER
          ? span.attributes['weft.destination.workload']
          : span.attributes['weft.source.workload'],
      ),
      spanId: span.spanContext().spanId,
      parent: span.parentSpanContext?.spanId,
    }));
  }

  it.each([
    ['with a context manager', true],
    ['without a context manager (the server span travels in the propagated headers)', false],
  ])('every hop is a child of the one before, in A’s trace: %s', async (_case, hasContextManager) => {
    if (hasContextManager) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const telemetry = { telemetry: { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider } };
    const { portA } = await startChain({ telemetry });
    await harness.plain().get(portA, '/start', FROM_OUTSIDE);
    const spans = await hops();
    const find = (kind: string, workload: string) =>
      spans.find((span) => span.kind === kind && span.workload === workload);
    const serverA = find('server', 'a-v1');
    const clientA = find('client', 'a-v1');
    const serverB = find('server', 'b-v1');
    const clientB = find('client', 'b-v1');
    const serverC = find('server', 'c-v1');
    expect(serverA?.parent).toBe(CALLER_SPAN_ID);
    expect(clientA?.parent).toBe(serverA?.spanId);
    expect(serverB?.parent).toBe(clientA?.spanId);
    expect(clientB?.parent).toBe(serverB?.spanId);
    expect(serverC?.parent).toBe(clientB?.spanId);
    expect(seenByC[0]?.headers.traceparent).toBe(`00-${TRACE_ID}-${clientB?.spanId}-01`);
  });
});
