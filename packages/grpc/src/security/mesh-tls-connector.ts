import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { experimental } from '@grpc/grpc-js';
import {
  checkPeerCertificate,
  classifyTlsError,
  type IdentityMaterial,
  type Mesh,
  ServiceIdentities,
  secureContextOptions,
  type TlsFailure,
  UpstreamTlsError,
} from '@weft/core';
import type { MutualTransport } from './endpoint-transport.ts';
import { transportState } from './transport-state.ts';

type SecureConnector = experimental.SecureConnector;
type SecureConnectResult = experimental.SecureConnectResult;

/** gRPC over TLS negotiates HTTP/2 by ALPN; a Weft or Istio server expects it. */
const ALPN = ['h2'];

/** How long a TLS handshake may take once TCP is connected: Istio's default connectTimeout. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

const HANDSHAKE: TlsFailure = { reason: 'handshake', isAuthentication: false };

const contexts = new WeakMap<IdentityMaterial, SecureContext>();

/** The workload's SVID, key and bundle as one SecureContext, made once per material. */
function secureContextOf(material: IdentityMaterial): SecureContext {
  let context = contexts.get(material);
  if (context === undefined) {
    context = createSecureContext(secureContextOptions(material));
    contexts.set(material, context);
  }
  return context;
}

/**
 * ISTIO_MUTUAL for one subchannel (one endpoint, one cluster's settings): each connection grpc-js
 * makes is wrapped in TLS with the workload's *current* SVID — read per connection, so after a
 * renewal new connections present the new certificate — with the cluster's SNI, only the mesh's
 * trust bundle as roots, and the server accepted only if its SVID is of the trust domain and one
 * of the destination's identities (node's hostname check ignores URI SANs; the hostname is not
 * the identity in a mesh).
 *
 * Every handshake is a `mesh.events.tls` event. A failure becomes an UpstreamTlsError saying
 * what was refused; refused certificates are remembered for the balancer (transport-state.ts),
 * which answers calls on that endpoint as authentication failures, never retried.
 */
export class MeshTlsConnector implements SecureConnector {
  readonly #mesh: Mesh;
  readonly #transport: MutualTransport;
  readonly #endpoint: string;
  readonly #connectionId: string;
  readonly #identities: ServiceIdentities;
  readonly #callCredentials: ReturnType<SecureConnector['getCallCredentials']>;

  constructor(
    mesh: Mesh,
    transport: MutualTransport,
    endpoint: string,
    connectionId: string,
    callCredentials: ReturnType<SecureConnector['getCallCredentials']>,
  ) {
    this.#mesh = mesh;
    this.#transport = transport;
    this.#endpoint = endpoint;
    this.#connectionId = connectionId;
    this.#identities = identitiesOf(transport.identities);
    this.#callCredentials = callCredentials;
  }

  connect(socket: Socket): Promise<SecureConnectResult> {
    const material = this.#mesh.identity?.current();
    if (material === undefined) {
      return Promise.reject(
        this.#fail(
          new UpstreamTlsError(
            'identity-unavailable',
            false,
            `${this.#description()}: the workload has no certificate yet (mesh.identity is empty)`,
          ),
        ),
      );
    }
    const allows = this.#identities.allows;
    let verifiedPeer: string | undefined;
    return new Promise((resolve, reject) => {
      let isSettled = false;
      const tlsSocket: TLSSocket = tlsConnect({
        socket,
        secureContext: secureContextOf(material),
        servername: this.#transport.sni,
        ALPNProtocols: ALPN,
        rejectUnauthorized: true,
        checkServerIdentity: (_host, certificate) => {
          try {
            verifiedPeer = checkPeerCertificate(
              certificate.raw,
              material.trustDomain,
              { allowedIds: allows },
              'server',
            ).spiffeId.uri;
            return undefined;
          } catch (error) {
            return error as Error;
          }
        },
      });
      tlsSocket.setTimeout(HANDSHAKE_TIMEOUT_MS, () =>
        tlsSocket.destroy(new Error(`TLS handshake timed out after ${HANDSHAKE_TIMEOUT_MS} ms`)),
      );
      tlsSocket.once('secureConnect', () => {
        isSettled = true;
        tlsSocket.setTimeout(0);
        tlsSocket.off('error', onError);
        const peer = verifiedPeer ?? 'unknown';
        transportState(this.#mesh).handshake(this.#connectionId, peer);
        this.#mesh.events.tls.emit({
          type: 'handshake',
          cluster: this.#transport.cluster,
          endpoint: this.#endpoint,
          mode: 'ISTIO_MUTUAL',
          isAuto: this.#transport.isAuto,
          peer,
          atMs: this.#mesh.clock.now(),
        });
        this.#watchForLateRefusal(tlsSocket);
        resolve({ socket: tlsSocket, secure: true });
      });
      const onError = (error: Error) => {
        if (isSettled) return;
        isSettled = true;
        tlsSocket.destroy();
        reject(this.#fail(this.#wrap(classifyTlsError(error) ?? HANDSHAKE, error)));
      };
      tlsSocket.on('error', onError);
    });
  }

  /** grpc-js calls this before each connection attempt: a new attempt, a clean slate. */
  waitForReady(): Promise<void> {
    transportState(this.#mesh).failures.delete(this.#connectionId);
    return Promise.resolve();
  }

  getCallCredentials(): ReturnType<SecureConnector['getCallCredentials']> {
    return this.#callCredentials;
  }

  destroy(): void {}

  /**
   * Under TLS 1.3 a server refuses the client's certificate after the client's handshake
   * completed, on the first read (bad-inputs E4): that alert is the handshake's failure.
   */
  #watchForLateRefusal(socket: TLSSocket): void {
    socket.once('error', (error) => {
      const failure = classifyTlsError(error);
      if (failure?.reason === 'peer-refused-certificate') this.#fail(this.#wrap(failure, error));
    });
  }

  #wrap(failure: TlsFailure, error: Error): UpstreamTlsError {
    if (error instanceof UpstreamTlsError) return error;
    return new UpstreamTlsError(
      failure.reason,
      failure.isAuthentication,
      `${this.#description()}: ${explain(failure, error)}`,
      { cause: error },
    );
  }

  #fail(error: UpstreamTlsError): UpstreamTlsError {
    transportState(this.#mesh).failed(this.#connectionId, error);
    this.#mesh.events.tls.emit({
      type: 'handshake-failed',
      cluster: this.#transport.cluster,
      endpoint: this.#endpoint,
      mode: 'ISTIO_MUTUAL',
      isAuto: this.#transport.isAuto,
      reason: error.reason,
      message: error.message,
      atMs: this.#mesh.clock.now(),
    });
    return error;
  }

  #description(): string {
    return `ISTIO_MUTUAL to ${this.#endpoint} (SNI ${this.#transport.sni}, accepting ${this.#identities.describe()})`;
  }
}

/** The identities a transport key carries, back as a ServiceIdentities. */
function identitiesOf(fingerprint: string): ServiceIdentities {
  if (fingerprint === '*') return new ServiceIdentities([], [], true);
  const names = fingerprint === '' ? [] : fingerprint.split(',');
  return new ServiceIdentities(
    names.filter((name) => name.startsWith('/')),
    names.filter((name) => !name.startsWith('/')),
    false,
  );
}

function explain(failure: TlsFailure, error: Error): string {
  const code = (error as { code?: unknown }).code;
  const detail =
    typeof code === 'string' && !code.startsWith('WEFT_ERR_') ? `${code}: ${error.message}` : error.message;
  switch (failure.reason) {
    case 'peer-refused-certificate':
      return `the server refused this workload's certificate (${detail})`;
    case 'handshake':
      return /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/.test(detail)
        ? `the TLS handshake failed; the server does not speak TLS on this port (${detail})`
        : `the TLS handshake failed (${detail})`;
    default:
      return `the server's certificate was refused: ${detail}`;
  }
}
