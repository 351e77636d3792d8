import {
  type Cluster,
  type ClusterEndpoint,
  type ClusterRuntime,
  type IdentityMaterial,
  type IdentitySource,
  type IstioMutualPlan,
  type Mesh,
  type OriginationPlan,
  resolvePoolLimits,
  UpstreamTlsError,
  undiciPoolOptions,
  upstreamTlsPlan,
} from '@weft/core';
import type { Pool } from 'undici';
import type { EndpointPoolOptions } from '../endpoint-pool-options.ts';
import { formatAddress } from '../mirror.ts';
import type { EndpointTransport, TlsTransport } from './endpoint-transport.ts';
import { materialGeneration, meshSecureContext } from './mesh-secure-context.ts';
import { originationContext } from './origination-context.ts';
import { SecurePool } from './secure-pool.ts';
import { originationCheck, spiffeIdentityCheck } from './server-identity-checks.ts';
import { hostOf, isIpLiteral } from './sni-host.ts';

export interface UpstreamTransportOptions {
  /** Where plaintext endpoint origins' connection settings go, for the Agent's pool factory. */
  readonly endpointPools?: EndpointPoolOptions;
  /** undici options every TLS pool starts from (the dispatcher's agentOptions). */
  readonly basePoolOptions?: Pool.Options;
}

/** The decision for one endpoint, and what it was decided with. */
interface CachedTransport {
  readonly source: IdentitySource | undefined;
  readonly material: IdentityMaterial | undefined;
  readonly scheme: 'http' | 'https';
  /** For TLS origination without a configured SNI: the host name whose SNI the transport sends. */
  readonly sniHost: string | undefined;
  readonly transport: EndpointTransport;
}

/**
 * Decides how each attempt reaches its endpoint — plaintext, mTLS with the workload's SVID, TLS
 * origination, or not at all — from core's upstream TLS plan (DestinationRule `tls`, auto-mTLS)
 * and the mesh's identity slot, and owns the TLS connection pools.
 *
 * Pools are keyed by (endpoint origin, TLS settings, identity material). A renewed certificate or
 * a new trust bundle is a new material, hence a new pool for new requests, while the previous pool
 * is retired: it takes no more requests, lets those on it finish, then closes (see SecurePool).
 * That costs a fresh handshake per connection after each renewal (every ~12 h), and buys what a
 * connect function reading the current material could not: no connection, and no resumed TLS
 * session, survives a trust change past its last request (bad-inputs E12, E16).
 *
 * The decision is cached per endpoint object (endpoints live as long as their snapshot) and
 * checked against the current material on every attempt: one WeakMap read and two comparisons.
 */
export class UpstreamTransport {
  readonly #mesh: Mesh;
  readonly #options: UpstreamTransportOptions;
  readonly #cache = new WeakMap<ClusterEndpoint, CachedTransport>();
  /** Every live pool by its full key, and the newest by key without the material/file version. */
  readonly #pools = new Map<string, SecurePool>();
  readonly #current = new Map<string, SecurePool>();
  readonly #keys = new WeakMap<SecurePool, { readonly key: string; readonly baseKey: string }>();
  readonly #callerTlsPlans = new WeakMap<Cluster, OriginationPlan>();
  readonly #plaintextOrigins = new WeakMap<ClusterEndpoint, EndpointTransport>();
  #isClosed = false;

  constructor(mesh: Mesh, options: UpstreamTransportOptions = {}) {
    this.#mesh = mesh;
    this.#options = options;
  }

  /**
   * How an attempt to `endpoint` of `runtime`'s cluster goes. `scheme` is the one the caller wrote
   * (`https://` to a mesh host is never sent as plaintext), `authority` the Host the request
   * carries (TLS origination sends its host name as SNI unless the DestinationRule names one).
   */
  forAttempt(
    runtime: ClusterRuntime,
    endpoint: ClusterEndpoint,
    scheme: 'http' | 'https',
    authority: string,
  ): EndpointTransport {
    const source = this.#mesh.identity;
    const material = source?.current();
    const cached = this.#cache.get(endpoint);
    if (
      cached !== undefined &&
      cached.material === material &&
      cached.source === source &&
      cached.scheme === scheme &&
      (cached.sniHost === undefined || cached.sniHost === hostOf(authority)) &&
      !(cached.transport.kind === 'tls' && cached.transport.pool.isRetired)
    ) {
      return cached.transport;
    }
    const decided = this.#decide(runtime, endpoint, scheme, authority, source, material);
    this.#cache.set(endpoint, { source, material, scheme, ...decided });
    return decided.transport;
  }

  /** Closes every TLS pool, letting requests on them finish. */
  async close(): Promise<void> {
    this.#isClosed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    this.#current.clear();
    await Promise.all(pools.map((pool) => pool.retire()));
  }

  async destroy(): Promise<void> {
    this.#isClosed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    this.#current.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }

  #decide(
    runtime: ClusterRuntime,
    endpoint: ClusterEndpoint,
    scheme: 'http' | 'https',
    authority: string,
    source: IdentitySource | undefined,
    material: IdentityMaterial | undefined,
  ): { readonly transport: EndpointTransport; readonly sniHost: string | undefined } {
    const cluster = runtime.cluster;
    const plan = upstreamTlsPlan(cluster, endpoint, this.#mesh.snapshot);
    switch (plan.kind) {
      case 'refused':
        return fixed(refused('configuration', plan.message));
      case 'origination':
        return this.#originate(plan, runtime, endpoint, authority, false);
      case 'istio-mutual':
        // A workload without an identity sends plaintext where auto-mTLS would use mTLS (a pod
        // without a sidecar does), but never where a DestinationRule requires ISTIO_MUTUAL.
        if (plan.isAuto && source === undefined) break;
        if (material === undefined) {
          return fixed(
            refused(
              'identity-unavailable',
              source === undefined
                ? `${cluster.name}: the DestinationRule says ISTIO_MUTUAL and this workload has no identity (connectToAgent(mesh, { identity }), or createMesh({ identity }))`
                : `${cluster.name}: mTLS is required and this workload has no certificate yet (waiting for its first SVID)`,
            ),
          );
        }
        return fixed(this.#mutual(plan, runtime, endpoint, material));
      case 'plaintext':
        break;
    }
    if (scheme === 'https')
      return this.#originate(this.#callerTlsPlan(cluster), runtime, endpoint, authority, true);
    return fixed(this.#plaintext(endpoint, runtime));
  }

  #plaintext(endpoint: ClusterEndpoint, runtime: ClusterRuntime): EndpointTransport {
    let transport = this.#plaintextOrigins.get(endpoint);
    if (transport === undefined) {
      const origin = `http://${formatAddress(endpoint.address)}:${endpoint.port}`;
      this.#options.endpointPools?.remember(origin, runtime);
      transport = { kind: 'plaintext', origin, securityPolicy: 'none' };
      this.#plaintextOrigins.set(endpoint, transport);
    }
    return transport;
  }

  #mutual(
    plan: IstioMutualPlan,
    runtime: ClusterRuntime,
    endpoint: ClusterEndpoint,
    material: IdentityMaterial,
  ): EndpointTransport {
    const origin = httpsOrigin(endpoint);
    const baseKey = `${origin}|ISTIO_MUTUAL|${plan.sni}|${plan.identities.fingerprint}`;
    const { trustDomain } = material;
    const pool = this.#pool(baseKey, `${baseKey}|${materialGeneration(material)}`, () => {
      const check = spiffeIdentityCheck(trustDomain, plan.identities.allows);
      return new SecurePool({
        origin,
        facts: facts(runtime, endpoint, 'ISTIO_MUTUAL', plan.isAuto),
        connector: {
          secureContext: meshSecureContext(material),
          servername: plan.sni,
          rejectUnauthorized: true,
          // Node's hostname check ignores URI SANs (bad-inputs E7): the SPIFFE ID is the identity.
          checkServerIdentity: check.checkServerIdentity,
          timeoutMs: connectTimeoutMs(runtime),
          description: `ISTIO_MUTUAL to ${origin.slice('https://'.length)} (SNI ${plan.sni}; accepting ${plan.identities.describe()} of ${trustDomain})`,
        },
        peerOf: check.lastVerified,
        poolOptions: this.#poolOptions(runtime),
        events: this.#mesh.events.tls,
        clock: this.#mesh.clock,
      });
    });
    if (pool === undefined) return CLOSED;
    return {
      kind: 'tls',
      origin,
      servername: plan.sni,
      pool,
      securityPolicy: 'mutual_tls',
      sourcePrincipal: material.spiffeId,
    };
  }

  #originate(
    plan: OriginationPlan,
    runtime: ClusterRuntime,
    endpoint: ClusterEndpoint,
    authority: string,
    isCallerTls: boolean,
  ): { readonly transport: EndpointTransport; readonly sniHost: string | undefined } {
    const context = originationContext(plan);
    if (context instanceof UpstreamTlsError) return fixed({ kind: 'refused', error: context });
    // Istio's auto SNI: without a configured one, the host the request is for. An IP is no SNI.
    const sniHost = plan.sni === undefined ? hostOf(authority) : undefined;
    const sni = plan.sni ?? (sniHost === undefined || isIpLiteral(sniHost) ? undefined : sniHost);
    const origin = httpsOrigin(endpoint);
    const sans = plan.subjectAltNames;
    const baseKey = `${origin}|${plan.mode}|${sni ?? ''}|${sans.join(',')}|${plan.insecureSkipVerify}|${isCallerTls}`;
    const label = isCallerTls ? 'TLS (the caller asked for https)' : `TLS ${plan.mode} origination`;
    const pool = this.#pool(baseKey, `${baseKey}|${context.version}`, () => {
      const target = origin.slice('https://'.length);
      return new SecurePool({
        origin,
        facts: facts(runtime, endpoint, plan.mode, false),
        connector: {
          secureContext: context.secureContext,
          servername: sni,
          rejectUnauthorized: !plan.insecureSkipVerify,
          checkServerIdentity: originationCheck(plan.insecureSkipVerify, sans),
          timeoutMs: connectTimeoutMs(runtime),
          description: `${label} to ${target} (SNI ${sni ?? 'none'}${sans.length > 0 ? `; expecting ${sans.join(', ')}` : ''})`,
        },
        poolOptions: this.#poolOptions(runtime),
        events: this.#mesh.events.tls,
        clock: this.#mesh.clock,
      });
    });
    if (pool === undefined) return fixed(CLOSED);
    const transport: TlsTransport = {
      kind: 'tls',
      origin,
      // undici needs one constant servername per pool; an IP stands in when no SNI is sent.
      servername: sni ?? endpoint.address,
      pool,
      securityPolicy: plan.mode === 'MUTUAL' ? 'mutual_tls' : 'none',
      sourcePrincipal: undefined,
    };
    return { transport, sniHost };
  }

  /**
   * The pool for `key`, made if needed; a newer pool for the same `baseKey` retires the older.
   * Undefined once the transport is closed.
   */
  #pool(baseKey: string, key: string, make: () => SecurePool): SecurePool | undefined {
    let pool = this.#pools.get(key);
    if (pool !== undefined && !pool.isRetired) return pool;
    if (this.#isClosed) return undefined;
    this.#sweep();
    pool = make();
    this.#pools.set(key, pool);
    this.#keys.set(pool, { key, baseKey });
    const previous = this.#current.get(baseKey);
    this.#current.set(baseKey, pool);
    if (previous !== undefined && previous !== pool) this.#drop(previous);
    return pool;
  }

  /**
   * Drops the pools unused for a minute (endpoints come and go, and their pools must not pile up).
   * Run when a pool is made, the only way their number grows; a minute keeps a pool, and its TLS
   * session cache, across the keep-alive closes of a quiet endpoint.
   */
  #sweep(): void {
    for (const pool of this.#pools.values()) if (pool.isUnusedFor(UNUSED_POOL_MS)) this.#drop(pool);
  }

  /**
   * Forgets a pool (a newer one replaced it, or it went unused) and retires it. A cached decision
   * that still names it sees it retired and is made again.
   */
  #drop(pool: SecurePool): void {
    const keys = this.#keys.get(pool);
    if (keys !== undefined) {
      if (this.#pools.get(keys.key) === pool) this.#pools.delete(keys.key);
      if (this.#current.get(keys.baseKey) === pool) this.#current.delete(keys.baseKey);
    }
    void pool.retire();
  }

  #poolOptions(runtime: ClusterRuntime): Pool.Options {
    const { connect: _connect, ...settings } = undiciPoolOptions(
      resolvePoolLimits(runtime.cluster.policy.connectionPool),
    );
    const {
      factory: _factory,
      connect: _baseConnect,
      ...base
    } = (this.#options.basePoolOptions ?? {}) as Pool.Options & {
      factory?: unknown;
    };
    return { ...base, ...settings, allowH2: false };
  }

  /** The caller wrote `https://` and no DestinationRule says how: TLS verified as the caller would have. */
  #callerTlsPlan(cluster: Cluster): OriginationPlan {
    let plan = this.#callerTlsPlans.get(cluster);
    if (plan === undefined) {
      plan = {
        kind: 'origination',
        mode: 'SIMPLE',
        cluster: cluster.name,
        subjectAltNames: [],
        insecureSkipVerify: false,
      };
      this.#callerTlsPlans.set(cluster, plan);
    }
    return plan;
  }
}

/** How long a TLS pool may sit without connections before it is dropped. */
const UNUSED_POOL_MS = 60_000;

const CLOSED: EndpointTransport = {
  kind: 'refused',
  error: new UpstreamTlsError('handshake', false, 'the mesh dispatcher was closed'),
};

function fixed(transport: EndpointTransport): {
  readonly transport: EndpointTransport;
  readonly sniHost: undefined;
} {
  return { transport, sniHost: undefined };
}

function refused(reason: 'configuration' | 'identity-unavailable', message: string): EndpointTransport {
  return { kind: 'refused', error: new UpstreamTlsError(reason, false, message) };
}

function facts(
  runtime: ClusterRuntime,
  endpoint: ClusterEndpoint,
  mode: 'ISTIO_MUTUAL' | 'SIMPLE' | 'MUTUAL',
  isAuto: boolean,
) {
  return {
    cluster: runtime.cluster.name,
    endpoint: `${formatAddress(endpoint.address)}:${endpoint.port}`,
    mode,
    isAuto,
  };
}

function httpsOrigin(endpoint: ClusterEndpoint): string {
  return `https://${formatAddress(endpoint.address)}:${endpoint.port}`;
}

function connectTimeoutMs(runtime: ClusterRuntime): number {
  return resolvePoolLimits(runtime.cluster.policy.connectionPool).connectTimeoutMs;
}
