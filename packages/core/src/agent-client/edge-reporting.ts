import { toFqdn } from '../config/host.ts';
import type { Mesh } from '../mesh/create-mesh.ts';
import type { Clock } from '../time/clock.ts';
import { EdgeAggregator } from './edge-aggregator.ts';
import { EdgeMeshEvents } from './edge-mesh-events.ts';
import type { EdgeReport } from './edge-protocol.ts';
import { MAX_EDGES_PER_REPORT } from './edge-protocol.ts';
import { EdgeReporter } from './edge-reporter.ts';

/** `connectToAgent`'s `edges` option: the per-edge aggregates reported for the agent's dashboard. */
export interface EdgeReportOptions {
  /** How often a report goes to the agent. Default 5,000 ms. */
  readonly intervalMs?: number;
  /** The most edges tracked and reported at once (1–500); more are dropped and counted. Default 200. */
  readonly maxEdges?: number;
}

export const EDGE_REPORT_DEFAULTS = Object.freeze({ intervalMs: 5_000, maxEdges: 200 });

export interface EdgeReporting {
  /** The aggregates being filled (for tests and diagnostics). */
  readonly aggregator: EdgeAggregator;
  readonly reporter: EdgeReporter;
  /** Detaches from the mesh's telemetry and events, stops the timer, waits for a report in flight. */
  close(): Promise<void>;
}

/**
 * Starts the agent client's edge reporting for `mesh`: an aggregator attached to the mesh's
 * telemetry (every outbound call's outcome), the mesh's ejection and fault events, and a reporter
 * that posts them every `intervalMs` with `send`.
 */
export function startEdgeReporting(
  mesh: Mesh,
  input: {
    readonly options: EdgeReportOptions | undefined;
    readonly clock: Clock;
    readonly send: (report: EdgeReport) => Promise<boolean>;
    readonly onError: (error: unknown) => void;
  },
): EdgeReporting {
  const intervalMs = input.options?.intervalMs ?? EDGE_REPORT_DEFAULTS.intervalMs;
  const maxEdges = input.options?.maxEdges ?? EDGE_REPORT_DEFAULTS.maxEdges;
  if (!(Number.isFinite(intervalMs) && intervalMs >= 100))
    throw new RangeError('connectToAgent: edges.intervalMs must be at least 100');
  if (!(Number.isInteger(maxEdges) && maxEdges >= 1 && maxEdges <= MAX_EDGES_PER_REPORT))
    throw new RangeError(
      `connectToAgent: edges.maxEdges must be an integer from 1 to ${MAX_EDGES_PER_REPORT}`,
    );
  const { workload } = mesh;
  const nameContext = () => ({
    namespace: workload.namespace,
    domainSuffix: mesh.snapshot.options.domainSuffix,
  });
  const aggregator = new EdgeAggregator({
    maxEdges,
    resolveHost: (host) => toFqdn(host, nameContext()),
  });
  const detach = mesh.telemetry.attachEdgeSink(aggregator);
  const reporter = new EdgeReporter({
    clock: input.clock,
    intervalMs,
    aggregator,
    meshEvents: new EdgeMeshEvents(mesh),
    source: {
      app: workload.labels.app ?? 'unknown',
      version: workload.labels.version ?? 'unknown',
      ...(workload.service === undefined ? {} : { service: toFqdn(workload.service, nameContext()) }),
    },
    certificate: () => {
      const held = mesh.certificateReport.read()?.certificates.find((entry) => entry.name === 'workload');
      if (held === undefined) return undefined;
      return {
        ...(held.spiffeId === undefined ? {} : { spiffeId: held.spiffeId }),
        notAfter: new Date(held.notAfterMs).toISOString(),
      };
    },
    send: input.send,
    onError: input.onError,
  });
  return {
    aggregator,
    reporter,
    async close() {
      detach();
      await reporter.close();
    },
  };
}
