import type { Socket } from 'node:net';
import type { ChannelOptions, experimental } from '@grpc/grpc-js';

type SecureConnector = experimental.SecureConnector;

/**
 * Channel option: how long a new connection (TCP and TLS done) may wait for the server's first
 * HTTP/2 bytes, its SETTINGS frame, before it is closed. grpc-js waits for them without a bound
 * and keeps such a connection open even after the channel is closed, so an upstream that
 * accepts and never speaks HTTP/2 would hold a socket (and the endpoint's subchannel in
 * CONNECTING) for ever (bad-inputs C11). Closing it makes the subchannel fail and back off like
 * any failed connection.
 */
export const SETTINGS_TIMEOUT_OPTION = 'weft.settings_timeout_ms';

/** gRPC core's minimum connect timeout, which bounds its HTTP/2 handshake too. */
export const DEFAULT_SETTINGS_TIMEOUT_MS = 20_000;

/** The settings timeout the channel's options ask for (a positive number), or the default. */
export function settingsTimeoutOf(options: ChannelOptions): number {
  const value = options[SETTINGS_TIMEOUT_OPTION];
  return typeof value === 'number' && Number.isFinite(value) && value > 0
    ? value
    : DEFAULT_SETTINGS_TIMEOUT_MS;
}

/** `connector`, whose connections are closed when the server sends nothing for `timeoutMs`. */
export function withSettingsDeadline(connector: SecureConnector, timeoutMs: number): SecureConnector {
  return {
    connect: async (socket) => {
      const result = await connector.connect(socket);
      armSettingsDeadline(result.socket, timeoutMs);
      return result;
    },
    waitForReady: () => connector.waitForReady(),
    getCallCredentials: () => connector.getCallCredentials(),
    destroy: () => connector.destroy(),
  };
}

/**
 * The first bytes a server sends on an HTTP/2 connection are its SETTINGS frame. node:http2 reads
 * the socket natively, so nothing is seen as 'data' here; the socket's byte count still moves
 * (a TLS socket counts decrypted bytes only: none before the server's first frame).
 */
function armSettingsDeadline(socket: Socket, timeoutMs: number): void {
  const timer = setTimeout(() => {
    if (socket.bytesRead === 0 && !socket.destroyed) {
      socket.destroy(new Error(`the server sent no HTTP/2 SETTINGS within ${timeoutMs} ms`));
    }
  }, timeoutMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
