import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type ServerOptions as HttpServerOptions,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import {
  acceptTlsPeer,
  type Disposer,
  followIdentity,
  type IdentityMaterial,
  type Mesh,
  serverTlsOptions,
} from '@weft/core';
import { onFirstByte } from './first-byte.ts';
import type { InboundEntry } from './inbound-entry.ts';
import type { InboundOptions } from './inbound-options.ts';
import { InboundPipeline } from './inbound-pipeline.ts';
import { INBOUND_SERVER_LIMITS, inboundHttpServerOptions } from './server-limits.ts';
import { recordAcceptedPeer } from './tls-peer.ts';

export interface MeshServerOptions extends InboundOptions {
  /**
   * node:http server options (timeouts, `maxHeaderSize`, …) for the HTTP server behind both
   * protocols. Unset timeouts take Weft's slow-client limits, not node's: `headersTimeout` 10 s,
   * `requestTimeout` 60 s (0: none), `keepAliveTimeout` 5 s, checked every second
   * (server-limits.ts, bad-inputs C3).
   */
  readonly http?: HttpServerOptions;
  /** How long a client may take to finish its TLS handshake; then it is closed. 10 s (node: 120 s). */
  readonly tlsHandshakeTimeoutMs?: number;
  /**
   * How long a new connection may stay silent before its first byte tells TLS from plaintext;
   * then it is closed. 15 s, as Envoy's listener-filter timeout.
   */
  readonly firstByteTimeoutMs?: number;
  /**
   * The most connections open at once; further ones are closed as they arrive (node's
   * `maxConnections`, with a `drop` event each), so a flood sheds load before the process runs out
   * of file descriptors (bad-inputs C4). Unlimited by default, as node and Envoy.
   */
  readonly maxConnections?: number;
}

const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 15_000;

/** A node:http handler reached without anything to pass on. */
const NODE_ENTRY: InboundEntry<RequestListener> = {
  pathChange: 'rewrite',
  proceed: (request, response, handler) => handler(request, response),
};

/**
 * A server for a meshed workload: plaintext, mTLS with the workload's identity, or both on one
 * port, as the PeerAuthentication in force for the port says (STRICT, PERMISSIVE, DISABLE),
 * re-read for every new connection, so a policy change applies to the next connection; requests
 * on open connections are checked again too. Each connection's first byte tells TLS (a handshake
 * record, 0x16) from plaintext, as Istio's sidecar does. Every request then goes through the
 * inbound pipeline (peer identity, authentication, authorization, telemetry, context) before the
 * handler sees it.
 *
 * It is a net.Server (listen, address, close, the `connection` and `listening` events); the HTTP
 * server behind it is `httpServer` (its timeouts, `request` events). Certificates are swapped on
 * every renewal without dropping connections.
 */
export class MeshServer extends NetServer {
  readonly httpServer: HttpServer;
  readonly #pipeline: InboundPipeline;
  readonly #firstByteTimeoutMs: number;
  readonly #tlsHandshakeTimeoutMs: number;
  readonly #sockets = new Set<Socket>();
  readonly #disposers: Disposer[] = [];
  #tlsServer: TlsServer | undefined;

  constructor(mesh: Mesh, handler: RequestListener, options: MeshServerOptions = {}) {
    super();
    const pipeline = new InboundPipeline(mesh, options);
    this.#pipeline = pipeline;
    this.#firstByteTimeoutMs = options.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS;
    this.#tlsHandshakeTimeoutMs =
      options.tlsHandshakeTimeoutMs ?? INBOUND_SERVER_LIMITS.tlsHandshakeTimeoutMs;
    if (options.maxConnections !== undefined) this.maxConnections = options.maxConnections;
    this.httpServer = createHttpServer(
      inboundHttpServerOptions(options.http),
      (request: IncomingMessage, response: ServerResponse) =>
        pipeline.handle(request, response, NODE_ENTRY, handler),
    );
    // One more than the limit, so that a request over it is seen, and refused, rather than cut.
    this.httpServer.maxHeadersCount = pipeline.maxHeadersCount + 1;
    this.on('connection', (socket: Socket) => this.#accept(socket));
    // The HTTP server never listens itself; node starts its request and header timeouts (slow
    // clients) when a server starts listening, so it is told when this one does.
    this.on('listening', () => this.httpServer.emit('listening'));
    const identity = pipeline.identity;
    const material = identity.current();
    if (material !== undefined) this.#startTls(material);
    this.#disposers.push(
      identity.onChange((next) => {
        if (this.#tlsServer === undefined) this.#startTls(next);
      }),
    );
  }

  /** Whether the server can take mTLS connections (it has the workload's certificate). */
  get isTlsReady(): boolean {
    return this.#tlsServer !== undefined;
  }

  /** Stops accepting, stops following the identity, and closes idle keep-alive connections. */
  override close(callback?: (error?: Error) => void): this {
    for (const dispose of this.#disposers.splice(0)) dispose();
    super.close(callback);
    // What http.Server.close() does for its own connections: stop its timeout checks, close idle ones.
    this.httpServer.close();
    this.#pipeline.close();
    return this;
  }

  /** Destroys every connection, busy or not (http.Server's closeAllConnections). */
  closeAllConnections(): void {
    this.httpServer.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
  }

  closeIdleConnections(): void {
    this.httpServer.closeIdleConnections();
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    onFirstByte(socket, this.#firstByteTimeoutMs, (isTls) => this.#route(socket, isTls));
  }

  #route(socket: Socket, isTls: boolean): void {
    const mode = this.#pipeline.modeForPort(socket.localPort ?? 0);
    const tlsServer = this.#tlsServer;
    if (isTls ? mode === 'DISABLE' || tlsServer === undefined : mode === 'STRICT') {
      this.#pipeline.refuseConnection(socket);
      return;
    }
    if (isTls) tlsServer?.emit('connection', socket);
    else this.httpServer.emit('connection', socket);
  }

  #startTls(material: IdentityMaterial): void {
    const server = createTlsServer({
      ...serverTlsOptions(material),
      ALPNProtocols: ['http/1.1'],
      handshakeTimeout: this.#tlsHandshakeTimeoutMs,
    });
    server.on('secureConnection', (socket: TLSSocket) => this.#secured(socket));
    // No certificate, an expired or untrusted one, or no TLS at all: the handshake failed.
    server.on('tlsClientError', (_error, socket) => this.#pipeline.refuseConnection(socket));
    this.#disposers.push(followIdentity(server, this.#pipeline.identity));
    this.#tlsServer = server;
  }

  /** Node verified the chain against the trust bundle; Weft checks the SPIFFE identity. */
  #secured(socket: TLSSocket): void {
    const material = this.#pipeline.material();
    try {
      if (material === undefined) throw new Error('no identity');
      recordAcceptedPeer(socket, acceptTlsPeer(socket, material, this.#pipeline.peerPolicy));
    } catch {
      this.#pipeline.refuseConnection(socket);
      return;
    }
    this.httpServer.emit('connection', socket);
  }
}

/**
 * A server for `handler` (any node:http request listener: an express app, fastify's handler…)
 * with the mesh's inbound policies in front of it. Listen on it as on any server.
 */
export function createMeshServer(
  mesh: Mesh,
  handler: RequestListener,
  options: MeshServerOptions = {},
): MeshServer {
  return new MeshServer(mesh, handler, options);
}
