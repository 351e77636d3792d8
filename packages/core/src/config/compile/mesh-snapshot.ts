import type { ResourcesByKind } from '../resources.ts';
import {
  type DestinationWorkload,
  type InboundPolicies,
  resolveInboundPolicies,
} from './inbound-policies.ts';
import type { MeshIndex } from './mesh-index.ts';
import type { MeshOptions } from './mesh-options.ts';
import type { MeshService } from './mesh-service.ts';
import { type SourceWorkload, sourceKey } from './source-workload.ts';
import { WorkloadView } from './workload-view.ts';

/**
 * An immutable, indexed view of the whole mesh at one revision. Built by compile(); swapped
 * atomically by whoever holds it. Per-workload views are computed on first request and cached
 * for the snapshot's life, so a process that is one workload pays for one view.
 */
export class MeshSnapshot {
  readonly revision: string;
  readonly #index: MeshIndex;
  readonly #views = new Map<string, WorkloadView>();
  readonly #inbound = new Map<string, InboundPolicies>();

  constructor(index: MeshIndex, revision: string) {
    this.#index = index;
    this.revision = revision;
  }

  get options(): MeshOptions {
    return this.#index.options;
  }

  /** Every resource in the snapshot, by kind, in resource order. */
  get resources(): ResourcesByKind {
    return this.#index.resources;
  }

  /** Every service the mesh knows, by FQDN, before any per-workload visibility. */
  get services(): ReadonlyMap<string, MeshService> {
    return this.#index.services;
  }

  /** The outbound view of a calling workload: hosts, route tables, clusters. */
  forWorkload(source: SourceWorkload): WorkloadView {
    const key = sourceKey(source);
    let view = this.#views.get(key);
    if (view === undefined) {
      view = new WorkloadView(this.#index, source);
      this.#views.set(key, view);
    }
    return view;
  }

  /** The inbound policies of a receiving workload: mTLS mode, authentication, authorization, telemetry. */
  inboundFor(workload: DestinationWorkload): InboundPolicies {
    const key = `${workload.service ?? ''}|${sourceKey(workload)}`;
    let policies = this.#inbound.get(key);
    if (policies === undefined) {
      policies = resolveInboundPolicies(this.#index, workload);
      this.#inbound.set(key, policies);
    }
    return policies;
  }
}
