import { ChannelCredentials, type ChannelOptions, type experimental } from '@grpc/grpc-js';
import type { Mesh } from '@weft/core';
import { transportOfKey } from './endpoint-transport.ts';
import { MeshTlsConnector } from './mesh-tls-connector.ts';
import { settingsTimeoutOf, withSettingsDeadline } from './settings-deadline.ts';

type SecureConnector = experimental.SecureConnector;
type GrpcUri = Parameters<ChannelCredentials['_createSecureConnector']>[0];
type CallCredentials = NonNullable<Parameters<ChannelCredentials['_createSecureConnector']>[2]>;

/**
 * Subchannel arguments the `weft_endpoints` balancer sets on each connection it creates: the
 * endpoint (`address:port`), the transport key (endpoint-transport.ts) and the connection id.
 * Strings, so grpc-js's subchannel pool compares them by value.
 */
export const SUBCHANNEL_ENDPOINT_ARG = 'weft.endpoint';
export const SUBCHANNEL_TRANSPORT_ARG = 'weft.transport';
export const SUBCHANNEL_CONNECTION_ARG = 'weft.connection';

/**
 * The channel credentials of a `weft:` channel under the mesh's transport security. grpc-js asks
 * channel credentials for a connector per subchannel, with the subchannel's arguments; the
 * balancer put the endpoint's transport there, so each connection is secured as the mesh says for
 * its endpoint and cluster: ISTIO_MUTUAL (explicit or auto-mTLS) with the workload's SVID
 * (MeshTlsConnector), or the application's own credentials (`given`, insecure by default) for a
 * plaintext endpoint. A connection for a transport that cannot be made fails with the reason.
 *
 * Subchannels are shared across channels of the same mesh and given credentials, as grpc-js shares
 * those of equal credentials.
 */
export class MeshChannelCredentials extends ChannelCredentials {
  readonly #mesh: Mesh;
  readonly #given: ChannelCredentials;

  constructor(mesh: Mesh, given: ChannelCredentials) {
    super();
    this.#mesh = mesh;
    this.#given = given;
  }

  /** grpc-js: whether call credentials may be composed; mesh connections are mTLS or the given's. */
  override _isSecure(): boolean {
    return true;
  }

  override _equals(other: ChannelCredentials): boolean {
    return (
      other === this ||
      (other instanceof MeshChannelCredentials &&
        other.#mesh === this.#mesh &&
        other.#given._equals(this.#given))
    );
  }

  /** Every connection, plaintext or mTLS, is closed if the server never sends SETTINGS (settings-deadline.ts). */
  override _createSecureConnector(
    channelTarget: GrpcUri,
    options: ChannelOptions,
    callCredentials?: CallCredentials,
  ): SecureConnector {
    return withSettingsDeadline(
      this.#connectorFor(channelTarget, options, callCredentials),
      settingsTimeoutOf(options),
    );
  }

  #connectorFor(
    channelTarget: GrpcUri,
    options: ChannelOptions,
    callCredentials?: CallCredentials,
  ): SecureConnector {
    const key = options[SUBCHANNEL_TRANSPORT_ARG];
    const transport = typeof key === 'string' ? transportOfKey(key) : undefined;
    const given = this.#given._createSecureConnector(channelTarget, options, callCredentials);
    if (transport === undefined || transport.kind === 'plaintext') return given;
    const endpoint = String(options[SUBCHANNEL_ENDPOINT_ARG] ?? '');
    const connectionId = String(options[SUBCHANNEL_CONNECTION_ARG] ?? endpoint);
    // The given credentials' call credentials (tokens composed onto them) still apply over mTLS.
    const calls = given.getCallCredentials();
    given.destroy();
    if (transport.kind === 'refused') return refusingConnector(transport.message, calls);
    return new MeshTlsConnector(this.#mesh, transport, endpoint, connectionId, calls);
  }
}

/** A connector for settings that cannot be honoured: every connection fails with `message`. */
function refusingConnector(message: string, calls: CallCredentials): SecureConnector {
  return {
    connect: () => Promise.reject(new Error(message)),
    waitForReady: () => Promise.resolve(),
    getCallCredentials: () => calls,
    destroy: () => {},
  };
}
