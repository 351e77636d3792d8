import { type ChannelOptions, experimental, type ServiceConfig, status as Status } from '@grpc/grpc-js';
import type { Disposer, Mesh } from '@weft/core';
import { parseTarget } from '../target/mesh-target.ts';
import { ENDPOINT_BALANCER_NAME } from './endpoint-balancer.ts';
import { MESH_CHANNEL_OPTION, meshOfChannel } from './mesh-channel-option.ts';
import {
  CONNECTIONS_ATTRIBUTE,
  type ReachableConnection,
  reachableConnections,
} from './reachable-endpoints.ts';
import { resolveTargetService } from './target-service.ts';

/** Every `weft:` channel balances with `weft_endpoints`; nothing else is configured per channel. */
const SERVICE_CONFIG: ServiceConfig = Object.freeze({
  loadBalancingConfig: [{ [ENDPOINT_BALANCER_NAME]: {} }],
  methodConfig: [],
});

/**
 * The `weft:` name resolver: `weft:///reviews.default:9080` resolves, in the mesh the channel
 * was created with (see MESH_CHANNEL_OPTION), to every endpoint a call to that service may be
 * routed to, and again whenever the mesh serves a new snapshot (configuration or registry
 * changed). No DNS is involved. The endpoints only tell the channel which subchannels to keep;
 * which one a call uses is the mesh interceptor's choice, per call. Each endpoint comes with the
 * transport its cluster's TLS settings give it (reachable-endpoints.ts), so it is resolved again
 * when the workload's identity arrives or changes source too (auto-mTLS depends on it).
 */
export class MeshResolver implements experimental.Resolver {
  readonly #listener: experimental.ResolverListener;
  readonly #target: experimental.GrpcUri;
  readonly #mesh: Mesh | undefined;
  #disposeSnapshots: Disposer | undefined;
  #disposeIdentitySlot: Disposer | undefined;
  #disposeIdentity: Disposer | undefined;
  #lastReport: string | undefined;
  #isScheduled = false;
  #isDestroyed = false;

  static getDefaultAuthority(target: experimental.GrpcUri): string {
    return target.path;
  }

  constructor(
    target: experimental.GrpcUri,
    listener: experimental.ResolverListener,
    options: ChannelOptions,
  ) {
    this.#target = target;
    this.#listener = listener;
    this.#mesh = meshOfChannel(options);
  }

  updateResolution(): void {
    this.#isDestroyed = false;
    const mesh = this.#mesh;
    if (mesh !== undefined && this.#disposeSnapshots === undefined) {
      // Synchronously with the swap: a call made right after applyConfig() returns finds the
      // new endpoints in the channel, not only in the snapshot.
      this.#disposeSnapshots = mesh.events.snapshot.on(() => this.#report(false));
      // Auto-mTLS depends on whether the workload has a certificate: its first one (or a new
      // identity source) moves new calls to mTLS connections.
      this.#followIdentity(mesh);
      this.#disposeIdentitySlot = mesh.events.identity.on(() => {
        this.#followIdentity(mesh);
        this.#report(false);
      });
    }
    // A resolver must not call its listener synchronously from updateResolution.
    if (this.#isScheduled) return;
    this.#isScheduled = true;
    process.nextTick(() => {
      this.#isScheduled = false;
      if (!this.#isDestroyed) this.#report(true);
    });
  }

  destroy(): void {
    this.#isDestroyed = true;
    this.#disposeSnapshots?.();
    this.#disposeSnapshots = undefined;
    this.#disposeIdentitySlot?.();
    this.#disposeIdentitySlot = undefined;
    this.#disposeIdentity?.();
    this.#disposeIdentity = undefined;
    this.#lastReport = undefined;
  }

  #followIdentity(mesh: Mesh): void {
    this.#disposeIdentity?.();
    this.#disposeIdentity = mesh.identity?.onChange(() => this.#report(false));
  }

  #report(isRequested: boolean): void {
    const mesh = this.#mesh;
    if (mesh === undefined) {
      this.#fail(
        `the channel for ${experimental.uriToString(this.#target)} has no mesh: create it with ` +
          `meshClientOptions(mesh, target) (channel option ${MESH_CHANNEL_OPTION})`,
      );
      return;
    }
    const parsed = parseTarget(this.#target.path);
    const view = mesh.outbound;
    const service =
      parsed === undefined ? undefined : resolveTargetService(view, parsed.hostName, parsed.port);
    // An unknown host resolves to no endpoints rather than an error: the interceptor answers each
    // call with a clear status (NR), and the host may join the mesh with a later snapshot.
    const connections: ReachableConnection[] =
      service === undefined
        ? []
        : reachableConnections(
            view,
            mesh.snapshot,
            service.host,
            service.port,
            mesh.identity?.current() !== undefined,
          );
    const report = connections.map((connection) => connection.id).join(',');
    if (!isRequested && report === this.#lastReport) return;
    this.#lastReport = report;
    const note =
      service === undefined
        ? `${this.#target.path} is not a service of the mesh`
        : `${service.host}:${service.port}`;
    const addresses = new Map<string, { host: string; port: number }>();
    for (const connection of connections) {
      addresses.set(connection.endpoint, { host: connection.host, port: connection.port });
    }
    this.#listener(
      experimental.statusOrFromValue([...addresses.values()].map((address) => ({ addresses: [address] }))),
      { [CONNECTIONS_ATTRIBUTE]: connections },
      experimental.statusOrFromValue(SERVICE_CONFIG),
      note,
    );
  }

  #fail(details: string): void {
    this.#listener(experimental.statusOrFromError({ code: Status.UNAVAILABLE, details }), {}, null, details);
  }
}
