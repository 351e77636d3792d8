/**
 * The listener for one declared port: a net.Server bound once, handing each new connection to
 * what the port serves at that moment — plaintext HTTP, or the TLS server of its terminating
 * servers. A config change or a certificate rotation replaces that (`serve`) for the next
 * connections; open connections, and the requests in flight on them, carry on untouched.
 */
import { createServer as createHttpServer, type Server as HttpServer, type RequestListener } from 'node:http';
import { type AddressInfo, Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket, Server as TlsServer } from 'node:tls';
import type { GatewayServer, ServerTransport } from '../servers/gateway-server.ts';
import { createTlsPortServer, type TerminatedServer } from '../tls/tls-port-server.ts';

/** What a port serves under the current config. */
export interface PortServing {
  readonly transport: ServerTransport;
  readonly servers: readonly GatewayServer[];
  /** The terminating servers with their certificates (empty for plaintext). */
  readonly terminated: readonly TerminatedServer[];
  /** Equal signatures serve identically: `serve` then keeps what it has. */
  readonly signature: string;
}

export interface PortListenerHooks {
  /** The request handler for this port (it reads `listener.serving` per request). */
  readonly createHandler: (listener: PortListener) => RequestListener;
  /** A connection closed before any request: handshake failure, refused client certificate. */
  readonly onConnectionRefused: (listener: PortListener, reason: string) => void;
}

export class PortListener {
  readonly declaredPort: number;
  /** Bound for the gateway's whole life (a mapped port), serving or not. */
  readonly isReserved: boolean;
  readonly #net = new NetServer();
  readonly #http: HttpServer;
  readonly #sockets = new Set<Socket>();
  readonly #hooks: PortListenerHooks;
  #serving: PortServing | undefined;
  #tlsServer: TlsServer | undefined;
  #boundPort: number | undefined;

  constructor(declaredPort: number, isReserved: boolean, hooks: PortListenerHooks) {
    this.declaredPort = declaredPort;
    this.isReserved = isReserved;
    this.#hooks = hooks;
    this.#http = createHttpServer({}, hooks.createHandler(this));
    this.#net.on('connection', (socket: Socket) => this.#accept(socket));
    // The HTTP server never listens itself; its request and header timeouts start when it is told.
    this.#net.on('listening', () => this.#http.emit('listening'));
  }

  /** The port actually bound (the declared one in production, the mapped one otherwise). */
  get boundPort(): number | undefined {
    return this.#boundPort;
  }

  get serving(): PortServing | undefined {
    return this.#serving;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#net.once('error', reject);
      this.#net.listen(port, host, () => {
        this.#net.off('error', reject);
        this.#boundPort = (this.#net.address() as AddressInfo).port;
        resolve(this.#boundPort);
      });
    });
  }

  /** What new connections get from now on; undefined closes them at once (nothing served here). */
  serve(serving: PortServing | undefined): void {
    if (serving?.signature === this.#serving?.signature) return;
    this.#serving = serving;
    this.#tlsServer =
      serving?.transport === 'tls'
        ? createTlsPortServer(serving.terminated, {
            onSecured: (socket) => this.#http.emit('connection', socket),
            onRefused: (socket, reason) => this.#refuse(socket, reason),
          })
        : undefined;
  }

  /**
   * Stops accepting; requests in flight finish, idle connections close at once and busy ones
   * after `drainMs` at the latest.
   */
  async close(drainMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    this.#http.closeIdleConnections();
    const timer = setTimeout(() => this.destroyConnections(), drainMs);
    timer.unref();
    // Keep-alive connections that go idle after their last response close then.
    this.#http.on('request', (_request, response) =>
      response.once('finish', () => this.#http.closeIdleConnections()),
    );
    try {
      await closed;
    } finally {
      clearTimeout(timer);
      this.#http.close();
    }
  }

  destroyConnections(): void {
    this.#http.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const serving = this.#serving;
    if (serving === undefined) this.#refuse(socket, `no Gateway server on port ${this.declaredPort}`);
    else if (serving.transport === 'plaintext') this.#http.emit('connection', socket);
    else this.#tlsServer?.emit('connection', socket);
  }

  #refuse(socket: Socket | TLSSocket, reason: string): void {
    socket.destroy();
    this.#hooks.onConnectionRefused(this, reason);
  }
}
