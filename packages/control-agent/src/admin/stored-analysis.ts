import {
  analyze,
  type ConfigIssue,
  parseConfigObjects,
  type RegisteredWorkload,
  type Resource,
  resourceKey,
  type StoredResource,
} from '@weft/core';
import type { Store } from '../store/store.ts';

export interface MeshSettings {
  readonly rootNamespace: string;
  readonly defaultExportTo: readonly string[];
  readonly domainSuffix: string;
}

interface ParsedEntry {
  readonly resourceVersion: string;
  readonly resource: Resource | undefined;
  readonly issues: readonly ConfigIssue[];
}

/**
 * `analyze` over what the store holds, optionally with some resources replaced (an apply's, dry
 * run or not). Stored resources are parsed once per resourceVersion and kept, so analysing after
 * each apply costs the parse of what changed, not of the whole mesh.
 */
export class StoredAnalysis {
  readonly #store: Store;
  readonly #mesh: MeshSettings;
  #parsed = new Map<string, ParsedEntry>();

  constructor(store: Store, mesh: MeshSettings) {
    this.#store = store;
    this.#mesh = mesh;
  }

  /**
   * Findings for the stored config with `overlay` in place of the stored resources of the same
   * kind/namespace/name. Stored resources that no longer parse (written by another version of
   * the agent) are left out and reported.
   */
  async analyze(overlay: readonly Resource[] = []): Promise<ConfigIssue[]> {
    const [{ resources: stored }, workloads] = await Promise.all([
      this.#store.listResources(),
      this.#store.listWorkloads(),
    ]);
    const replaced = new Set(overlay.map((resource) => resourceKey(resource)));
    const resources: Resource[] = [...overlay];
    const storedIssues: ConfigIssue[] = [];
    const parsed = new Map<string, ParsedEntry>();
    for (const resource of stored) {
      const key = `${resource.kind}/${resource.metadata.namespace}/${resource.metadata.name}`;
      const entry = this.#parse(key, resource);
      parsed.set(key, entry);
      if (replaced.has(key)) continue;
      if (entry.resource !== undefined) resources.push(entry.resource);
      storedIssues.push(...entry.issues.filter((issue) => issue.severity === 'error'));
    }
    this.#parsed = parsed;
    return [...storedIssues, ...this.#analyze(resources, workloads)];
  }

  #analyze(resources: readonly Resource[], workloads: readonly RegisteredWorkload[]): ConfigIssue[] {
    return analyze(resources, {
      registry: { workloads },
      rootNamespace: this.#mesh.rootNamespace,
      defaultExportTo: this.#mesh.defaultExportTo,
      domainSuffix: this.#mesh.domainSuffix,
    });
  }

  #parse(key: string, stored: StoredResource): ParsedEntry {
    const cached = this.#parsed.get(key);
    if (cached !== undefined && cached.resourceVersion === stored.metadata.resourceVersion) return cached;
    const { resources, issues } = parseConfigObjects([stored], {
      file: `stored ${key}`,
      defaultNamespace: stored.metadata.namespace,
      domainSuffix: this.#mesh.domainSuffix,
    });
    return { resourceVersion: stored.metadata.resourceVersion, resource: resources[0], issues };
  }
}
