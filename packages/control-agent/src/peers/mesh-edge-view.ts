import type { Clock } from '@weft/core';
import {
  type ClientEdgeSummary,
  EdgeMerge,
  type EdgeView,
  type MergedEdge,
} from '../dashboard/edge-registry.ts';
import type { AgentDirectory, AgentRecord } from './agent-directory.ts';
import { fetchPeerEdges, type PeerRequestOptions } from './peer-edges.ts';

/** One agent whose edges a mesh view holds. */
export interface ViewAgent {
  readonly id: string;
  readonly url: string;
  /** This agent (the one that answered). */
  readonly self: boolean;
  /** The window that agent served (its buckets may differ from this one's). */
  readonly windowMs: number;
  readonly edges: number;
  readonly clients: number;
}

/** An agent in the directory whose edges are not in the view, and why. */
export interface MissingAgent {
  readonly id: string;
  readonly url: string;
  readonly reason: string;
}

/**
 * `GET /v1/edges?scope=mesh` (PROTOCOL.md §4.9): every agent's own edges merged — counts and
 * histogram buckets summed per edge, rates added (each agent's clients are its own), error rate
 * and percentiles computed again from the sums. `partial` says some agent's edges are missing.
 */
export interface MeshEdgeView extends Omit<EdgeView, 'clients'> {
  readonly scope: 'mesh';
  /** Every reporting client of every agent that answered, each with its agent's id. */
  readonly clients: readonly (ClientEdgeSummary & { readonly agent: string })[];
  readonly agents: readonly ViewAgent[];
  readonly partial: boolean;
  readonly missing: readonly MissingAgent[];
  /** Why the directory of agents could not be read (then only this agent's edges are in). */
  readonly directoryError: string | null;
}

export interface MeshEdgeDeps {
  readonly self: AgentRecord;
  /** Undefined when the store has none (one agent owns the embedded store: no peers). */
  readonly directory: AgentDirectory | undefined;
  readonly localView: (windowMs: number) => EdgeView;
  readonly request: PeerRequestOptions;
  /** Peers asked at most; the rest are reported missing. */
  readonly maxPeers: number;
  readonly clock: Clock;
}

/**
 * This agent's edges and every peer's, merged. Peers are asked at once, each within the request
 * deadline; one that does not answer in time, answers an error or something that is not an edge
 * view is listed in `missing` and the view is `partial`: a slow peer delays the answer by at most
 * the deadline and never fails it.
 */
export async function meshEdgeView(deps: MeshEdgeDeps, windowMs: number): Promise<MeshEdgeView> {
  const local = deps.localView(windowMs);
  const agents: ViewAgent[] = [
    {
      ...deps.self,
      self: true,
      windowMs: local.windowMs,
      edges: local.edges.length,
      clients: local.clients.length,
    },
  ];
  const views: Pick<EdgeView, 'edges'>[] = [local];
  const clients: (ClientEdgeSummary & { agent: string })[] = local.clients.map((client) => ({
    ...client,
    agent: deps.self.id,
  }));
  const missing: MissingAgent[] = [];
  let directoryError: string | null = null;
  let peers: readonly AgentRecord[] = [];
  if (deps.directory !== undefined) {
    try {
      const listed = await withDeadline(deps.directory.list(), deps.request.timeoutMs, deps.clock);
      peers = listed.agents.filter((agent) => agent.id !== deps.self.id);
      if (listed.unreadable > 0) directoryError = `${listed.unreadable} agent records could not be read`;
    } catch (error) {
      directoryError = `the agent directory could not be read: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  for (const peer of peers.slice(deps.maxPeers))
    missing.push({ ...peer, reason: `not asked: at most ${deps.maxPeers} peers are asked` });
  const answers = await Promise.allSettled(
    peers.slice(0, deps.maxPeers).map((peer) => fetchPeerEdges(peer, windowMs, deps.request)),
  );
  answers.forEach((answer, index) => {
    const peer = peers[index] as AgentRecord;
    if (answer.status === 'rejected') {
      const reason = answer.reason instanceof Error ? answer.reason.message : String(answer.reason);
      missing.push({ id: peer.id, url: peer.url, reason });
      return;
    }
    const view = answer.value;
    views.push(view);
    agents.push({
      ...peer,
      self: false,
      windowMs: view.windowMs,
      edges: view.edges.length,
      clients: view.clients.length,
    });
    for (const client of view.clients) clients.push({ ...client, agent: peer.id });
  });
  return {
    scope: 'mesh',
    windowMs: local.windowMs,
    bucketMs: local.bucketMs,
    edges: mergeEdges(views),
    clients,
    agents,
    partial: missing.length > 0 || directoryError !== null,
    missing,
    directoryError,
  };
}

/** The edges of several agents, one per edge: counts summed, rates added, quantiles from the sums. */
export function mergeEdges(views: readonly Pick<EdgeView, 'edges'>[]): MergedEdge[] {
  const merge = new EdgeMerge();
  for (const view of views) {
    for (const edge of view.edges)
      merge.add(edge.source, edge.reporter, edge, edge.requestsPerSecond, edge.reporters);
  }
  return merge.edges();
}

/** `promise`, or a rejection once `timeoutMs` passed; the timer is cleared either way. */
function withDeadline<T>(promise: Promise<T>, timeoutMs: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}
