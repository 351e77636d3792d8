import { type ChannelOptions, connectivityState as ConnectivityState, experimental } from '@grpc/grpc-js';
import { EndpointPicker } from './endpoint-picker.ts';

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
  failure: string | undefined;
}

/**
 * The channel's load-balancing policy for `weft:` targets. It keeps one subchannel (one HTTP/2
 * connection) per endpoint the resolver lists and publishes an EndpointPicker over them; it
 * chooses nothing itself. The choice is made per call by the mesh interceptor, because a gRPC
 * route decides the subset per call (method, metadata, weights) and retries need @weft/core's
 * controller, budgets and host exclusion — see the package README, "Design".
 *
 * Connections open when the channel leaves IDLE (all endpoints at once, so per-call balancing
 * has somewhere to go) or when a call is first sent to an endpoint added later.
 */
export class EndpointBalancer implements experimental.LoadBalancer {
  readonly #helper: experimental.ChannelControlHelper;
  #held = new Map<string, Held>();
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
    const next = new Map<string, Held>();
    for (const endpoint of endpointList.value) {
      const address = endpoint.addresses[0];
      if (address === undefined) continue;
      const key = experimental.subchannelAddressToString(address);
      const existing = this.#held.get(key);
      if (existing !== undefined) {
        next.set(key, existing);
        continue;
      }
      const subchannel = this.#helper.createSubchannel(address, options);
      const held: Held = {
        subchannel,
        failure: undefined,
        onState: (_subchannel, _previous, state, _keepalive, errorMessage) => {
          held.failure = state === ConnectivityState.TRANSIENT_FAILURE ? errorMessage : undefined;
          this.#publish(resolutionNote);
        },
      };
      subchannel.addConnectivityStateListener(held.onState);
      subchannel.ref();
      if (this.#isActive) subchannel.startConnecting();
      next.set(key, held);
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
    const failures = new Map<string, string>();
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

function release(held: Held): void {
  held.subchannel.removeConnectivityStateListener(held.onState);
  held.subchannel.unref();
}
