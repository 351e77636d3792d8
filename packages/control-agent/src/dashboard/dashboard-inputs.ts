import type { Clock, ConfigIssue, RevisionMark } from '@weft/core';
import type { StoredAnalysis } from '../admin/stored-analysis.ts';
import type { ClientRegistry } from '../clients/client-registry.ts';
import type { MeshCache } from '../mesh-view/mesh-cache.ts';
import type { MeshEdgeView } from '../peers/mesh-edge-view.ts';
import type { WatchHub } from '../watch/watch-hub.ts';
import type { EdgeRegistry, EdgeView } from './edge-registry.ts';

/** Whose edges a view holds: this agent's clients', or every agent's on the store (PROTOCOL.md §4.9). */
export type EdgeScope = 'local' | 'mesh';

/** What one dashboard stream or request shows: a window, over one scope. */
export interface DashboardView {
  readonly windowMs: number;
  readonly scope: EdgeScope;
}

/** What the dashboard reads: the agent's view, its clients, their edge reports, and analyze. */
export interface DashboardInputs {
  readonly cache: MeshCache;
  readonly clients: ClientRegistry;
  readonly hub: WatchHub;
  readonly edges: EdgeRegistry;
  /** Every agent's edges merged (this one's alone when it has no peers). */
  readonly meshEdges: (windowMs: number) => Promise<MeshEdgeView>;
  readonly analysis: AnalysisCache;
  readonly domainSuffix: string;
  /** The agent's clock: edge windows are on it. */
  readonly clock: Clock;
  /** Wall-clock ms, for certificate expiry and "generated at". */
  readonly wallClock: () => number;
}

/** The edges of a view: this agent's (synchronous), or the merge of every agent's. */
export function edgeViewOf(inputs: DashboardInputs, view: DashboardView): Promise<EdgeView | MeshEdgeView> {
  return view.scope === 'mesh'
    ? inputs.meshEdges(view.windowMs)
    : Promise.resolve(inputs.edges.view(inputs.clock.now(), view.windowMs));
}

export interface AnalysisResult {
  readonly mark: RevisionMark;
  readonly findings: readonly ConfigIssue[];
  /** Why analyze could not run (the store is unreachable), if it could not. */
  readonly error: string | null;
}

/**
 * `analyze` over the stored config (GET /v1/analyze's findings), run at most once per revision of
 * the agent's view however many dashboards watch: the stream asks every couple of seconds, and
 * the answer only changes when the config or the registry does.
 */
export class AnalysisCache {
  readonly #analysis: Pick<StoredAnalysis, 'analyze'>;
  readonly #mark: () => RevisionMark;
  #latest: { readonly key: string; readonly result: Promise<AnalysisResult> } | undefined;

  constructor(analysis: Pick<StoredAnalysis, 'analyze'>, mark: () => RevisionMark) {
    this.#analysis = analysis;
    this.#mark = mark;
  }

  current(): Promise<AnalysisResult> {
    const mark = this.#mark();
    const key = `${mark.epoch}/${mark.revision}`;
    if (this.#latest?.key === key) return this.#latest.result;
    const result = this.#analysis.analyze().then(
      (findings): AnalysisResult => ({ mark, findings, error: null }),
      (error: unknown): AnalysisResult => {
        // Not kept: the next call tries again.
        if (this.#latest?.key === key) this.#latest = undefined;
        return { mark, findings: [], error: error instanceof Error ? error.message : String(error) };
      },
    );
    this.#latest = { key, result };
    return result;
  }
}
