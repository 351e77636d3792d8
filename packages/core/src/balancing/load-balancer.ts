import type { ClusterEndpoint, ClusterPolicy } from '../config/compile/cluster.ts';
import type { Random } from '../randomness/random.ts';
import type { Clock } from '../time/clock.ts';
import type { EndpointLoad } from './endpoint-load.ts';
import type { RequestHasher } from './request-hash.ts';

/**
 * The load-balancing contract. Two layers, so that a balancer is easy to write and hard to get
 * wrong:
 *
 * - A registered {@link LoadBalancerFactory} only turns a list of endpoints into a {@link Picker}.
 *   Pickers are built when the endpoint set (or a warmup weight) changes, never per request, and
 *   are immutable in what they choose from: a picker built from a set keeps serving that set while
 *   a newer one is swapped in, so a request never sees a half-updated balancer.
 * - {@link LoadBalancer} (made by `createLoadBalancer`) owns everything that outlives one picker:
 *   the per-endpoint load records, warmup clocks, locality priorities and failover, and the
 *   request hasher. It calls the factory once per endpoint group (priority × locality).
 */

/** Istio's DestinationRule `trafficPolicy.loadBalancer`, as the config layer normalized it. */
export type LoadBalancerSettings = NonNullable<ClusterPolicy['loadBalancer']>;
export type ConsistentHashSettings = NonNullable<LoadBalancerSettings['consistentHash']>;
export type LocalityLbSetting = NonNullable<LoadBalancerSettings['localityLbSetting']>;
export type WarmupSettings = NonNullable<LoadBalancerSettings['warmup']>;

/**
 * One endpoint as a picker sees it. Built once per update (not per request), so a picker returns
 * it without allocating and the caller reaches the load record without a map lookup.
 */
export interface LbEndpoint {
  readonly endpoint: ClusterEndpoint;
  /** `address:port` (`[v6]:port`), the identity load records and warmup clocks are keyed by. */
  readonly key: string;
  /** The endpoint's configured weight (≥ 1 in practice). */
  readonly weight: number;
  /** `weight` scaled down while the endpoint warms up; equal to `weight` otherwise. */
  readonly effectiveWeight: number;
  /**
   * Live, mutable load shared by every picker generation for this endpoint. The caller reports
   * each request on it: `load.onStart()` when it is sent, `load.onEnd(latencyMs, ok)` when done.
   */
  readonly load: EndpointLoad;
}

/**
 * What a pick may depend on. Any per-request object with a `hash` field qualifies, so an adapter
 * passes the state object it already has instead of allocating one.
 */
export interface PickContext {
  /** The request's consistent hash from `LoadBalancer.hasher`; absent → a random hash is used. */
  readonly hash?: number | undefined;
}

/**
 * Chooses an endpoint for one request. `pick` is synchronous and cheap, and the built-ins allocate
 * nothing in it. A picker may keep a cursor (round robin's position, a scheduler's deadlines) but
 * never changes the set it chooses from. `undefined` means no endpoint can take the request (the
 * caller answers "no healthy upstream", Envoy's UH).
 */
export interface Picker {
  pick(context?: PickContext): LbEndpoint | undefined;
}

/** What a factory may use to build pickers. */
export interface BalancerContext {
  /** The DestinationRule's settings (e.g. `consistentHash.ringHash.minimumRingSize`), if any. */
  readonly settings: LoadBalancerSettings | undefined;
  readonly random: Random;
  readonly clock: Clock;
}

/** Builds a picker for one endpoint group; never called with an empty list. */
export type PickerBuilder = (endpoints: readonly LbEndpoint[]) => Picker;

/** A registered load-balancing algorithm. */
export interface LoadBalancerFactory {
  /**
   * Whether its pickers read `effectiveWeight`. Only then does warmup apply, and the balancer
   * rebuilds pickers as warming endpoints ramp up (Envoy supports slow start for round robin and
   * least request only; rebuilding a hash ring every second would be waste).
   */
  readonly usesWarmup: boolean;
  /**
   * Called once per endpoint group for the life of the balancer; may throw a WeftError for
   * settings it cannot honour. The returned builder is called on every update of that group, so
   * it may keep state between updates (a cache, a cursor) if it wants to.
   */
  create(context: BalancerContext): PickerBuilder;
}

/** The per-cluster balancer a caller holds; see `createLoadBalancer`. */
export interface LoadBalancer {
  /** The registry name of the algorithm in force, e.g. `least_request`, `ring_hash`, `passthrough`. */
  readonly name: string;
  /** Present for consistent-hash policies: computes `PickContext.hash` from a request. */
  readonly hasher: RequestHasher | undefined;
  /**
   * Replaces the endpoint set. `healthy` is what may receive traffic now: the caller removes
   * ejected endpoints, and in panic (Envoy: fewer than 50% healthy) passes every endpoint as
   * healthy. `all` is every member of the cluster, healthy or not (defaults to `healthy`); it
   * drives the overprovisioning arithmetic of locality failover and the warmup clocks, so an
   * endpoint that is ejected and comes back does not warm up again when `all` is given.
   */
  update(healthy: readonly ClusterEndpoint[], all?: readonly ClusterEndpoint[]): void;
  /**
   * The picker in force now. Read it per request; it is a field read, except while endpoints
   * warm up, when it reads the clock and rebuilds at most once per warmup step.
   */
  picker(): Picker;
  /** The live load of one endpoint (by `address:port`), for the admin endpoint; never on the request path. */
  endpointLoad?(key: string): EndpointLoad | undefined;
}

/** The picker of an empty endpoint set. */
export const EMPTY_PICKER: Picker = Object.freeze({ pick: () => undefined });
