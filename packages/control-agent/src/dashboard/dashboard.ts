import type { Clock, RevisionMark } from '@weft/core';
import type { StoredAnalysis } from '../admin/stored-analysis.ts';
import type { ClientRegistry } from '../clients/client-registry.ts';
import type { Route } from '../http/router.ts';
import type { MeshCache } from '../mesh-view/mesh-cache.ts';
import type { AgentDirectory, AgentRecord } from '../peers/agent-directory.ts';
import { meshEdgeView } from '../peers/mesh-edge-view.ts';
import type { PeerSettings } from '../peers/peer-options.ts';
import type { WatchHub } from '../watch/watch-hub.ts';
import { DashboardAccess } from './dashboard-access.ts';
import { DashboardEvents } from './dashboard-events.ts';
import { AnalysisCache, type DashboardInputs } from './dashboard-inputs.ts';
import { dashboardRoutes } from './dashboard-routes.ts';
import { buildDashboardState } from './dashboard-state.ts';
import { EdgeRegistry } from './edge-registry.ts';
import { DEFAULT_EDGE_WINDOW, type EdgeWindowSettings } from './edge-window.ts';

/** The agent's `dashboard` option. */
export interface DashboardOptions {
  /** How often open dashboards get a new state (when it changed). Default 2,000 ms. */
  readonly refreshMs?: number;
  /** The edge windows' buckets: width and count (the longest window). Default 12 × 5,000 ms. */
  readonly edgeWindow?: EdgeWindowSettings;
  /** Dashboards streaming at once. Default 32. */
  readonly maxStreams?: number;
}

export interface Dashboard {
  readonly routes: readonly Route[];
  readonly edges: EdgeRegistry;
  /** Ends every event stream. */
  close(): void;
}

/** The edge registry, the dashboard's state and event stream, and their routes, for one agent. */
export function createDashboard(input: {
  readonly options: DashboardOptions | undefined;
  readonly cache: MeshCache;
  readonly clients: ClientRegistry;
  readonly hub: WatchHub;
  readonly analysis: Pick<StoredAnalysis, 'analyze'>;
  readonly adminToken: string | undefined;
  readonly clock: Clock;
  readonly wallClock: () => number;
  readonly domainSuffix: string;
  readonly maxKnownClients: number;
  readonly maxRequestBytes: number;
  /** This agent as its peers know it (its URL is known once it listens). */
  readonly self: () => AgentRecord;
  /** The agents sharing the store, when the store keeps a directory of them. */
  readonly directory: AgentDirectory | undefined;
  readonly peers: PeerSettings;
}): Dashboard {
  const options = input.options ?? {};
  const refreshMs = options.refreshMs ?? 2_000;
  if (!(Number.isFinite(refreshMs) && refreshMs >= 10))
    throw new RangeError('dashboard.refreshMs must be at least 10');
  const window = options.edgeWindow ?? DEFAULT_EDGE_WINDOW;
  if (
    !(
      Number.isInteger(window.bucketMs) &&
      window.bucketMs >= 100 &&
      Number.isInteger(window.buckets) &&
      window.buckets >= 1
    )
  )
    throw new RangeError('dashboard.edgeWindow needs an integer bucketMs ≥ 100 and buckets ≥ 1');
  const edges = new EdgeRegistry({ maxClients: input.maxKnownClients, window });
  const inputs: DashboardInputs = {
    cache: input.cache,
    clients: input.clients,
    hub: input.hub,
    edges,
    meshEdges: (windowMs) =>
      meshEdgeView(
        {
          self: input.self(),
          directory: input.directory,
          localView: (localWindowMs) => edges.view(input.clock.now(), localWindowMs),
          request: {
            adminToken: input.adminToken,
            timeoutMs: input.peers.timeoutMs,
            maxBytes: input.peers.maxAnswerBytes,
            clock: input.clock,
          },
          maxPeers: input.peers.maxPeers,
          clock: input.clock,
        },
        windowMs,
      ),
    analysis: new AnalysisCache(input.analysis, (): RevisionMark => input.cache.mark),
    domainSuffix: input.domainSuffix,
    clock: input.clock,
    wallClock: input.wallClock,
  };
  const events = new DashboardEvents({
    clock: input.clock,
    refreshMs,
    keepAliveMs: 15_000,
    maxStreams: options.maxStreams ?? 32,
    stalledMs: 30_000,
    build: async (view) => JSON.stringify(await buildDashboardState(inputs, view)),
  });
  return {
    routes: dashboardRoutes({
      inputs,
      access: new DashboardAccess(input.adminToken),
      events,
      maxRequestBytes: input.maxRequestBytes,
    }),
    edges,
    close: () => events.close(),
  };
}
