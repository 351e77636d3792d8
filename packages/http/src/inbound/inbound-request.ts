import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AuthzRequest, PeerIdentity, RequestAuth } from '@weft/core';
import type { ConnectionFacts } from './connection-facts.ts';

/**
 * One inbound request as request authentication and authorization read it: the normalized path,
 * the authority, the headers (lower-case names; a header sent several times is one value joined
 * with ",", bad-inputs D20), the connection's addresses and the verified caller.
 */
export class InboundRequest implements AuthzRequest {
  readonly protocol = 'http';
  readonly method: string;
  /** The normalized path, without query. */
  readonly path: string;
  readonly query: string;
  readonly authority: string;
  readonly sourceIp: string;
  readonly remoteIp: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  readonly peer: PeerIdentity | undefined;
  readonly sni: string | undefined;
  /** Set once request authentication verified a token. */
  auth: RequestAuth | undefined = undefined;
  readonly #headers: IncomingHttpHeaders;

  constructor(
    request: IncomingMessage,
    path: string,
    query: string,
    connection: ConnectionFacts,
    remoteIp: string,
  ) {
    this.method = request.method ?? '';
    this.path = path;
    this.query = query;
    this.authority = request.headers.host ?? '';
    this.sourceIp = connection.remoteAddress;
    this.remoteIp = remoteIp;
    this.destinationIp = connection.localAddress;
    this.destinationPort = connection.localPort;
    this.peer = connection.peer;
    this.sni = connection.sni;
    this.#headers = request.headers;
  }

  header(name: string): string | undefined {
    return headerOf(this.#headers, name);
  }

  headerNames(): Iterable<string> {
    return Object.keys(this.#headers);
  }
}

/** One header of a node request as one string; node already joins most repeated headers. */
export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' || value === undefined ? value : value.join(',');
}
