import type { RevisionMark } from '@weft/core';
import { type ClientRecord, inSyncAt, syncStatusOf } from '../clients/client-registry.ts';
import type { MeshEdgeView } from '../peers/mesh-edge-view.ts';
import { type DashboardInputs, type DashboardView, type EdgeScope, edgeViewOf } from './dashboard-inputs.ts';
import { buildServiceGraph, type ServiceGraph } from './service-graph.ts';

/** What the dashboard shows of each client: its sync status and its certificate. */
export interface WorkloadStatus {
  readonly clientId: string;
  readonly namespace: string;
  readonly workload: string;
  readonly connected: boolean;
  readonly status: string;
  /** When SYNCED: the revision it acked, or a later one that changed nothing it is sent. */
  readonly inSyncAt: RevisionMark | null;
  readonly sent: RevisionMark | null;
  readonly acked: RevisionMark | null;
  readonly nacked: RevisionMark | null;
  /** The NACK's reason, as the client's validator gave it. */
  readonly error: string | null;
  readonly nackedAt: string | null;
  readonly lastSeen: string;
  readonly certificate: {
    readonly spiffeId: string | null;
    readonly notAfter: string;
    readonly expiresInMs: number;
    /** Where it was read: the client's latest edge report, or the config dump it posted. */
    readonly from: 'edge-report' | 'config-dump';
  } | null;
  /** Whether the client reports edges (its latest report is in memory), and how long ago. */
  readonly lastEdgeReportAgoMs: number | null;
}

/**
 * Everything one dashboard page shows but a service's detail. No timestamp of its own: an idle
 * mesh then gives the same state twice, and the event stream sends nothing new.
 */
export interface DashboardSnapshot {
  readonly mark: RevisionMark;
  readonly windowMs: number;
  /** `local`: this agent's clients' edges; `mesh`: every agent's on the store, merged (§4.9). */
  readonly scope: EdgeScope;
  /**
   * Mesh scope: the agents whose edges are drawn, those missing (`partial`), and why. The
   * workloads panel lists this agent's own clients in either scope.
   */
  readonly peers: Pick<MeshEdgeView, 'agents' | 'partial' | 'missing' | 'directoryError'> | null;
  readonly graph: ServiceGraph;
  readonly workloads: readonly WorkloadStatus[];
  readonly analysis: {
    readonly findings: readonly {
      readonly severity: string;
      readonly code: string;
      readonly resource: string;
      readonly path: string;
      readonly message: string;
    }[];
    readonly error: string | null;
  };
  readonly edgeReporting: {
    /** Clients whose reports are in the window. */
    readonly reportingClients: number;
    readonly connectedClients: number;
    readonly dropped: { readonly edges: number; readonly requests: number; readonly reports: number };
  };
  /** Lists cut to their caps (a mesh larger than one page shows). */
  readonly truncated: { readonly edges: boolean; readonly workloads: boolean; readonly findings: boolean };
}

/** Caps on what one state carries, so that a large mesh costs a bounded page and event. */
export const DASHBOARD_CAPS = Object.freeze({ edges: 500, workloads: 500, findings: 200 });

/** The dashboard's whole state for a view: built per refresh, shared by every open page. */
export async function buildDashboardState(
  inputs: DashboardInputs,
  dashboardView: DashboardView,
): Promise<DashboardSnapshot> {
  const [analysis, view] = await Promise.all([inputs.analysis.current(), edgeViewOf(inputs, dashboardView)]);
  const nowMs = inputs.clock.now();
  const wallMs = inputs.wallClock();
  const edges = view.edges.slice(0, DASHBOARD_CAPS.edges);
  const records = [...inputs.clients.list()].sort(byAttention);
  const workloads = records
    .slice(0, DASHBOARD_CAPS.workloads)
    .map((record) => workloadStatus(inputs, record, nowMs, wallMs));
  const dropped = { edges: 0, requests: 0, reports: 0 };
  for (const client of view.clients) {
    dropped.edges += client.dropped.edges;
    dropped.requests += client.dropped.requests;
    dropped.reports += client.dropped.reports;
  }
  return {
    mark: inputs.cache.mark,
    windowMs: view.windowMs,
    scope: dashboardView.scope,
    peers:
      'agents' in view
        ? {
            agents: view.agents,
            partial: view.partial,
            missing: view.missing,
            directoryError: view.directoryError,
          }
        : null,
    graph: buildServiceGraph(edges, inputs.cache.workloads(), inputs.domainSuffix),
    workloads,
    analysis: {
      findings: analysis.findings.slice(0, DASHBOARD_CAPS.findings).map((issue) => ({
        severity: issue.severity,
        code: issue.code,
        resource: issue.resource,
        path: issue.path,
        message: issue.message,
      })),
      error: analysis.error,
    },
    edgeReporting: {
      reportingClients: view.clients.length,
      connectedClients: inputs.hub.size,
      dropped,
    },
    truncated: {
      edges: view.edges.length > edges.length,
      workloads: records.length > workloads.length,
      findings: analysis.findings.length > DASHBOARD_CAPS.findings,
    },
  };
}

/** NACKed first, then stale, then the rest; by client id within each. */
function byAttention(a: ClientRecord, b: ClientRecord): number {
  const rank = (record: ClientRecord): number => {
    const status = syncStatusOf(record);
    return status === 'NACKED' ? 0 : status === 'STALE' ? 1 : record.isConnected ? 2 : 3;
  };
  return rank(a) - rank(b) || (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0);
}

function workloadStatus(
  inputs: DashboardInputs,
  record: ClientRecord,
  nowMs: number,
  wallMs: number,
): WorkloadStatus {
  const nacked = record.lastNacked;
  return {
    clientId: record.clientId,
    namespace: record.namespace,
    workload: record.workload,
    connected: record.isConnected,
    status: syncStatusOf(record),
    inSyncAt: inSyncAt(record) ?? null,
    sent: record.lastSent ?? null,
    acked: record.lastAcked ?? null,
    nacked: nacked?.mark ?? null,
    error: nacked?.error ?? null,
    nackedAt: nacked === undefined ? null : new Date(nacked.atMs).toISOString(),
    lastSeen: new Date(record.lastSeenMs).toISOString(),
    certificate: certificateOf(inputs, record, wallMs),
    lastEdgeReportAgoMs: inputs.edges.lastReportAgoMs(record.clientId, nowMs) ?? null,
  };
}

/** The certificate from the latest edge report, else from the config dump's `secret` section. */
function certificateOf(
  inputs: DashboardInputs,
  record: ClientRecord,
  wallMs: number,
): WorkloadStatus['certificate'] {
  const reported = inputs.edges.certificateOf(record.clientId);
  if (reported !== undefined) {
    return {
      spiffeId: reported.spiffeId ?? null,
      notAfter: reported.notAfter,
      expiresInMs: Date.parse(reported.notAfter) - wallMs,
      from: 'edge-report',
    };
  }
  const secret = field(record.configDump, 'secret');
  const notAfter = field(field(secret, 'certificate'), 'notAfter');
  if (typeof notAfter !== 'string' || Number.isNaN(Date.parse(notAfter))) return null;
  const spiffeId = field(secret, 'spiffeId');
  return {
    spiffeId: typeof spiffeId === 'string' ? spiffeId : null,
    notAfter,
    expiresInMs: Date.parse(notAfter) - wallMs,
    from: 'config-dump',
  };
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}
