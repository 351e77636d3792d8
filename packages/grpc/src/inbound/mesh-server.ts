import { Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import {
  type deserialize as Deserialize,
  type serialize as Serialize,
  Server,
  ServerCredentials,
  type ServerOptions,
} from '@grpc/grpc-js';
import {
  acceptTlsPeer,
  type Disposer,
  type EffectivePeerAuthentication,
  FollowedIdentity,
  followIdentity,
  type IdentityMaterial,
  type Mesh,
  peerIdentityFromSpiffeId,
  serverTlsOptions,
} from '@weft/core';
import { MessageSizes } from '../telemetry/message-sizes.ts';
import { ConnectionPeers, connectionKey } from './connection-peers.ts';
import { onFirstByte } from './first-byte.ts';
import { type MeshInboundPolicy, meshInboundPolicy } from './mesh-inbound-policy.ts';
import { type MeshServerInterceptorOptions, serverInterceptor } from './mesh-server-interceptor.ts';
import { armPrefaceDeadline } from './preface-deadline.ts';

export interface MeshServerOptions extends MeshServerInterceptorOptions {
  /** grpc-js server options; their `interceptors` run after (inside) the mesh's. */
  readonly serverOptions?: ServerOptions;
  /**
   * How long a new connection may stay silent before its first byte tells TLS from plaintext;
   * then it is closed. 15 s, as Envoy's listener-filter timeout.
   */
  readonly firstByteTimeoutMs?: number;
  /**
   * How long a connection may take to send its HTTP/2 preface and first frame header (after its
   * TLS handshake, for mTLS); then it is closed (a slow-loris client). 10 s.
   */
  readonly prefaceTimeoutMs?: number;
  /** How long a client may take to finish its TLS handshake; then it is closed. 10 s (node: 120 s). */
  readonly tlsHandshakeTimeoutMs?: number;
}

const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 15_000;
const DEFAULT_PREFACE_TIMEOUT_MS = 10_000;
const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** gRPC over TLS negotiates HTTP/2 by ALPN. */
const ALPN = ['h2'];

/**
 * A grpc-js Server for a meshed workload. Add services as to any grpc-js Server; then either
 *
 * - `listen(port, host)`: the mesh serves the port as the PeerAuthentication in force for it says,
 *   re-read for every new connection — STRICT: mTLS only, the client's SVID required; PERMISSIVE
 *   (Istio's default): mTLS and plaintext on the same port, told apart by the connection's first
 *   byte (a TLS handshake record) as Istio's sidecar does; DISABLE: plaintext only. mTLS presents
 *   the workload's SVID (`mesh.identity`, swapped on every renewal: new connections get the new
 *   certificate), requires a client certificate chaining to the mesh's trust bundle, and checks
 *   the client's SPIFFE ID, which AuthorizationPolicy then reads as the caller's principal; or
 * - `bindAsync` as usual, with credentials the application chooses (every caller then counts as
 *   plaintext for the mesh's policies).
 *
 * Either way each call goes through the mesh's server interceptor: telemetry, PeerAuthentication,
 * RequestAuthentication and AuthorizationPolicy (method path as the request path), then the
 * application's `policy`, deadlines and trace context for the handler.
 *
 * Each accepted connection is handed to grpc-js through a connection injector
 * (`server.createConnectionInjector`), after Weft's own TLS when it is mTLS.
 */
export class MeshServer extends Server {
  readonly #mesh: Mesh;
  readonly #sizes: MessageSizes;
  readonly #identity: FollowedIdentity;
  readonly #peers: ConnectionPeers;
  readonly #meshPolicy: MeshInboundPolicy;
  readonly #firstByteTimeoutMs: number;
  readonly #prefaceTimeoutMs: number;
  readonly #tlsHandshakeTimeoutMs: number;
  readonly #listeners = new Set<NetServer>();
  readonly #sockets = new Set<Socket>();
  readonly #disposers: Disposer[] = [];
  #injector: ReturnType<Server['createConnectionInjector']> | undefined;
  #tlsServer: TlsServer | undefined;
  #isShutdown = false;

  constructor(mesh: Mesh, options: MeshServerOptions = {}) {
    const {
      serverOptions = {},
      policy,
      security,
      firstByteTimeoutMs,
      prefaceTimeoutMs,
      tlsHandshakeTimeoutMs,
    } = options;
    const peers = new ConnectionPeers();
    const meshPolicy = meshInboundPolicy(mesh, security === undefined ? {} : { security });
    const sizes = new MessageSizes();
    super({
      ...serverOptions,
      interceptors: [
        serverInterceptor(mesh, { meshPolicy, policy, connections: peers, sizes }),
        ...(serverOptions.interceptors ?? []),
      ],
    });
    this.#mesh = mesh;
    this.#sizes = sizes;
    this.#peers = peers;
    this.#meshPolicy = meshPolicy;
    this.#firstByteTimeoutMs = firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS;
    this.#prefaceTimeoutMs = prefaceTimeoutMs ?? DEFAULT_PREFACE_TIMEOUT_MS;
    this.#tlsHandshakeTimeoutMs = tlsHandshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
    this.#identity = new FollowedIdentity(mesh);
    const material = this.#identity.current();
    if (material !== undefined) this.#startTls(material);
    this.#disposers.push(
      this.#identity.onChange((next) => {
        if (this.#tlsServer === undefined) this.#startTls(next);
      }),
    );
  }

  /**
   * grpc-js's `register` (addService calls it for every method), with the method's response
   * serializer and request deserializer noting message sizes for the call's telemetry
   * (MessageSizes): `istio_request_bytes`, `istio_response_bytes`, the access log's bytes.
   */
  override register<RequestType, ResponseType>(
    name: string,
    handler: Parameters<typeof Server.prototype.register<RequestType, ResponseType>>[1],
    serialize: Serialize<ResponseType>,
    deserialize: Deserialize<RequestType>,
    type: string,
  ): boolean {
    return super.register(
      name,
      handler,
      this.#sizes.serializer(serialize),
      this.#sizes.queuingDeserializer(deserialize),
      type,
    );
  }

  /** Whether the server can take mTLS connections (the workload has its certificate). */
  get isTlsReady(): boolean {
    return this.#tlsServer !== undefined;
  }

  /**
   * Serves gRPC on `host:port` (port 0: any free port) under the mesh's mTLS settings for the port
   * (see the class). Resolves with the bound port. May be called for several ports.
   */
  listen(port: number, host = '0.0.0.0'): Promise<number> {
    if (this.#isShutdown) return Promise.reject(new Error('the server was shut down'));
    const listener = new NetServer((socket) => this.#accept(socket));
    this.#listeners.add(listener);
    return new Promise((resolve, reject) => {
      listener.once('error', (error) => {
        this.#listeners.delete(listener);
        reject(error);
      });
      listener.listen(port, host, () => {
        const address = listener.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  /** Stops listening and ends every connection and call at once (grpc-js's forceShutdown). */
  override forceShutdown(): void {
    this.#stop();
    for (const socket of this.#sockets) socket.destroy();
    super.forceShutdown();
  }

  /** Stops listening, lets open calls finish, then shuts down (grpc-js's tryShutdown). */
  override tryShutdown(callback: (error?: Error) => void): void {
    this.#stop();
    super.tryShutdown(callback);
  }

  #stop(): void {
    if (this.#isShutdown) return;
    this.#isShutdown = true;
    for (const listener of this.#listeners) listener.close();
    this.#listeners.clear();
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#identity.close();
    this.#meshPolicy.close();
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    onFirstByte(socket, this.#firstByteTimeoutMs, (isTls) => this.#route(socket, isTls));
  }

  #route(socket: Socket, isTls: boolean): void {
    const mode = this.#peerAuthentication().modeForPort(socket.localPort ?? 0);
    const tlsServer = this.#tlsServer;
    if (isTls ? mode === 'DISABLE' || tlsServer === undefined : mode === 'STRICT') {
      this.#refuse(socket);
      return;
    }
    if (isTls) tlsServer?.emit('connection', socket);
    else this.#inject(socket);
  }

  /** The PeerAuthentication in force for this workload now (read per connection). */
  #peerAuthentication(): EffectivePeerAuthentication {
    const { workload } = this.#mesh;
    return this.#mesh.snapshot.inboundFor({
      namespace: workload.namespace,
      labels: workload.labels,
      ...(workload.service === undefined ? {} : { service: workload.service }),
    }).peerAuthentication;
  }

  #startTls(material: IdentityMaterial): void {
    // Node would drop a connection whose client certificate fails verification without telling
    // anyone; Weft refuses it itself in #secured (verifyTlsPeer reads node's verdict first), so
    // every refusal is counted as PeerAuthentication's.
    const server = createTlsServer({
      ...serverTlsOptions(material),
      rejectUnauthorized: false,
      ALPNProtocols: ALPN,
      handshakeTimeout: this.#tlsHandshakeTimeoutMs,
    });
    server.on('secureConnection', (socket: TLSSocket) => this.#secured(socket));
    // No certificate, an expired or untrusted one, no h2, or no TLS at all: the handshake failed.
    server.on('tlsClientError', (_error, socket) => this.#refuse(socket));
    this.#disposers.push(followIdentity(server, this.#identity));
    this.#tlsServer = server;
  }

  /** Node verified the chain against the trust bundle; Weft checks the SPIFFE identity. */
  #secured(socket: TLSSocket): void {
    const material = this.#identity.current();
    let spiffeId: string;
    try {
      if (material === undefined) throw new Error('no identity');
      spiffeId = acceptTlsPeer(socket, material).spiffeId.uri;
    } catch {
      this.#refuse(socket);
      return;
    }
    const { localPort, remoteAddress, remotePort } = socket;
    if (localPort !== undefined && remoteAddress !== undefined && remotePort !== undefined) {
      const key = connectionKey(localPort, remoteAddress, remotePort);
      const servername = (socket as { servername?: unknown }).servername;
      this.#peers.add(key, {
        spiffeId,
        identity: peerIdentityFromSpiffeId(spiffeId),
        sni: typeof servername === 'string' ? servername : undefined,
        ownSpiffeId: material.spiffeId,
      });
      socket.once('close', () => this.#peers.remove(key));
    }
    this.#inject(socket);
  }

  #inject(socket: Socket): void {
    armPrefaceDeadline(socket, this.#prefaceTimeoutMs);
    this.#injector ??= this.createConnectionInjector(ServerCredentials.createInsecure());
    this.#injector.injectConnection(socket);
  }

  /** Closes a connection PeerAuthentication does not admit (Istio's sidecar fails its handshake). */
  #refuse(socket: { destroy(): void }): void {
    const policy = this.#peerAuthentication().sources.at(-1);
    this.#mesh.telemetry.recordDenial({
      reason: 'peer-authentication',
      ...(policy === undefined ? {} : { policy }),
    });
    socket.destroy();
  }
}

/**
 * A MeshServer for `mesh`: a grpc-js Server whose calls go through the mesh's inbound policies and
 * telemetry, served with the mesh's mTLS by `listen`.
 */
export function createMeshServer(mesh: Mesh, options: MeshServerOptions = {}): MeshServer {
  return new MeshServer(mesh, options);
}
