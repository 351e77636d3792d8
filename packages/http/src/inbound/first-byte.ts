import type { Socket } from 'node:net';

/** The first byte of every TLS connection: a handshake record (ClientHello). */
export const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * Waits for a new connection's first bytes without consuming them, as Istio's sidecar inspects
 * them: `route` learns whether the connection opens with a TLS handshake and gets the socket with
 * those bytes still unread, so the HTTP or TLS server it goes to reads the connection whole. A
 * connection that closes or stays silent for `timeoutMs` is destroyed. Returns a function that
 * gives up waiting.
 */
export function onFirstByte(socket: Socket, timeoutMs: number, route: (isTls: boolean) => void): () => void {
  const onError = () => socket.destroy();
  const onTimeout = () => socket.destroy();
  const stop = () => {
    socket.off('readable', onReadable);
    socket.off('timeout', onTimeout);
    socket.off('error', onError);
    socket.setTimeout(0);
  };
  const onReadable = () => {
    stop();
    // 'readable' (not 'data') leaves the stream paused, so nothing is emitted before the next
    // owner attaches; unshift puts the bytes back for it (TLS and HTTP servers read them first).
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
  return stop;
}
