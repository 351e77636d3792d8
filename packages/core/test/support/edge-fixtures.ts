/**
 * Shared by the edge tests (edge-aggregates, edge-reports): a telemetry mesh with an edge
 * aggregator attached, and one outbound call reported as @weft/http reports it.
 */
import { EdgeAggregator } from '../../src/agent-client/edge-aggregator.ts';
import type { Cluster, ClusterEndpoint, Mesh, TelemetryCall } from '../../src/index.ts';
import type { FakeClock } from '../../src/testing.ts';
import { routeRequest, type TelemetryMesh, telemetryMesh } from './telemetry-fixtures.ts';

export const REVIEWS = 'reviews.default.svc.cluster.local';

const openMeshes: Mesh[] = [];

/** Tracks a mesh for `closeMeshes` (each test file's afterEach). */
export function track<T extends { readonly mesh: Mesh }>(fixture: T): T {
  openMeshes.push(fixture.mesh);
  return fixture;
}

export function closeMeshes(): void {
  for (const mesh of openMeshes.splice(0)) mesh.close();
}

export interface EdgeMesh extends TelemetryMesh {
  readonly aggregator: EdgeAggregator;
  /** Detaches the aggregator from the mesh's telemetry. */
  readonly detach: () => void;
}

/** A telemetry mesh (productpage-v1 calling reviews) with an aggregator of up to 8 edges attached. */
export function edgeMesh(yaml?: string): EdgeMesh {
  const fixture = track(telemetryMesh(yaml === undefined ? {} : { yaml }));
  const aggregator = new EdgeAggregator({
    maxEdges: 8,
    resolveHost: (host) => `${host}.default.svc.cluster.local`,
  });
  const detach = fixture.mesh.telemetry.attachEdgeSink(aggregator);
  return { ...fixture, aggregator, detach };
}

/** Lets the reporter's promise chain (a send, its bookkeeping) run to the end. */
export function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One outbound call as @weft/http reports it: an attempt to `endpoint`, a response, its end. */
export function call(
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
