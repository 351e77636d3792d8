import type { Socket } from 'node:net';

/** A TLS connection opens with a handshake record (its ClientHello); HTTP/2 with `PRI * …`. */
const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * Tells a new connection's protocol by its first byte without consuming it, as Istio's sidecar
 * does for PERMISSIVE ports: `route(isTls)` gets the socket with that byte still unread, so the
 * TLS server or gRPC's HTTP/2 server it is handed to reads the connection whole. A connection that
 * closes, fails or stays silent for `timeoutMs` first is destroyed.
 */
export function onFirstByte(socket: Socket, timeoutMs: number, route: (isTls: boolean) => void): void {
  const onError = () => socket.destroy();
  const onTimeout = () => socket.destroy();
  const onReadable = () => {
    socket.off('error', onError);
    socket.off('timeout', onTimeout);
    socket.setTimeout(0);
    // 'readable' leaves the stream paused, so nothing is emitted before the next owner reads;
    // unshift puts the bytes back for it.
    const chunk = socket.read() as Buffer | null;
    if (chunk === null || chunk.length === 0) {
      socket.destroy();
      return;
    }
    socket.unshift(chunk);
    route(chunk[0] === TLS_HANDSHAKE_RECORD);
  };
  socket.on('error', onError);
  socket.setTimeout(timeoutMs);
  socket.once('timeout', onTimeout);
  socket.once('readable', onReadable);
}
