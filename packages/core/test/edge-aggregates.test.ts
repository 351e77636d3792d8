/**
 * The agent client's per-edge aggregates (agent-client/edge-aggregator.ts): fed by the mesh's
 * telemetry as outbound calls end, with no SDK installed, keyed by destination service, subset and
 * endpoint version, bounded. Reports on a fake clock: edge-reports.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeAggregator } from '../src/agent-client/edge-aggregator.ts';
import { EDGE_LATENCY_BUCKETS } from '../src/index.ts';
import { call, closeMeshes, edgeMesh, REVIEWS } from './support/edge-fixtures.ts';
import { routeRequest } from './support/telemetry-fixtures.ts';

afterEach(closeMeshes);

const setUp = edgeMesh;

const SUBSETS_YAML = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - route:
    - { destination: { host: reviews, subset: v2 } }
`;

describe('edge aggregates from the mesh telemetry', () => {
  it('counts requests, errors by code, latency buckets, bytes and mTLS per edge, with no SDK installed', () => {
    const fixture = setUp();
    const { cluster, endpoint, aggregator } = fixture;
    call(fixture, { cluster, endpoint, status: 200, durationMs: 3 });
    call(fixture, { cluster, endpoint, status: 200, durationMs: 40, mtls: true });
    call(fixture, { cluster, endpoint, status: 503, durationMs: 20_000 });
    call(fixture, { cluster, endpoint, status: 404, durationMs: 0.5 });

    const interval = aggregator.take();
    expect(interval.droppedEdges).toBe(0);
    expect(interval.edges).toHaveLength(1);
    const [edge] = interval.edges;
    expect(edge?.destination).toEqual({ service: REVIEWS, version: 'v2' });
    expect(edge).toMatchObject({
      protocol: 'http',
      requests: 4,
      errors: 1, // the 503; a 404 is the caller's mistake, not the edge's failure
      codes: { '200': 2, '503': 1, '404': 1 },
      requestBytes: 40,
      responseBytes: 400,
      mtlsRequests: 1,
      faults: 0,
    });
    expect(edge?.durationMsSum).toBe(Math.round(3 + 40 + 20_000 + 0.5));
    // Buckets: ≤1 (0.5 ms), ≤5 (3 ms), ≤50 (40 ms), > 10 s (20 s).
    const expected = new Array(EDGE_LATENCY_BUCKETS).fill(0);
    expected[0] = 1;
    expected[2] = 1;
    expected[5] = 1;
    expected[EDGE_LATENCY_BUCKETS - 1] = 1;
    expect(edge?.latencyMs).toEqual(expected);

    // Taking empties the counters: the next interval has nothing until a request comes.
    expect(aggregator.take().edges).toEqual([]);
    call(fixture, { cluster, endpoint, status: 200 });
    expect(aggregator.take().edges[0]).toMatchObject({ requests: 1, errors: 0, codes: { '200': 1 } });
  });

  it('keys edges by the route’s subset and the endpoint’s version', () => {
    const fixture = setUp(SUBSETS_YAML);
    const view = fixture.mesh.outbound;
    const host = view.resolveHost('reviews');
    const destination =
      host === undefined ? undefined : view.routeTable(host, 9080)?.routes[0]?.destinations[0];
    const subsetCluster = destination === undefined ? undefined : view.cluster(destination);
    const v2 = subsetCluster?.endpoints[0];
    expect(subsetCluster?.subset).toBe('v2');
    if (subsetCluster === undefined || v2 === undefined) return;
    call(fixture, { cluster: subsetCluster, endpoint: v2 });
    call(fixture, { cluster: subsetCluster, endpoint: v2 });
    // The mesh answered before any attempt (no healthy upstream): no endpoint, so no version;
    // the host the caller addressed names the service.
    const noEndpoint = fixture.mesh.telemetry.startClientCall(routeRequest());
    noEndpoint?.answered(503, ['UH'], 'WEFT_ERR_NO_HEALTHY_UPSTREAM', 0);
    noEndpoint?.end();

    const edges = fixture.aggregator.take().edges;
    expect(edges.map((edge) => [edge.destination, edge.requests])).toEqual([
      [{ service: REVIEWS, subset: 'v2', version: 'v2' }, 2],
      [{ service: REVIEWS, version: 'unknown' }, 1],
    ]);
  });

  it('keys a request with no cluster (an injected abort) by the host the caller addressed, and counts the fault', () => {
    const fixture = setUp();
    call(fixture, { abort: true, authority: 'ratings:9080' });
    call(fixture, { abort: true, authority: 'ratings:9080' });
    const [edge] = fixture.aggregator.take().edges;
    expect(edge).toMatchObject({
      destination: { service: 'ratings.default.svc.cluster.local', version: 'unknown' },
      requests: 2,
      errors: 2,
      faults: 2,
      codes: { '500': 2 },
      responseBytes: 36,
    });
  });

  it('makes no telemetry call once the sink is detached (no SDK, no access log)', () => {
    const fixture = setUp();
    expect(fixture.mesh.telemetry.startClientCall(routeRequest())).toBeDefined();
    fixture.detach();
    expect(fixture.mesh.telemetry.startClientCall(routeRequest())).toBeUndefined();
    // An inbound call its caller reports (x-weft-edge: source) is not counted again here.
    fixture.mesh.telemetry.attachEdgeSink(fixture.aggregator);
    expect(fixture.mesh.telemetry.startServerCall(routeRequest({ 'x-weft-edge': 'source' }))).toBeUndefined();
  });

  it('tracks at most maxEdges edges, counts what it drops, and gives refused edges room once others go idle', () => {
    const fixture = setUp();
    const aggregator = new EdgeAggregator({ maxEdges: 1, resolveHost: (host) => `${host}.svc` });
    fixture.mesh.telemetry.attachEdgeSink(aggregator);
    call(fixture, { abort: true, authority: 'details:9080' });
    call(fixture, { abort: true, authority: 'ratings:9080' });
    call(fixture, { abort: true, authority: 'ratings:9080' });
    call(fixture, { abort: true, authority: 'other:9080' });
    let interval = aggregator.take();
    expect(interval.edges.map((edge) => edge.destination.service)).toEqual(['details.svc']);
    expect(interval).toMatchObject({ droppedEdges: 2, droppedRequests: 3 });

    // details goes quiet; after twelve idle reports it is forgotten and ratings fits.
    for (let report = 0; report < 12; report++) aggregator.take();
    expect(aggregator.size).toBe(0);
    call(fixture, { abort: true, authority: 'ratings:9080' });
    interval = aggregator.take();
    expect(interval.edges.map((edge) => edge.destination.service)).toEqual(['ratings.svc']);
    expect(interval.droppedRequests).toBe(0);
  });

  it('refuses a maxEdges outside 1–500', () => {
    expect(() => new EdgeAggregator({ maxEdges: 0, resolveHost: (host) => host })).toThrow(RangeError);
    expect(() => new EdgeAggregator({ maxEdges: 501, resolveHost: (host) => host })).toThrow(RangeError);
  });
});
