import type { Cluster, ClusterEndpoint } from '../config/compile/cluster.ts';
import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import type { Random } from '../randomness/random.ts';
import type { Locality } from '../registry/workload.ts';
import type { Clock } from '../time/clock.ts';
import { loadBalancerName } from './balancer-name.ts';
import { findLoadBalancer, registeredLoadBalancers } from './balancer-registry.ts';
import './builtin-balancers.ts';
import { endpointKey } from './endpoint-key.ts';
import { EndpointLoad } from './endpoint-load.ts';
import { pickerForLevels } from './grouped-picker.ts';
import {
  type BalancerContext,
  EMPTY_PICKER,
  type LbEndpoint,
  type LoadBalancer,
  type LoadBalancerFactory,
  type LoadBalancerSettings,
  type LocalityLbSetting,
  type Picker,
  type PickerBuilder,
  type WarmupSettings,
} from './load-balancer.ts';
import { type LocalityPlan, planLocality } from './locality-plan.ts';
import { priorityLevels } from './priority-levels.ts';
import { createRequestHasher, type RequestHasher } from './request-hash.ts';
import { warmupFactor, warmupStepMs } from './warmup.ts';

export interface LoadBalancerDeps {
  readonly random: Random;
  readonly clock: Clock;
  /** The calling workload's locality; locality priorities are relative to it. */
  readonly sourceLocality?: Locality | undefined;
  /** The calling workload's labels, for `failoverPriority`. */
  readonly sourceLabels?: Readonly<Record<string, string>> | undefined;
  /**
   * Whether locality failover applies. Istio applies it only when the cluster has outlier
   * detection (otherwise nothing would ever fail over); `createClusterLoadBalancer` sets it so.
   */
  readonly enableFailover?: boolean | undefined;
  /** MeshConfig `localityLbSetting`, used when the DestinationRule sets none; Istio's default is `{ enabled: true }`. */
  readonly meshLocalityLbSetting?: LocalityLbSetting | undefined;
  /**
   * The registered balancer for a policy that names none (`simple` unset or UNSPECIFIED);
   * Istio's `least_request` by default. This is how `peak_ewma` is enabled.
   */
  readonly defaultBalancer?: string | undefined;
}

/**
 * The balancer of one cluster: creates the registered algorithm's pickers per endpoint group and
 * publishes one picker over them. It owns what must outlive a picker: load records, warmup
 * clocks, the per-group builders and the request hasher. Not a hot-path object: `update` runs when
 * the endpoint set or health changes, `picker()` is a field read.
 */
class ClusterLoadBalancer implements LoadBalancer {
  readonly name: string;
  readonly hasher: RequestHasher | undefined;
  readonly #factory: LoadBalancerFactory;
  readonly #context: BalancerContext;
  readonly #plan: LocalityPlan | undefined;
  readonly #warmup: WarmupSettings | undefined;
  readonly #loads = new Map<string, EndpointLoad>();
  readonly #joinedAtMs = new Map<string, number>();
  #builders = new Map<string, PickerBuilder>();
  #hasSeenEndpoints = false;
  #members = new Map<string, ClusterEndpoint>();
  #healthy: readonly ClusterEndpoint[] = [];
  #picker: Picker = EMPTY_PICKER;
  #refreshAtMs = Number.POSITIVE_INFINITY;

  constructor(
    name: string,
    factory: LoadBalancerFactory,
    settings: LoadBalancerSettings | undefined,
    deps: LoadBalancerDeps,
  ) {
    this.name = name;
    this.#factory = factory;
    this.#context = { settings, random: deps.random, clock: deps.clock };
    this.#plan = planLocality(settings, {
      source: { locality: deps.sourceLocality, labels: deps.sourceLabels },
      enableFailover: deps.enableFailover ?? false,
      meshSetting: deps.meshLocalityLbSetting,
    });
    this.#warmup = factory.usesWarmup ? settings?.warmup : undefined;
    this.hasher =
      settings?.consistentHash === undefined
        ? undefined
        : createRequestHasher(settings.consistentHash, deps.random);
    // Created now so that settings the algorithm rejects fail here, not on the first update.
    this.#builders.set('', factory.create(this.#context));
  }

  update(healthy: readonly ClusterEndpoint[], all: readonly ClusterEndpoint[] = healthy): void {
    const nowMs = this.#context.clock.now();
    const members = new Map<string, ClusterEndpoint>();
    for (const endpoint of [...all, ...healthy]) {
      const key = endpointKey(endpoint.address, endpoint.port);
      if (!members.has(key)) members.set(key, endpoint);
    }
    // Endpoints present when the balancer first sees any are taken as warm: a caller that just
    // started cannot tell how long they have served, and ramping them all together changes nothing.
    for (const key of members.keys()) {
      if (!this.#joinedAtMs.has(key))
        this.#joinedAtMs.set(key, this.#hasSeenEndpoints ? nowMs : Number.NEGATIVE_INFINITY);
    }
    for (const key of [...this.#joinedAtMs.keys()]) {
      if (members.has(key)) continue;
      this.#joinedAtMs.delete(key);
      this.#loads.delete(key);
    }
    this.#hasSeenEndpoints ||= members.size > 0;
    this.#members = members;
    this.#healthy = healthy;
    this.#rebuild(nowMs);
  }

  endpointLoad(key: string): EndpointLoad | undefined {
    return this.#loads.get(key);
  }

  picker(): Picker {
    if (this.#refreshAtMs !== Number.POSITIVE_INFINITY) {
      const nowMs = this.#context.clock.now();
      if (nowMs >= this.#refreshAtMs) this.#rebuild(nowMs);
    }
    return this.#picker;
  }

  #rebuild(nowMs: number): void {
    const warmup = this.#warmup;
    let isWarming = false;
    const endpoints = this.#healthy.map((endpoint): LbEndpoint => {
      const key = endpointKey(endpoint.address, endpoint.port);
      let load = this.#loads.get(key);
      if (load === undefined) {
        load = new EndpointLoad(this.#context.clock);
        this.#loads.set(key, load);
      }
      let effectiveWeight = endpoint.weight;
      const elapsedMs = nowMs - (this.#joinedAtMs.get(key) ?? Number.NEGATIVE_INFINITY);
      if (warmup !== undefined && elapsedMs < warmup.duration) {
        effectiveWeight = endpoint.weight * warmupFactor(elapsedMs, warmup);
        isWarming = true;
      }
      return { endpoint, key, weight: endpoint.weight, effectiveWeight, load };
    });
    this.#refreshAtMs =
      isWarming && warmup !== undefined ? nowMs + warmupStepMs(warmup) : Number.POSITIVE_INFINITY;
    const builders = new Map<string, PickerBuilder>();
    this.#picker =
      this.#plan === undefined
        ? this.#build('', endpoints, builders)
        : this.#buildGrouped(this.#plan, endpoints, builders);
    this.#builders = builders;
  }

  #build(key: string, endpoints: readonly LbEndpoint[], builders: Map<string, PickerBuilder>): Picker {
    if (endpoints.length === 0) return EMPTY_PICKER;
    const builder = this.#builders.get(key) ?? this.#factory.create(this.#context);
    builders.set(key, builder);
    return builder(endpoints);
  }

  #buildGrouped(
    plan: LocalityPlan,
    endpoints: readonly LbEndpoint[],
    builders: Map<string, PickerBuilder>,
  ): Picker {
    const levels = priorityLevels(plan, this.#members, endpoints, (key, group) =>
      this.#build(key, group, builders),
    );
    return pickerForLevels(levels, this.#context.random);
  }
}

/**
 * The balancer for a cluster's DestinationRule `loadBalancer` settings (undefined: none). Throws
 * a WeftError (WEFT_ERR_CONFIG_VALIDATION) when the selected name is not registered or the
 * algorithm rejects the settings; feed it endpoints with `update`.
 */
export function createLoadBalancer(
  settings: LoadBalancerSettings | undefined,
  deps: LoadBalancerDeps,
): LoadBalancer {
  const name = loadBalancerName(settings, deps.defaultBalancer);
  const factory = findLoadBalancer(name);
  if (factory === undefined) {
    throw new WeftError(
      ErrorCodes.configValidation,
      `no load balancer is registered as "${name}" (registered: ${registeredLoadBalancers().join(', ')})`,
    );
  }
  return new ClusterLoadBalancer(name, factory, settings, deps);
}

/**
 * `createLoadBalancer` for a compiled cluster: its policy, Istio's rule that locality failover
 * needs outlier detection, and every endpoint of the cluster as the initial (healthy) set.
 */
export function createClusterLoadBalancer(
  cluster: Cluster,
  deps: Omit<LoadBalancerDeps, 'enableFailover'>,
): LoadBalancer {
  const balancer = createLoadBalancer(cluster.policy.loadBalancer, {
    ...deps,
    enableFailover: cluster.policy.outlierDetection !== undefined,
  });
  balancer.update(cluster.endpoints);
  return balancer;
}
