import type { Clock, ConfigIssue, RevisionMark } from '@weft/core';
import type { StoredAnalysis } from '../admin/stored-analysis.ts';
import type { ClientRegistry } from '../clients/client-registry.ts';
import type { MeshCache } from '../mesh-view/mesh-cache.ts';
import type { WatchHub } from '../watch/watch-hub.ts';
import type { EdgeRegistry } from './edge-registry.ts';

/** What the dashboard reads: the agent's view, its clients, their edge reports, and analyze. */
export interface DashboardInputs {
  readonly cache: MeshCache;
  readonly clients: ClientRegistry;
  readonly hub: WatchHub;
  readonly edges: EdgeRegistry;
  readonly analysis: AnalysisCache;
  readonly domainSuffix: string;
  /** The agent's clock: edge windows are on it. */
  readonly clock: Clock;
  /** Wall-clock ms, for certificate expiry and "generated at". */
  readonly wallClock: () => number;
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
