/**
 * The agent client's per-edge aggregates (agent-client/edge-aggregator.ts): fed by the mesh's
 * telemetry as outbound calls end, with no SDK installed, keyed by destination service, subset and
 * endpoint version, bounded, and emptied into reports on a fake clock (edge-reporter.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeAggregator } from '../src/agent-client/edge-aggregator.ts';
import { EdgeMeshEvents } from '../src/agent-client/edge-mesh-events.ts';
import type { EdgeReport } from '../src/agent-client/edge-protocol.ts';
import { EdgeReporter } from '../src/agent-client/edge-reporter.ts';
import { startEdgeReporting } from '../src/agent-client/edge-reporting.ts';
import {
  type Cluster,
  type ClusterEndpoint,
  EDGE_LATENCY_BUCKETS,
  type Mesh,
  type TelemetryCall,
} from '../src/index.ts';
import type { FakeClock } from '../src/testing.ts';
import { routeRequest, telemetryMesh } from './support/telemetry-fixtures.ts';

const REVIEWS = 'reviews.default.svc.cluster.local';

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

/** Lets the reporter's promise chain (a send, its bookkeeping) run to the end. */
function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

let mesh: Mesh | undefined;
afterEach(() => {
  mesh?.close();
  mesh = undefined;
});

function setUp(yaml?: string) {
  const fixture = telemetryMesh(yaml === undefined ? {} : { yaml });
  mesh = fixture.mesh;
  const aggregator = new EdgeAggregator({
    maxEdges: 8,
    resolveHost: (host) => `${host}.default.svc.cluster.local`,
  });
  const detach = fixture.mesh.telemetry.attachEdgeSink(aggregator);
  return { ...fixture, aggregator, detach };
}

/** One outbound call as @weft/http reports it: an attempt to `endpoint`, a response, its end. */
function call(
  target: { mesh: Mesh; clock: FakeClock },
  options: {
    cluster?: Cluster;
    endpoint?: ClusterEndpoint;
    status?: number;
    durationMs?: number;
    mtls?: boolean;
    authority?: string;
    abort?: boolean;
  },
): TelemetryCall {
  const started = target.mesh.telemetry.startClientCall(
    routeRequest({}, options.authority === undefined ? {} : { authority: options.authority }),
  );
  if (started === undefined) throw new Error('no telemetry call although an edge sink is attached');
  started.requestBytes = 10;
  if (options.cluster !== undefined && options.endpoint !== undefined) {
    started.attemptStarted(options.cluster, options.endpoint);
    if (options.mtls === true) started.connectionSecurityPolicy = 'mutual_tls';
  }
  target.clock.advance(options.durationMs ?? 3);
  if (options.abort === true) started.answered(500, ['FI'], 'WEFT_ERR_FAULT_INJECTED', 18);
  else {
    started.attemptEnded(options.status ?? 200);
    started.responded(options.status ?? 200);
    started.responseBytes += 100;
  }
  started.end();
  return started;
}

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
    // Inbound calls never feed edges: the caller reports them.
    fixture.mesh.telemetry.attachEdgeSink(fixture.aggregator);
    expect(fixture.mesh.telemetry.startServerCall(routeRequest())).toBeUndefined();
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

describe('edge reports on a fake clock', () => {
  function reporterFor(
    fixture: ReturnType<typeof setUp>,
    send: (report: EdgeReport) => Promise<boolean>,
    meshEvents = new EdgeMeshEvents(fixture.mesh),
  ) {
    return new EdgeReporter({
      clock: fixture.clock,
      intervalMs: 5_000,
      aggregator: fixture.aggregator,
      meshEvents,
      source: { app: 'productpage', version: 'v1', service: 'productpage.default.svc.cluster.local' },
      certificate: () => undefined,
      send,
      onError: () => {},
    });
  }

  it('reports every interval what happened since the previous report, and nothing more', async () => {
    const fixture = setUp();
    const reports: EdgeReport[] = [];
    const reporter = reporterFor(fixture, async (report) => {
      reports.push(report);
      return true;
    });
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint, durationMs: 2 });
    fixture.clock.advance(4_997);
    expect(reports).toHaveLength(0);
    fixture.clock.advance(1);
    await settled();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      source: { app: 'productpage', version: 'v1' },
      intervalMs: 5_000,
      dropped: { edges: 0, requests: 0, reports: 0 },
      ejections: [],
      faults: [],
    });
    expect(reports[0]?.edges[0]?.requests).toBe(1);

    // Quiet intervals send nothing, except one report in six so that the agent knows.
    for (let tick = 0; tick < 5; tick++) {
      fixture.clock.advance(5_000);
      await settled();
    }
    expect(reports).toHaveLength(1);
    fixture.clock.advance(5_000);
    await settled();
    expect(reports).toHaveLength(2);
    expect(reports[1]?.edges).toEqual([]);
    expect(reports[1]?.intervalMs).toBe(30_000);
    await reporter.close();
    expect(fixture.clock.pendingTimers).toBe(0);
  });

  it('drops a report it cannot send and says so in the next one', async () => {
    const fixture = setUp();
    const sent: EdgeReport[] = [];
    let hasStream = false;
    const errors: unknown[] = [];
    const reporter = new EdgeReporter({
      clock: fixture.clock,
      intervalMs: 5_000,
      aggregator: fixture.aggregator,
      meshEvents: new EdgeMeshEvents(fixture.mesh),
      source: { app: 'productpage', version: 'v1' },
      certificate: () => ({
        spiffeId: 'spiffe://cluster.local/ns/default/sa/x',
        notAfter: '2030-01-01T00:00:00.000Z',
      }),
      send: async (report) => {
        if (!hasStream) return false;
        if (sent.length === 0 && errors.length === 0) throw new Error('agent refused');
        sent.push(report);
        return true;
      },
      onError: (error) => errors.push(error),
    });
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    await reporter.tick(); // no stream: dropped
    hasStream = true;
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    await reporter.tick(); // refused: dropped, reported as a problem
    expect(errors).toHaveLength(1);
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    await reporter.tick();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.dropped.reports).toBe(2);
    expect(sent[0]?.edges[0]?.requests).toBe(1);
    expect(sent[0]?.certificate?.notAfter).toBe('2030-01-01T00:00:00.000Z');
    await reporter.tick();
    expect(reporter.droppedReports).toBe(0);
    await reporter.close();
  });

  it('leaves the counts for the next report while one is still in flight', async () => {
    const fixture = setUp();
    const sent: EdgeReport[] = [];
    let release: () => void = () => {};
    const reporter = reporterFor(fixture, (report) => {
      sent.push(report);
      return new Promise((resolve) => {
        release = () => resolve(true);
      });
    });
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    const first = reporter.tick();
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    expect(reporter.tick()).toBe(first);
    release();
    await first;
    const second = reporter.tick();
    release();
    await second;
    expect(sent.map((report) => report.edges[0]?.requests)).toEqual([1, 2]);
    await reporter.close();
  });

  it('carries the endpoints ejected now and the faults injected per route', async () => {
    const fixture = setUp();
    const reports: EdgeReport[] = [];
    const meshEvents = new EdgeMeshEvents(fixture.mesh);
    const reporter = reporterFor(
      fixture,
      async (report) => {
        reports.push(report);
        return true;
      },
      meshEvents,
    );
    const events = fixture.mesh.events;
    const atMs = fixture.clock.now();
    events.outlier.emit({
      type: 'ejected',
      cluster: `outbound|9080|v2|${REVIEWS}`,
      endpoint: '10.0.0.2:9080',
      reason: 'consecutive-5xx',
      durationMs: 30_000,
      times: 1,
      atMs,
    });
    events.outlier.emit({
      type: 'ejected',
      cluster: `outbound|9080|v2|${REVIEWS}`,
      endpoint: '10.0.0.3:9080',
      reason: 'consecutive-5xx',
      durationMs: 30_000,
      times: 2,
      atMs,
    });
    events.outlier.emit({
      type: 'returned',
      cluster: `outbound|9080|v2|${REVIEWS}`,
      endpoint: '10.0.0.3:9080',
      ejectedForMs: 10,
      atMs,
    });
    events.fault.emit({ type: 'fault-injected', route: 'ratings-abort', httpStatus: 500, atMs });
    events.fault.emit({ type: 'fault-injected', route: 'ratings-abort', httpStatus: 500, atMs });
    events.fault.emit({ type: 'fault-injected', route: 'ratings-delay', delayMs: 7_000, atMs });
    fixture.clock.advance(5_000);
    await settled();
    expect(reports[0]?.ejections).toEqual([
      {
        cluster: `outbound|9080|v2|${REVIEWS}`,
        endpoint: '10.0.0.2:9080',
        reason: 'consecutive-5xx',
        ejectedForMs: 5_000,
        times: 1,
      },
    ]);
    expect(reports[0]?.faults).toEqual([
      { route: 'ratings-abort', delays: 0, aborts: 2, overflows: 0 },
      { route: 'ratings-delay', delays: 1, aborts: 0, overflows: 0 },
    ]);
    // Faults are per interval; an ejection stays until it is returned (or long stale).
    fixture.clock.advance(5_000);
    await settled();
    expect(reports[1]?.faults).toEqual([]);
    expect(reports[1]?.ejections.map((ejection) => ejection.ejectedForMs)).toEqual([10_000]);
    // Its cluster went away without a `returned`: dropped a minute after it could have ended.
    fixture.clock.advance(80_000);
    expect(meshEvents.ejections()).toHaveLength(1);
    fixture.clock.advance(10_001);
    expect(meshEvents.ejections()).toEqual([]);
    await reporter.close();
  });
});

describe('startEdgeReporting', () => {
  it('attaches to the mesh, names the source by its labels and service, and detaches on close', async () => {
    const fixture = telemetryMesh();
    mesh = fixture.mesh;
    const reports: EdgeReport[] = [];
    const reporting = startEdgeReporting(fixture.mesh, {
      options: { intervalMs: 1_000 },
      clock: fixture.clock,
      send: async (report) => {
        reports.push(report);
        return true;
      },
      onError: () => {},
    });
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    fixture.clock.advance(1_000);
    await settled();
    expect(reports[0]?.source).toEqual({
      app: 'productpage',
      version: 'v1',
      service: 'productpage.default.svc.cluster.local',
    });
    expect(reports[0]?.edges[0]?.destination).toEqual({ service: REVIEWS, version: 'v2' });
    await reporting.close();
    expect(fixture.mesh.telemetry.startClientCall(routeRequest())).toBeUndefined();
    expect(fixture.clock.pendingTimers).toBe(0);
  });

  it('refuses an interval under 100 ms and a maxEdges over 500', () => {
    const fixture = telemetryMesh();
    mesh = fixture.mesh;
    const input = { clock: fixture.clock, send: async () => true, onError: () => {} };
    expect(() => startEdgeReporting(fixture.mesh, { ...input, options: { intervalMs: 10 } })).toThrow(
      RangeError,
    );
    expect(() => startEdgeReporting(fixture.mesh, { ...input, options: { maxEdges: 501 } })).toThrow(
      RangeError,
    );
  });
});
