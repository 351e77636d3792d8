import type { IncomingMessage } from 'node:http';
import type { RouteRequest } from '@weft/core';
import type { ConnectionFacts } from './connection-facts.ts';
import { headerOf } from './inbound-request.ts';

/**
 * An inbound request as telemetry reports it (core's RouteRequest): the target as the caller sent
 * it, before normalization (Envoy logs the original path too), and the port it arrived on.
 */
export class ServedRequest implements RouteRequest {
  readonly path: string;
  readonly method: string;
  readonly authority: string;
  readonly scheme: string;
  readonly port: number;
  readonly #request: IncomingMessage;

  constructor(request: IncomingMessage, connection: ConnectionFacts) {
    this.path = request.url ?? '';
    this.method = request.method ?? '';
    this.authority = request.headers.host ?? '';
    this.scheme = connection.tls.kind === 'plaintext' ? 'http' : 'https';
    this.port = connection.localPort;
    this.#request = request;
  }

  header(name: string): string | undefined {
    return headerOf(this.#request.headers, name);
  }
}
