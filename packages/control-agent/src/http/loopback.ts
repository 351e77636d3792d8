import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** The part of a request that says where it came from: the peer's address and the headers. */
export interface PeerRequest {
  readonly socket: { readonly remoteAddress?: string | undefined };
  readonly headers: IncomingMessage['headers'];
}

/**
 * Whether a request was made on the agent's own machine, to the agent by a loopback name: a
 * loopback peer (127.0.0.0/8, ::1) whose Host is `localhost`, 127.x.y.z, [::1] or absent. The Host
 * check keeps a web page elsewhere from reading through DNS rebinding (its host name re-pointed at
 * 127.0.0.1): such a request arrives from loopback but names a foreign host. A reverse proxy on
 * the same machine is loopback too: it must forward the original Host for this to hold.
 */
export function isLocalRequest(request: PeerRequest): boolean {
  return isLoopback(request.socket.remoteAddress) && isLoopbackHost(request.headers.host);
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

/** Whether a Host header names this machine's loopback: `localhost`, 127.x.y.z, [::1]; any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return true;
  let name = host.toLowerCase();
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    name = end === -1 ? name : name.slice(1, end);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon !== -1) name = name.slice(0, colon);
  }
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 0) return false;
  return isLoopback(name);
}
