import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SecureContextOptions, TLSSocket } from 'node:tls';

/** What a TLS upstream saw. */
export interface TlsUpstream {
  readonly name: string;
  readonly port: number;
  /** Requests answered, with the client's certificate URI SAN (its SPIFFE ID) and the SNI. */
  readonly requests: {
    path: string;
    host: string | undefined;
    clientId: string | undefined;
    clientSerial: string | undefined;
    sni: string | undefined;
  }[];
  /** TCP connections accepted (a retry, or a plaintext attempt, would be another). */
  readonly connections: number;
  /** Connections whose TLS handshake completed. */
  readonly handshakes: number;
  /** Requests served on a resumed TLS session. */
  readonly resumed: number;
  /** Connections that failed before or in the handshake, by error code (ERR_SSL_HTTP_REQUEST: plaintext HTTP). */
  readonly clientErrors: string[];
  /** Swaps the certificate new handshakes present (a server's own rotation). */
  setSecureContext(options: SecureContextOptions): void;
  /**
   * Drains the connections open now: each answers its next request with `Connection: close`, so
   * the client moves to new connections (and new handshakes) without a keep-alive race.
   */
  drain(): void;
  close(): Promise<void>;
}

/**
 * A node:https server on 127.0.0.1 port 0 that answers 200 with its name. Its TLS options come from
 * the test: `serverTlsOptions(material)` for a mesh workload (client certificate required and
 * verified against the bundle), or a plain certificate for an external host.
 */
export async function startTlsUpstream(
  name: string,
  options: SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean },
): Promise<TlsUpstream> {
  const requests: TlsUpstream['requests'] = [];
  const clientErrors: string[] = [];
  const sockets = new Set<Socket>();
  const secureSockets = new Set<TLSSocket>();
  const draining = new WeakSet<TLSSocket>();
  let handshakes = 0;
  let connections = 0;
  let resumed = 0;
  const server: Server = createServer(options, (request, response) => {
    const socket = request.socket as TLSSocket;
    const peer = socket.getPeerX509Certificate();
    // A test record only: security decisions never split node's SAN string (bad-inputs E6).
    const uri = peer?.subjectAltName?.match(/URI:([^,]+)/)?.[1];
    if (socket.isSessionReused()) resumed += 1;
    requests.push({
      path: request.url ?? '',
      host: request.headers.host,
      clientId: uri,
      clientSerial: peer?.serialNumber.toLowerCase(),
      sni: (socket as TLSSocket & { servername?: string | false }).servername || undefined,
    });
    request.resume();
    request.on('end', () => {
      const isDraining = draining.has(socket);
      response.writeHead(200, {
        'content-type': 'text/plain',
        'x-upstream': name,
        ...(isDraining ? { connection: 'close' } : {}),
      });
      response.end(name);
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    handshakes += 1;
    secureSockets.add(socket);
    socket.on('close', () => secureSockets.delete(socket));
  });
  server.on('tlsClientError', (error: Error & { code?: string }) => {
    clientErrors.push(error.code ?? error.message);
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    port,
    requests,
    get connections() {
      return connections;
    },
    get handshakes() {
      return handshakes;
    },
    get resumed() {
      return resumed;
    },
    clientErrors,
    setSecureContext(context) {
      server.setSecureContext(context);
    },
    drain() {
      for (const socket of secureSockets) draining.add(socket);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
