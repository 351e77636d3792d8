import {
  connectivityState as ConnectivityState,
  experimental,
  Metadata,
  status as Status,
} from '@grpc/grpc-js';
import type { UpstreamTlsError } from '@weft/core';
import { ENDPOINT_HINT_METADATA, PICK_FAILURE_METADATA, type PickFailure } from './endpoint-hint.ts';

type PickResult = experimental.PickResult;

/** Why a connection is in TRANSIENT_FAILURE: grpc-js's message, and the TLS failure behind it, if any. */
export interface ConnectionFailure {
  readonly message: string | undefined;
  readonly tls: UpstreamTlsError | undefined;
}

const QUEUE: PickResult = Object.freeze({
  pickResultType: experimental.PickResultType.QUEUE,
  subchannel: null,
  status: null,
  onCallStarted: null,
  onCallEnded: null,
});

/**
 * The picker of a `weft_endpoints` channel: the subchannel of the connection (endpoint and
 * transport) the mesh chose for this attempt (see endpoint-hint.ts), or why not. Built when the set of subchannels or one's
 * connectivity changes; `pick` is a metadata read and a map lookup.
 *
 * - READY: the call goes out on it.
 * - IDLE or CONNECTING: the call waits (QUEUE) and is picked again when the state changes.
 * - TRANSIENT_FAILURE: UNAVAILABLE marked as a connect failure, so the mesh may retry it on
 *   another endpoint at once instead of waiting for this one's reconnect back-off; marked
 *   `tls-auth-failure` when a certificate was refused in the handshake (never retried).
 * - an endpoint the channel does not have (yet): UNAVAILABLE marked `unknown-endpoint`, also
 *   retriable; it cannot happen while the resolver follows the mesh's snapshots synchronously.
 */
export class EndpointPicker implements experimental.Picker {
  readonly #subchannels: ReadonlyMap<string, experimental.SubchannelInterface>;
  readonly #failures: ReadonlyMap<string, ConnectionFailure>;

  /** `failures`: the last connection error of each connection in TRANSIENT_FAILURE. */
  constructor(
    subchannels: ReadonlyMap<string, experimental.SubchannelInterface>,
    failures: ReadonlyMap<string, ConnectionFailure>,
  ) {
    this.#subchannels = subchannels;
    this.#failures = failures;
  }

  pick({ metadata }: experimental.PickArgs): PickResult {
    const hint = metadata.get(ENDPOINT_HINT_METADATA);
    const key = hint[0];
    if (typeof key !== 'string') {
      return failure(
        'no-endpoint-hint',
        'this call on a weft: channel did not pass through the mesh interceptor: create the client with ' +
          'meshClientOptions(mesh, target), and include meshInterceptor in call-level `interceptors` ' +
          '(they replace the client’s)',
      );
    }
    metadata.remove(ENDPOINT_HINT_METADATA);
    const subchannel = this.#subchannels.get(key);
    if (subchannel === undefined) {
      return failure('unknown-endpoint', `connection ${key} is not among the channel's`);
    }
    switch (subchannel.getConnectivityState()) {
      case ConnectivityState.READY:
        return {
          pickResultType: experimental.PickResultType.COMPLETE,
          subchannel,
          status: null,
          onCallStarted: null,
          onCallEnded: null,
        };
      case ConnectivityState.IDLE:
        subchannel.startConnecting();
        return QUEUE;
      case ConnectivityState.CONNECTING:
        return QUEUE;
      default: {
        const reason = this.#failures.get(key);
        const tls = reason?.tls;
        if (tls !== undefined) {
          return failure(
            tls.isAuthentication ? 'tls-auth-failure' : 'connect-failure',
            `upstream connect error: ${tls.message}`,
          );
        }
        const endpoint = key.split(' ', 1)[0] as string;
        const message = reason?.message;
        return failure(
          'connect-failure',
          `upstream connect error: ${endpoint}${message === undefined ? '' : `: ${message}`}`,
        );
      }
    }
  }
}

function failure(kind: PickFailure, details: string): PickResult {
  const metadata = new Metadata();
  metadata.set(PICK_FAILURE_METADATA, kind);
  return {
    pickResultType: experimental.PickResultType.TRANSIENT_FAILURE,
    subchannel: null,
    status: { code: Status.UNAVAILABLE, details, metadata },
    onCallStarted: null,
    onCallEnded: null,
  };
}
