import type { SecureContext, TLSSocket } from 'node:tls';
import { classifyTlsError, type TlsFailure, UpstreamTlsError } from '@weft/core';
import { buildConnector } from 'undici';

/** What one pool's connections are made with. */
export interface TlsConnectorSettings {
  readonly secureContext: SecureContext;
  /** The SNI to send; undefined sends none (an IP address). */
  readonly servername: string | undefined;
  /** Whether node verifies the chain (false only for insecureSkipVerify). */
  readonly rejectUnauthorized: boolean;
  /** The identity check node does not make (SPIFFE IDs, subjectAltNames); called in the handshake. */
  readonly checkServerIdentity: (host: string, certificate: { raw: Buffer }) => Error | undefined;
  /** TCP connect and TLS handshake together (the DestinationRule's connectTimeout). */
  readonly timeoutMs: number;
  /** `ISTIO_MUTUAL to 10.0.0.7:9080 (SNI …)`: the start of every failure's message. */
  readonly description: string;
  readonly onHandshake: (socket: TLSSocket) => void;
  /** A failure; `localPort` when it came after the handshake, on a connection that was handed out. */
  readonly onFailure: (error: UpstreamTlsError, localPort?: number) => void;
}

type Connect = ReturnType<typeof buildConnector>;

/**
 * undici's connector (timeouts, keep-alive, TLS session cache) with Weft's settings, and every TLS
 * failure turned into an UpstreamTlsError that says what was refused, by whom, and why. A session
 * cache belongs to one connector, and so to one pool: a session is only ever resumed under the
 * settings and identity it was verified with (bad-inputs E12).
 *
 * Under TLS 1.3 a server's refusal of our certificate comes after the handshake succeeded, on the
 * first read (bad-inputs E4): the socket is watched for it, so it is reported as the handshake
 * failure it is.
 */
export function tlsConnector(settings: TlsConnectorSettings): Connect {
  const connect = buildConnector({
    secureContext: settings.secureContext,
    rejectUnauthorized: settings.rejectUnauthorized,
    checkServerIdentity: settings.checkServerIdentity,
    timeout: settings.timeoutMs,
    allowH2: false,
  });
  return (options, callback) => {
    let isTcpConnected = false;
    // undici passes each request's servername; the pool's is the one to send.
    const socket = connect({ ...options, servername: settings.servername as string }, (error, connected) => {
      if (error === null) {
        const tlsSocket = connected as TLSSocket;
        watchForLateRefusal(tlsSocket, settings);
        settings.onHandshake(tlsSocket);
        callback(null, tlsSocket);
        return;
      }
      const failure = classifyTlsError(error) ?? (isTcpConnected ? HANDSHAKE : undefined);
      if (failure === undefined) {
        callback(error, null); // no connection at all: refused, unreachable, timed out
        return;
      }
      const wrapped =
        error instanceof UpstreamTlsError
          ? error
          : new UpstreamTlsError(
              failure.reason,
              failure.isAuthentication,
              `${settings.description}: ${explainTlsFailure(failure, error)}`,
              { cause: error },
            );
      settings.onFailure(wrapped);
      callback(wrapped, null);
    }) as unknown as TLSSocket | undefined;
    socket?.once('connect', () => {
      isTcpConnected = true;
    });
  };
}

const HANDSHAKE: TlsFailure = { reason: 'handshake', isAuthentication: false };

/**
 * undici reports a connection that fails after its handshake with the *last* error of the socket
 * ("other side closed", as the TLS alert is followed by the end of the stream), so the alert is
 * kept here, by the connection's local port, for the attempt to recover (SecurePool.takeRefusal).
 */
function watchForLateRefusal(socket: TLSSocket, settings: TlsConnectorSettings): void {
  const localPort = socket.localPort;
  socket.once('error', (error) => {
    const failure = classifyTlsError(error);
    if (failure?.reason !== 'peer-refused-certificate') return;
    settings.onFailure(
      new UpstreamTlsError(
        failure.reason,
        true,
        `${settings.description}: ${explainTlsFailure(failure, error)}`,
        { cause: error },
      ),
      localPort,
    );
  });
}

/** A failure in words: what was refused, and the code node or OpenSSL gave. */
export function explainTlsFailure(failure: TlsFailure, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const detail = typeof code === 'string' && !code.startsWith('WEFT_ERR_') ? `${code}: ${message}` : message;
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
