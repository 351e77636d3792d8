/**
 * gRPC calls in the agent dashboard's edges (PROTOCOL.md §3.8): a meshed client's calls reach the
 * mesh's edge sink with each gRPC status counted under its HTTP code, carry the edge marker to the
 * server, and a MeshServer counts the calls no reporting caller counts — a plain grpc-js client's
 * (an unknown caller) and a verified peer's that reports no edges — and never a reporting one's.
 * Real grpc-js servers and clients on 127.0.0.1.
 */
import { credentials, Metadata, status as Status } from '@grpc/grpc-js';
import { EDGE_REPORTER_HEADER, EdgeAggregator, type Mesh } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { singleRoute } from '../../core/test/support/istio-yaml.ts';
import { currentIncomingCall } from '../src/index.ts';
import { callUnary } from './support/calls.ts';
import { EchoClientConstructor } from './support/echo-service.ts';
import { createScenario } from './support/mesh-scenario.ts';
import { createSecurePair, PRODUCTPAGE_ID } from './support/secure-pair.ts';

const scenario = createScenario();
const pair = createSecurePair();
afterEach(async () => {
  await scenario.close();
  await pair.close();
});

/** An aggregator attached to `mesh`'s telemetry, as connectToAgent attaches its own. */
function observeEdges(mesh: Mesh): EdgeAggregator {
  const aggregator = new EdgeAggregator({ maxEdges: 16, resolveHost: (host) => host });
  mesh.telemetry.attachEdgeSink(aggregator);
  return aggregator;
}

describe('edges of a meshed gRPC client', () => {
  it('counts each call once on its edge, OK as 200 and UNAVAILABLE as a 503 error, and marks the calls', async () => {
    const [server] = await scenario.start(1);
    server?.behave((_call, index) =>
      index === 3 ? { kind: 'fail', code: Status.UNAVAILABLE, details: 'down' } : { kind: 'reply' },
    );
    const { mesh, client } = scenario.open(singleRoute('reviews'));
    const edges = observeEdges(mesh);

    for (let index = 0; index < 3; index++) expect((await callUnary(client, 'Get')).code).toBe(Status.OK);
    // Post is not idempotent: its UNAVAILABLE is not retried, so the edge sees one failed call.
    expect((await callUnary(client, 'Post')).code).toBe(Status.UNAVAILABLE);

    const interval = edges.take();
    expect(interval.edges).toHaveLength(1);
    expect(interval.edges[0]).toMatchObject({
      destination: { service: 'reviews.default.svc.cluster.local', version: 'v1' },
      protocol: 'grpc',
      requests: 4,
      errors: 1,
      codes: { '200': 3, '503': 1 },
    });
    expect(interval.edges[0]?.latencyMs.reduce((sum, bucket) => sum + bucket, 0)).toBe(4);
    expect(interval.inbound).toEqual([]);
    // Every attempt told the server its caller counts it.
    expect(server?.seen.map((call) => call.metadata.get(EDGE_REPORTER_HEADER))).toEqual(
      new Array(4).fill(['source']),
    );
  });

  it('counts a call the mesh answered itself (an injected abort) under the abort status’s code', async () => {
    await scenario.start(1);
    const { mesh, client } = scenario.open(
      singleRoute(
        'reviews',
        'fault: { abort: { grpcStatus: DEADLINE_EXCEEDED, percentage: { value: 100 } } }',
      ),
    );
    const edges = observeEdges(mesh);
    expect((await callUnary(client, 'Get')).code).toBe(Status.DEADLINE_EXCEEDED);
    expect(edges.take().edges[0]).toMatchObject({ requests: 1, errors: 1, faults: 1, codes: { '504': 1 } });
  });
});

describe('edges a gRPC MeshServer reports for callers that report none', () => {
  it('counts a plain grpc-js client as an unknown caller, with its statuses', async () => {
    const reviews = await pair.server({ identity: null });
    reviews.echo.behave((_call, index) =>
      index === 1 ? { kind: 'fail', code: Status.NOT_FOUND } : { kind: 'reply' },
    );
    const edges = observeEdges(reviews.mesh);
    const plain = new EchoClientConstructor(`127.0.0.1:${reviews.echo.port}`, credentials.createInsecure());
    try {
      expect((await callUnary(plain, 'Get')).code).toBe(Status.OK);
      expect((await callUnary(plain, 'Get')).code).toBe(Status.NOT_FOUND);
    } finally {
      plain.close();
    }
    const interval = edges.take();
    expect(interval.edges).toEqual([]);
    expect(interval.inbound).toEqual([
      expect.objectContaining({
        caller: { kind: 'unknown' },
        protocol: 'grpc',
        requests: 2,
        errors: 1,
        codes: { '200': 1, '404': 1 },
        mtlsRequests: 0,
      }),
    ]);
  });

  it('names a verified caller that reports no edges, and does not count a caller that reports its own', async () => {
    const reviews = await pair.server();
    const edges = observeEdges(reviews.mesh);
    const silent = pair.caller(reviews);
    expect((await callUnary(silent.client, 'Get')).code).toBe(Status.OK);
    const reporting = pair.caller(reviews, { name: 'ratings' });
    const reportingEdges = observeEdges(reporting.mesh);
    expect((await callUnary(reporting.client, 'Get')).code).toBe(Status.OK);
    expect((await callUnary(reporting.client, 'Get', { text: 'x' }, {})).code).toBe(Status.OK);

    const interval = edges.take();
    expect(interval.inbound).toHaveLength(1);
    expect(interval.inbound[0]).toMatchObject({
      caller: { kind: 'peer', namespace: 'default', principal: PRODUCTPAGE_ID },
      requests: 1,
      mtlsRequests: 1,
    });
    // The reporting caller's two calls are on its own edge, and only there.
    expect(reportingEdges.take().edges[0]).toMatchObject({ requests: 2, mtlsRequests: 2 });
  });

  it('hands a plain caller’s trace context on to the handler’s calls as received while counting its edge', async () => {
    const reviews = await pair.server({ identity: null });
    observeEdges(reviews.mesh);
    // What calls made under the handler would carry (the inbound call's trace headers).
    reviews.echo.behave(() => ({
      kind: 'custom',
      respond: async () => ({
        text: JSON.stringify(currentIncomingCall()?.traceHeaders ?? []),
        servedBy: 'reviews-0',
      }),
    }));
    const plain = new EchoClientConstructor(`127.0.0.1:${reviews.echo.port}`, credentials.createInsecure());
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    let text: string | undefined;
    try {
      const metadata = new Metadata();
      metadata.set('traceparent', traceparent);
      text = await new Promise<string | undefined>((resolve) => {
        plain.Get({ text: 't' }, metadata, {}, (_error, reply) => resolve(reply?.text));
      });
    } finally {
      plain.close();
    }
    // Copied, not re-written by a propagator (which would add the B3 headers too).
    expect(JSON.parse(text ?? 'null')).toEqual([['traceparent', traceparent]]);
  });
});
