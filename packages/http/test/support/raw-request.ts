/**
 * HTTP/1.1 requests sent as raw bytes on a socket to 127.0.0.1: what an HTTP client would
 * normalize or refuse to send (a path of `//` and `%2e`, oversize heads) arrives as written. Used
 * by the inbound tests and by bench/support/hostile-inbound.ts.
 */
import { connect } from 'node:net';

/** What a raw request got: the status and the raw head and body, or `closed` when no answer came. */
export type RawAnswer = { readonly status: number; readonly head: string; readonly body: string } | 'closed';

/**
 * Sends bytes exactly as given and reads one answer, until the connection closes or
 * `Connection: close` ends it; a connection still open after 5 s is destroyed.
 */
export function rawRequest(port: number, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const split = received.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
      resolve(
        Number.isInteger(status)
          ? { status, head: received.slice(0, split), body: split === -1 ? '' : received.slice(split + 4) }
          : 'closed',
      );
    });
    socket.end(bytes);
  });
}

/** `GET <target>` with one Host and `Connection: close`, plus any header lines given. */
export function rawGet(
  port: number,
  target: string,
  headerLines: readonly string[] = [],
): Promise<RawAnswer> {
  const lines = [`GET ${target} HTTP/1.1`, 'Host: shop', ...headerLines, 'Connection: close', '', ''];
  return rawRequest(port, lines.join('\r\n'));
}
