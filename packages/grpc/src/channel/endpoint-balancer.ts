import { type ChannelOptions, connectivityState as ConnectivityState, experimental } from '@grpc/grpc-js';
import { PLAINTEXT } from '../security/endpoint-transport.ts';
import {
  SUBCHANNEL_CONNECTION_ARG,
  SUBCHANNEL_ENDPOINT_ARG,
  SUBCHANNEL_TRANSPORT_ARG,
} from '../security/mesh-channel-credentials.ts';
import { type TransportState, transportState } from '../security/transport-state.ts';
import { type ConnectionFailure, EndpointPicker } from './endpoint-picker.ts';
import { meshOfChannel } from './mesh-channel-option.ts';
import { CONNECTIONS_ATTRIBUTE, type ReachableConnection } from './reachable-endpoints.ts';

/** The name the balancer is registered (and selected in the resolver's service config) under. */
export const ENDPOINT_BALANCER_NAME = 'weft_endpoints';

export class EndpointBalancerConfig implements experimental.TypedLoadBalancingConfig {
  static createFromJson(): EndpointBalancerConfig {
    return new EndpointBalancerConfig();
  }

  getLoadBalancerName(): string {
    return ENDPOINT_BALANCER_NAME;
  }

  toJsonObject(): object {
    return { [ENDPOINT_BALANCER_NAME]: {} };
  }
}

interface Held {
  readonly subchannel: experimental.SubchannelInterface;
  readonly onState: experimental.ConnectivityStateListener;
  failure: ConnectionFailure | undefined;
}

/**
 * The channel's load-balancing policy for `weft:` targets. It keeps one subchannel (one HTTP/2
 * connection) per connection the resolver lists — an endpoint and the transport its cluster's
 * TLS settings give it (plaintext, or ISTIO_MUTUAL with a cluster's SNI and identities) — and
 * publishes an EndpointPicker over them; it chooses nothing itself. The transport travels to the
 * channel credentials as subchannel arguments (MeshChannelCredentials). The choice is made per call by the mesh interceptor, because a gRPC
 * route decides the subset per call (method, metadata, weights) and retries need @weft/core's
 * controller, budgets and host exclusion — see the package README, "Design".
 *
 * Connections open when the channel leaves IDLE (all endpoints at once, so per-call balancing
 * has somewhere to go) or when a call is first sent to an endpoint added later.
 */
export class EndpointBalancer implements experimental.LoadBalancer {
  readonly #helper: experimental.ChannelControlHelper;
  #held = new Map<string, Held>();
  #tls: TransportState | undefined;
  #isActive = false;

  constructor(helper: experimental.ChannelControlHelper) {
    this.#helper = helper;
  }

  updateAddressList(
    endpointList: experimental.StatusOr<experimental.Endpoint[]>,
    _config: experimental.TypedLoadBalancingConfig,
    options: ChannelOptions,
    resolutionNote: string,
  ): boolean {
    if (!endpointList.ok) {
      this.#helper.updateState(
        ConnectivityState.TRANSIENT_FAILURE,
        new experimental.UnavailablePicker(endpointList.error),
        endpointList.error.details,
      );
      return true;
    }
    const mesh = meshOfChannel(options);
    this.#tls = mesh === undefined ? undefined : transportState(mesh);
    const next = new Map<string, Held>();
    for (const connection of connectionsOf(endpointList.value, options)) {
      const existing = this.#held.get(connection.id);
      if (existing !== undefined) {
        next.set(connection.id, existing);
        continue;
      }
      const subchannel = this.#helper.createSubchannel(
        { host: connection.host, port: connection.port },
        {
          ...options,
          [SUBCHANNEL_ENDPOINT_ARG]: connection.endpoint,
          [SUBCHANNEL_TRANSPORT_ARG]: connection.transportKey,
          [SUBCHANNEL_CONNECTION_ARG]: connection.id,
        },
      );
      const held: Held = {
        subchannel,
        failure: undefined,
        onState: (_subchannel, _previous, state, _keepalive, errorMessage) => {
          held.failure =
            state === ConnectivityState.TRANSIENT_FAILURE
              ? { message: errorMessage, tls: this.#tls?.failures.get(connection.id) }
              : undefined;
          this.#publish(resolutionNote);
        },
      };
      subchannel.addConnectivityStateListener(held.onState);
      subchannel.ref();
      if (this.#isActive) subchannel.startConnecting();
      next.set(connection.id, held);
    }
    for (const [key, held] of this.#held) if (!next.has(key)) release(held);
    this.#held = next;
    this.#publish(resolutionNote);
    return true;
  }

  exitIdle(): void {
    this.#isActive = true;
    for (const { subchannel } of this.#held.values()) {
      if (subchannel.getConnectivityState() === ConnectivityState.IDLE) subchannel.startConnecting();
    }
  }

  resetBackoff(): void {
    // Subchannels keep their own back-off; a new pick on a failed endpoint reports it at once.
  }

  destroy(): void {
    for (const held of this.#held.values()) release(held);
    this.#held = new Map();
  }

  getTypeName(): string {
    return ENDPOINT_BALANCER_NAME;
  }

  /** A new picker over the current subchannels, with the channel state they add up to. */
  #publish(note: string): void {
    const subchannels = new Map<string, experimental.SubchannelInterface>();
    const failures = new Map<string, ConnectionFailure>();
    const counts = new Map<ConnectivityState, number>();
    for (const [key, held] of this.#held) {
      subchannels.set(key, held.subchannel);
      if (held.failure !== undefined) failures.set(key, held.failure);
      const state = held.subchannel.getConnectivityState();
      counts.set(state, (counts.get(state) ?? 0) + 1);
    }
    const state =
      subchannels.size === 0
        ? ConnectivityState.TRANSIENT_FAILURE
        : (counts.get(ConnectivityState.READY) ?? 0) > 0
          ? ConnectivityState.READY
          : (counts.get(ConnectivityState.CONNECTING) ?? 0) > 0
            ? ConnectivityState.CONNECTING
            : (counts.get(ConnectivityState.IDLE) ?? 0) > 0
              ? ConnectivityState.IDLE
              : ConnectivityState.TRANSIENT_FAILURE;
    const errorMessage =
      state === ConnectivityState.TRANSIENT_FAILURE ? note || 'no endpoint reachable' : null;
    this.#helper.updateState(state, new EndpointPicker(subchannels, failures), errorMessage);
  }
}

/**
 * The connections the resolver listed (an attribute of its resolution); for a resolution without
 * them (another resolver's), each endpoint's first address, plaintext.
 */
function connectionsOf(
  endpoints: readonly experimental.Endpoint[],
  options: ChannelOptions,
): readonly ReachableConnection[] {
  const listed = options[CONNECTIONS_ATTRIBUTE];
  if (Array.isArray(listed)) return listed as ReachableConnection[];
  const connections: ReachableConnection[] = [];
  for (const endpoint of endpoints) {
    const address = endpoint.addresses[0];
    if (address === undefined || !('host' in address)) continue;
    const key = experimental.subchannelAddressToString(address);
    connections.push({
      id: key,
      host: address.host,
      port: address.port,
      endpoint: key,
      transportKey: PLAINTEXT.key,
    });
  }
  return connections;
}

function release(held: Held): void {
  held.subchannel.removeConnectivityStateListener(held.onState);
  held.subchannel.unref();
}
