import type { Socket } from 'node:net';

/** An HTTP/2 client opens with a 24-byte preface (`PRI * HTTP/2.0…`) and a SETTINGS frame (9-byte header). */
const PREFACE_AND_FRAME_HEADER_BYTES = 24 + 9;

/**
 * Closes `socket` unless its client has sent its HTTP/2 preface and the header of its first frame
 * within `timeoutMs` (bad-inputs C3). grpc-js's server waits for them without a bound (it turns
 * node's session timeout off), so a client dripping the preface a byte at a time, or stopping
 * after the first byte, would hold the connection for ever. A TLS socket counts decrypted bytes
 * only, so the same count holds after a handshake.
 */
export function armPrefaceDeadline(socket: Socket, timeoutMs: number): void {
  const timer = setTimeout(() => {
    if (socket.bytesRead < PREFACE_AND_FRAME_HEADER_BYTES) socket.destroy();
  }, timeoutMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
