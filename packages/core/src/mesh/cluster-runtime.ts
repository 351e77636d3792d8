import { createClusterLoadBalancer } from '../balancing/cluster-load-balancer.ts';
import { endpointKey } from '../balancing/endpoint-key.ts';
import type { LoadBalancer } from '../balancing/load-balancer.ts';
import type { Cluster } from '../config/compile/cluster.ts';
import type { Disposer } from '../events/event-channel.ts';
import type { Random } from '../randomness/random.ts';
import type { Locality } from '../registry/workload.ts';
import { OutlierDetector } from '../resilience/outlier/outlier-detector.ts';
import type { OutlierEvent } from '../resilience/outlier/outlier-events.ts';
import { resolveOutlierSettings } from '../resilience/outlier/outlier-settings.ts';
import { DEFAULT_PANIC_THRESHOLD_PERCENT, selectWithPanic } from '../resilience/outlier/panic-threshold.ts';
import { ConnectionPoolLimiter, type PoolProtocol } from '../resilience/pool/connection-pool-limiter.ts';
import type { PoolOverflowEvent } from '../resilience/pool/pool-admission.ts';
import { resolvePoolLimits } from '../resilience/pool/pool-limits.ts';
import { RetryBudget } from '../resilience/retry/retry-budget.ts';
import { retryBudgetSettings } from '../resilience/retry/retry-budget-settings.ts';
import type { Clock } from '../time/clock.ts';

export interface ClusterRuntimeDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly sourceLocality?: Locality | undefined;
  readonly sourceLabels?: Readonly<Record<string, string>> | undefined;
  /** The balancer for clusters whose policy names none (Istio: least_request). */
  readonly defaultBalancer?: string | undefined;
  readonly onOutlierEvent?: (event: OutlierEvent) => void;
  readonly onOverflow?: (event: PoolOverflowEvent) => void;
}

/**
 * The live state of one cluster in one process: its load balancer, outlier detector,
 * connection-pool limiter and retry budget. Compiled clusters are immutable and replaced with
 * every snapshot; the runtime outlives them, so counters, ejections, warmup clocks and load
 * records carry over when a new snapshot keeps the cluster (Envoy keeps them across CDS updates
 * the same way).
 */
export class ClusterRuntime {
  readonly name: string;
  readonly pool: ConnectionPoolLimiter;
  readonly retryBudget: RetryBudget;
  readonly #deps: ClusterRuntimeDeps;
  #cluster: Cluster;
  #balancer: LoadBalancer;
  #outlier: OutlierDetector | undefined;
  #disposeOutlier: Disposer | undefined;
  readonly #disposePool: Disposer | undefined;
  #isPanic = false;

  constructor(cluster: Cluster, deps: ClusterRuntimeDeps) {
    this.name = cluster.name;
    this.#deps = deps;
    this.#cluster = cluster;
    this.#balancer = this.#createBalancer(cluster);
    this.pool = new ConnectionPoolLimiter({
      cluster: cluster.name,
      limits: resolvePoolLimits(cluster.policy.connectionPool),
      protocol: poolProtocolOf(cluster),
    });
    this.#disposePool = deps.onOverflow === undefined ? undefined : this.pool.on(deps.onOverflow);
    this.retryBudget = new RetryBudget(cluster.name, retryBudgetSettings(cluster.policy), deps.clock);
    this.#configureOutlier(cluster);
    this.#rebalance();
  }

  get cluster(): Cluster {
    return this.#cluster;
  }

  get balancer(): LoadBalancer {
    return this.#balancer;
  }

  /** Whether too few endpoints are healthy and traffic spreads over all of them (Envoy's panic). */
  get isPanic(): boolean {
    return this.#isPanic;
  }

  get outlierDetector(): OutlierDetector | undefined {
    return this.#outlier;
  }

  /** Takes a newer compile of the same cluster; state of endpoints that remain is kept. */
  update(cluster: Cluster): void {
    if (cluster === this.#cluster) return;
    const previous = this.#cluster;
    this.#cluster = cluster;
    // A new balancer would reset load records and warmup clocks, so only a changed policy (or a
    // change in outlier detection, which turns locality failover on or off) makes one.
    const isOutlierToggled =
      (previous.policy.outlierDetection === undefined) !== (cluster.policy.outlierDetection === undefined);
    if (isOutlierToggled || !sameSettings(previous.policy.loadBalancer, cluster.policy.loadBalancer)) {
      this.#balancer = this.#createBalancer(cluster);
    }
    this.pool.reconfigure(resolvePoolLimits(cluster.policy.connectionPool));
    this.retryBudget.reconfigure(retryBudgetSettings(cluster.policy));
    this.#configureOutlier(cluster);
    this.#rebalance();
  }

  /**
   * Reports a response from an endpoint to outlier detection. `key` is the endpoint's
   * `address:port` as the balancer gave it (LbEndpoint.key), so no string is built per request.
   */
  recordStatus(key: string, status: number): void {
    this.#outlier?.recordHttpStatus(key, status);
  }

  /** Reports a connect failure, reset or timeout (a local-origin failure) to outlier detection. */
  recordLocalOriginFailure(key: string): void {
    this.#outlier?.recordLocalOriginFailure(key);
  }

  dispose(): void {
    this.#disposeOutlier?.();
    this.#disposePool?.();
    this.#outlier?.dispose();
  }

  #createBalancer(cluster: Cluster): LoadBalancer {
    return createClusterLoadBalancer(cluster, {
      random: this.#deps.random,
      clock: this.#deps.clock,
      sourceLocality: this.#deps.sourceLocality,
      sourceLabels: this.#deps.sourceLabels,
      defaultBalancer: this.#deps.defaultBalancer,
    });
  }

  #configureOutlier(cluster: Cluster): void {
    const policy = cluster.policy.outlierDetection;
    const keys = cluster.endpoints.map((endpoint) => endpointKey(endpoint.address, endpoint.port));
    if (policy === undefined) {
      this.#disposeOutlier?.();
      this.#outlier?.dispose();
      this.#outlier = undefined;
      this.#disposeOutlier = undefined;
      return;
    }
    // bad-inputs C5: a small cluster can still eject its one bad endpoint, where Envoy's strict
    // 10% cap would eject nothing below ten endpoints.
    const settings = resolveOutlierSettings(policy, { isOneEjectionAlwaysAllowed: true });
    if (this.#outlier === undefined) {
      this.#outlier = new OutlierDetector({
        cluster: cluster.name,
        settings,
        clock: this.#deps.clock,
        endpoints: keys,
      });
      this.#disposeOutlier = this.#outlier.on((event) => {
        // An ejection or return changes the healthy set: publish a new picker at once.
        if (event.type === 'ejected' || event.type === 'returned') this.#rebalance();
        this.#deps.onOutlierEvent?.(event);
      });
    } else {
      this.#outlier.reconfigure(settings);
      this.#outlier.updateEndpoints(keys);
    }
  }

  /** Publishes the healthy set to the balancer: ejected endpoints out, unless in panic. */
  #rebalance(): void {
    const all = this.#cluster.endpoints;
    const outlier = this.#outlier;
    if (outlier === undefined || outlier.ejectedCount === 0) {
      this.#isPanic = false;
      this.#balancer.update(all, all);
      return;
    }
    const healthy = all.filter(
      (endpoint) => !outlier.isEjected(endpointKey(endpoint.address, endpoint.port)),
    );
    const threshold = outlier.panicThresholdPercent ?? DEFAULT_PANIC_THRESHOLD_PERCENT;
    const selection = selectWithPanic(all, healthy, threshold);
    this.#isPanic = selection.isPanic;
    this.#balancer.update(selection.endpoints, all);
  }
}

/**
 * Whether the cluster's port multiplexes requests on a connection (HTTP/2, gRPC): then
 * `tcp.maxConnections` bounds connections, not calls in flight (each connection carries
 * `maxConcurrentStreams`). Fixed when the runtime is created; a port changing protocol is rare.
 */
function poolProtocolOf(cluster: Cluster): PoolProtocol {
  const protocol = cluster.service.ports.find((port) => port.number === cluster.port)?.protocol;
  return protocol !== undefined && MULTIPLEXED_PROTOCOLS.has(protocol) ? 'http2' : 'http1';
}

const MULTIPLEXED_PROTOCOLS: ReadonlySet<string> = new Set(['HTTP2', 'GRPC', 'GRPC-WEB']);

/** Structural equality of two normalized (JSON) settings objects. */
function sameSettings(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
