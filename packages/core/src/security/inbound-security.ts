import type { DestinationWorkload, InboundPolicies } from '../config/compile/inbound-policies.ts';
import type { MeshSnapshot } from '../config/compile/mesh-snapshot.ts';
import { type Clock, systemClock } from '../time/clock.ts';
import { AuthorizationEngine } from './authz/authorization-engine.ts';
import type { ExternalAuthorizer } from './authz/external/external-authorizer.ts';
import { HttpExtAuthzClient } from './authz/external/http-ext-authz-client.ts';
import { JwksCache } from './jwt/jwks-cache.ts';
import { RequestAuthenticator } from './jwt/request-authenticator.ts';
import type { PathNormalization } from './request-path/path-normalization.ts';

export interface InboundSecurityOptions {
  /** Timers: key set fetch timeouts, refresh and cooldowns, external check timeouts. */
  readonly clock?: Clock;
  /** Wall-clock epoch milliseconds, for JWT `exp` and `nbf`; `Date.now` by default. */
  readonly now?: () => number;
  /** Key sets; one per mesh, so snapshots share them. Created from `clock` when absent. */
  readonly jwksCache?: JwksCache;
  /** Makes CUSTOM policies' HTTP checks; a node:http client when absent. */
  readonly externalAuthorizer?: ExternalAuthorizer;
  /** JWT `exp`/`nbf` leeway (5 s by default). */
  readonly clockToleranceSeconds?: number;
  readonly requireExpiration?: boolean;
}

/** What an inbound server needs for one workload under one snapshot, compiled once. */
export interface WorkloadSecurity {
  readonly pathNormalization: PathNormalization;
  readonly authenticator: RequestAuthenticator;
  readonly authorizer: AuthorizationEngine;
}

/**
 * The request-level security of a process, for the inbound servers (HTTP, gRPC) to call: per
 * workload and snapshot, the path normalization in force, the RequestAuthentication rules and the
 * AuthorizationPolicy engine, compiled on first use and kept for the snapshot's life. The key set
 * cache and the external authorizer's connections outlive snapshots.
 *
 * An inbound server does, per request: normalizeRequestPath (400 if refused) → authenticate
 * (401 if rejected; apply header mutations) → authorize (deny with the decision's response) →
 * hand the normalized path to the application.
 */
export class InboundSecurity {
  readonly jwksCache: JwksCache;
  readonly #options: InboundSecurityOptions;
  readonly #externalAuthorizer: ExternalAuthorizer;
  readonly #ownsExternalAuthorizer: HttpExtAuthzClient | undefined;
  readonly #compiled = new WeakMap<InboundPolicies, WorkloadSecurity>();

  constructor(options: InboundSecurityOptions = {}) {
    const clock = options.clock ?? systemClock;
    this.#options = options;
    this.jwksCache = options.jwksCache ?? new JwksCache({ clock });
    if (options.externalAuthorizer === undefined) {
      this.#ownsExternalAuthorizer = new HttpExtAuthzClient({ clock });
      this.#externalAuthorizer = this.#ownsExternalAuthorizer;
    } else {
      this.#externalAuthorizer = options.externalAuthorizer;
    }
  }

  forWorkload(snapshot: MeshSnapshot, workload: DestinationWorkload): WorkloadSecurity {
    const inbound = snapshot.inboundFor(workload);
    let security = this.#compiled.get(inbound);
    if (security === undefined) {
      const { now, clockToleranceSeconds, requireExpiration } = this.#options;
      security = {
        pathNormalization: snapshot.options.pathNormalization,
        authenticator: new RequestAuthenticator(inbound.requestAuthentications, {
          jwksCache: this.jwksCache,
          ...(now === undefined ? {} : { now }),
          ...(clockToleranceSeconds === undefined ? {} : { clockToleranceSeconds }),
          ...(requireExpiration === undefined ? {} : { requireExpiration }),
        }),
        authorizer: new AuthorizationEngine(inbound.authorization, {
          extensionProviders: snapshot.options.extensionProviders,
          externalAuthorizer: this.#externalAuthorizer,
        }),
      };
      security.authenticator.prefetchKeys();
      this.#compiled.set(inbound, security);
    }
    return security;
  }

  /** Closes the external authorizer's kept-alive connections (when this object made the client). */
  close(): void {
    this.#ownsExternalAuthorizer?.close();
  }
}
