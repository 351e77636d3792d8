import type { Cluster } from '../config/compile/cluster.ts';
import type { MeshSnapshot } from '../config/compile/mesh-snapshot.ts';
import { ClusterRuntime, type ClusterRuntimeDeps } from './cluster-runtime.ts';

/**
 * Every cluster runtime of one process, by cluster name. A request brings the compiled cluster
 * of the snapshot it routes on; the runtime takes it when it is newer, so state follows the
 * configuration without a stop-the-world reconciliation. Runtimes of hosts that left the mesh
 * are disposed when a snapshot without them arrives.
 */
export class ClusterRuntimes {
  readonly #deps: ClusterRuntimeDeps;
  readonly #runtimes = new Map<string, ClusterRuntime>();

  constructor(deps: ClusterRuntimeDeps) {
    this.#deps = deps;
  }

  /** The runtime for a compiled cluster, created on first use. */
  forCluster(cluster: Cluster): ClusterRuntime {
    let runtime = this.#runtimes.get(cluster.name);
    if (runtime === undefined) {
      runtime = new ClusterRuntime(cluster, this.#deps);
      this.#runtimes.set(cluster.name, runtime);
    } else if (runtime.cluster !== cluster) {
      runtime.update(cluster);
    }
    return runtime;
  }

  /** Runtimes in use, for proxy-config style introspection. */
  all(): Iterable<ClusterRuntime> {
    return this.#runtimes.values();
  }

  /** Disposes runtimes whose host the snapshot no longer knows. */
  prune(snapshot: MeshSnapshot): void {
    for (const [name, runtime] of this.#runtimes) {
      if (snapshot.services.has(runtime.cluster.host)) continue;
      runtime.dispose();
      this.#runtimes.delete(name);
    }
  }

  dispose(): void {
    for (const runtime of this.#runtimes.values()) runtime.dispose();
    this.#runtimes.clear();
  }
}
