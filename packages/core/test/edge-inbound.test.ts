/**
 * Destination-reported edges and the gRPC code model (PROTOCOL.md §3.8.2): a workload that reports
 * edges marks its outbound requests, counts inbound requests only from callers that do not, names
 * a verified caller by its labels and any other as unknown, and counts a gRPC status under its
 * HTTP code.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeAggregator } from '../src/agent-client/edge-aggregator.ts';
import { EDGE_REPORTER_HEADER, GRPC_STATUS_HTTP_CODES, type PeerLabels } from '../src/index.ts';
import { closeMeshes, edgeMesh, track } from './support/edge-fixtures.ts';
import { PRODUCTPAGE, routeRequest, telemetryMesh } from './support/telemetry-fixtures.ts';

afterEach(closeMeshes);

const RATINGS_PEER: PeerLabels = {
  workload: 'ratings-v1',
  namespace: 'default',
  principal: 'spiffe://cluster.local/ns/default/sa/ratings',
  app: 'ratings',
  version: 'v1',
  cluster: 'unknown',
};

const HEADER_SETTER = {
  set(carrier: Record<string, string>, key: string, value: string): void {
    carrier[key] = value;
  },
};

describe('edges reported by the destination', () => {
  it('marks every outbound request of a reporting workload, and stops once the sink is detached', () => {
    const fixture = edgeMesh();
    const headers: Record<string, string> = {};
    fixture.mesh.telemetry.startClientCall(routeRequest(), headers, HEADER_SETTER);
    expect(headers[EDGE_REPORTER_HEADER]).toBe('source');
    fixture.detach();
    const after: Record<string, string> = {};
    fixture.mesh.telemetry.startClientCall(routeRequest(), after, HEADER_SETTER);
    expect(after[EDGE_REPORTER_HEADER]).toBeUndefined();
  });

  it('counts inbound requests of unmarked callers per caller: a verified peer by its labels, the rest as unknown', () => {
    const fixture = edgeMesh();
    const served = (peer: PeerLabels | undefined, status: number, headers: Record<string, string> = {}) => {
      const call = fixture.mesh.telemetry.startServerCall(routeRequest(headers));
      if (call === undefined) return false;
      call.peer = peer;
      call.connectionSecurityPolicy = peer === undefined ? 'none' : 'mutual_tls';
      call.requestBytes = 5;
      fixture.clock.advance(4);
      call.responded(status);
      call.responseBytes = 50;
      call.end(null);
      return true;
    };
    expect(served(undefined, 200)).toBe(true);
    expect(served(undefined, 503)).toBe(true);
    expect(served(RATINGS_PEER, 200)).toBe(true);
    // A marked request is its caller's to report: no call at all without an SDK or log.
    expect(served(undefined, 200, { [EDGE_REPORTER_HEADER]: 'source' })).toBe(false);

    const interval = fixture.aggregator.take();
    expect(interval.edges).toEqual([]);
    expect(interval.inbound).toHaveLength(2);
    expect(interval.inbound.find((edge) => edge.caller.kind === 'unknown')).toMatchObject({
      protocol: 'http',
      requests: 2,
      errors: 1,
      codes: { '200': 1, '503': 1 },
      requestBytes: 10,
      responseBytes: 100,
      mtlsRequests: 0,
      durationMsSum: 8,
    });
    expect(interval.inbound.find((edge) => edge.caller.kind === 'peer')).toMatchObject({
      caller: {
        kind: 'peer',
        namespace: 'default',
        workload: 'ratings-v1',
        app: 'ratings',
        version: 'v1',
        principal: RATINGS_PEER.principal,
      },
      requests: 1,
      errors: 0,
      mtlsRequests: 1,
    });
  });

  it('counts a gRPC call under the HTTP code of its status, any status but OK as an error', () => {
    const fixture = edgeMesh();
    for (const status of [0, 0, 14, 4, 5, 1]) {
      const call = fixture.mesh.telemetry.startServerCall(routeRequest(), 'grpc');
      if (call === undefined) throw new Error('an unmarked inbound call must be counted');
      call.grpcStatus = status;
      call.responded(200);
      call.end(null);
    }
    const [edge] = fixture.aggregator.take().inbound;
    expect(edge).toMatchObject({
      protocol: 'grpc',
      requests: 6,
      errors: 4,
      codes: { '200': 2, '503': 1, '504': 1, '404': 1, '499': 1 },
    });
    expect(GRPC_STATUS_HTTP_CODES).toHaveLength(17);
  });

  it('reports no inbound edge for a workload that serves no service', () => {
    const fixture = edgeMesh();
    // edgeMesh's productpage serves `productpage`; this workload is a caller only.
    const { service: _service, ...callerOnly } = PRODUCTPAGE;
    const other = track(telemetryMesh({ workload: callerOnly }));
    other.mesh.telemetry.attachEdgeSink(new EdgeAggregator({ maxEdges: 8, resolveHost: (host) => host }));
    expect(fixture.mesh.telemetry.startServerCall(routeRequest())).toBeDefined();
    expect(other.mesh.telemetry.startServerCall(routeRequest())).toBeUndefined();
    expect(other.mesh.telemetry.startClientCall(routeRequest())).toBeDefined();
  });
});
