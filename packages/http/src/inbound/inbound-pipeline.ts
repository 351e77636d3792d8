import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  currentRequestContext,
  type DestinationWorkload,
  type EffectivePeerAuthentication,
  FORWARDED_HEADERS,
  FollowedIdentity,
  type IdentityMaterial,
  InboundSecurity,
  type Mesh,
  type MeshSnapshot,
  type MtlsMode,
  type PeerPolicy,
  TRACE_CONTEXT_HEADERS,
  type WorkloadSecurity,
} from '@weft/core';
import { type ConnectionFacts, connectionFacts } from './connection-facts.ts';

import { InboundContext } from './inbound-context.ts';
import type { InboundEntry } from './inbound-entry.ts';
import { InboundExchange } from './inbound-exchange.ts';
import {
  DEFAULT_MAX_HEADERS_COUNT,
  type InboundOptions,
  type UnderscoreHeadersAction,
} from './inbound-options.ts';

/** What the pipeline compiled for one snapshot; replaced when the mesh's snapshot changes. */
export interface SnapshotState {
  readonly snapshot: MeshSnapshot;
  readonly security: WorkloadSecurity;
  readonly peerAuthentication: EffectivePeerAuthentication;
  /** The Telemetry policy forbids writing trace context on outbound requests. */
  readonly isTracePropagationDisabled: boolean;
}

/**
 * The inbound pipeline every entry shares (server wrapper, request listener, express, fastify),
 * per request:
 *
 *   connection's peer identity → PeerAuthentication (STRICT refuses plaintext: the connection is
 *   closed) → server span, Istio metrics, access log (started here, so refusals are reported) →
 *   header screening (400/431) → path normalization (400) → RequestAuthentication (401) →
 *   AuthorizationPolicy (403 `RBAC: access denied`) → the application, inside the request's
 *   context (trace, propagated headers, deadline).
 *
 * Policies are compiled once per snapshot; connection facts once per connection.
 */
export class InboundPipeline {
  readonly mesh: Mesh;
  readonly identity: FollowedIdentity;
  readonly peerPolicy: PeerPolicy;
  readonly underscores: UnderscoreHeadersAction;
  readonly maxHeadersCount: number;
  readonly trustedProxies: number;
  /**
   * Every header name an inbound request hands on to its outbound calls, `true` for trace context
   * (written from the server span when there is one): one pass over a request's headers finds them.
   */
  readonly propagatedHeaders: ReadonlyMap<string, boolean>;
  readonly #security: InboundSecurity;
  readonly #ownsSecurity: boolean;
  readonly #workload: DestinationWorkload;
  readonly #material = (): IdentityMaterial | undefined => this.identity.current();
  readonly #ignoresPeerAuthentication: boolean;
  #state: SnapshotState | undefined;

  constructor(mesh: Mesh, options: InboundOptions = {}) {
    this.mesh = mesh;
    this.identity = new FollowedIdentity(mesh, options.identity);
    this.peerPolicy =
      options.trustDomainAliases === undefined ? {} : { trustDomainAliases: options.trustDomainAliases };
    this.underscores = options.headersWithUnderscoresAction ?? 'REJECT_REQUEST';
    this.maxHeadersCount = options.maxHeadersCount ?? DEFAULT_MAX_HEADERS_COUNT;
    this.trustedProxies = options.numTrustedProxies ?? 0;
    this.#ignoresPeerAuthentication = options.peerAuthentication === 'ignore';
    this.propagatedHeaders = new Map([
      ...FORWARDED_HEADERS.map((name) => [name, false] as const),
      ...(options.propagateHeaders ?? []).map((name) => [name.toLowerCase(), false] as const),
      ...TRACE_CONTEXT_HEADERS.map((name) => [name, true] as const),
    ]);
    this.#ownsSecurity = options.security === undefined;
    this.#security = options.security ?? new InboundSecurity({ clock: mesh.clock });
    const { workload } = mesh;
    this.#workload = {
      namespace: workload.namespace,
      labels: workload.labels,
      ...(workload.service === undefined ? {} : { service: workload.service }),
    };
  }

  /** The policies in force now, compiled at the first request after each snapshot change. */
  state(): SnapshotState {
    const snapshot = this.mesh.snapshot;
    const current = this.#state;
    if (current !== undefined && current.snapshot === snapshot) return current;
    const next: SnapshotState = {
      snapshot,
      security: this.#security.forWorkload(snapshot, this.#workload),
      peerAuthentication: snapshot.inboundFor(this.#workload).peerAuthentication,
      isTracePropagationDisabled: this.mesh.telemetry.policy.tracing.client.isContextPropagationDisabled,
    };
    this.#state = next;
    return next;
  }

  /** The mTLS mode in force on a local port under the current snapshot. */
  modeForPort(port: number): MtlsMode {
    return this.state().peerAuthentication.modeForPort(port);
  }

  /** The identity material in use now, if any. */
  material(): IdentityMaterial | undefined {
    return this.#material();
  }

  /**
   * Runs the pipeline for one request: the entry's `proceed` runs the application inside the
   * request's context, or `answered` is called when the pipeline answers (or closes) itself.
   */
  handle<Next>(
    request: IncomingMessage,
    response: ServerResponse,
    entry: InboundEntry<Next>,
    next: Next,
  ): void {
    const active = currentRequestContext();
    if (active instanceof InboundContext && active.request === request) {
      // A second entry on the same request (a MeshServer in front of weftExpress): once is enough.
      entry.proceed(request, response, next);
      return;
    }
    const connection = connectionFacts(request.socket, this.#material, this.peerPolicy, Date.now);
    const state = this.state();
    // DISABLE admits every connection and reads no client certificate as a mesh identity.
    const mode = this.#ignoresPeerAuthentication
      ? 'DISABLE'
      : state.peerAuthentication.modeForPort(connection.localPort);
    if (!isAdmitted(connection, mode)) {
      entry.answered?.(next);
      this.refuseConnection(request.socket, state);
      return;
    }
    const isMutualTls = mode !== 'DISABLE' && connection.tls.kind === 'verified';
    new InboundExchange(this, state, request, response, connection, isMutualTls, entry, next).run();
  }

  /** Closes a connection PeerAuthentication does not admit (Istio's sidecar fails its handshake). */
  refuseConnection(socket: { destroy(): void }, state: SnapshotState = this.state()): void {
    const policy = state.peerAuthentication.sources.at(-1);
    this.mesh.telemetry.recordDenial({
      reason: 'peer-authentication',
      ...(policy === undefined ? {} : { policy }),
    });
    socket.destroy();
  }

  /** Releases what the pipeline made (identity listeners, the external authorizer's connections). */
  close(): void {
    this.identity.close();
    if (this.#ownsSecurity) this.#security.close();
  }
}

/**
 * PeerAuthentication at the connection: STRICT needs a verified mesh identity; a certificate that
 * is not one is refused in every mode that reads certificates (DISABLE ignores them).
 */
function isAdmitted(connection: ConnectionFacts, mode: MtlsMode): boolean {
  if (mode === 'DISABLE') return true;
  if (connection.tls.kind === 'refused') return false;
  return mode !== 'STRICT' || connection.tls.kind === 'verified';
}
