/**
 * One node:tls server for all the terminating servers on a port: SNI picks the server, and so
 * its certificate (the most specific host wins; a `*` server also takes clients that send no
 * SNI); a name no server's hosts match fails the handshake, as Envoy finds no filter chain.
 * Built per port state, so new connections get new certificates while open ones keep theirs.
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { GatewayServer } from '../servers/gateway-server.ts';
import { catchAllServer, selectServer } from '../servers/host-admission.ts';
import type { LoadedCertificate } from './certificate-store.ts';
import { handshakeProblem } from './client-verification.ts';

export interface TerminatedServer {
  readonly server: GatewayServer;
  readonly certificate: LoadedCertificate;
}

export interface TlsPortHandlers {
  /** A connection whose handshake and checks passed, with the server it reached. */
  readonly onSecured: (socket: TLSSocket, server: GatewayServer) => void;
  /** A connection refused during or after its handshake, and why. */
  readonly onRefused: (socket: TLSSocket, reason: string) => void;
}

export function createTlsPortServer(
  terminated: readonly TerminatedServer[],
  handlers: TlsPortHandlers,
): Server {
  const servers = terminated.map((entry) => entry.server);
  const byServer = new Map(terminated.map((entry) => [entry.server, entry.certificate]));
  const select = (servername: string | false | null | undefined): GatewayServer | undefined =>
    typeof servername === 'string' && servername !== ''
      ? selectServer(servers, servername.toLowerCase())
      : catchAllServer(servers);
  const fallback = catchAllServer(servers);
  const fallbackOptions = fallback === undefined ? {} : byServer.get(fallback)?.options;
  const server = createServer({
    ...fallbackOptions,
    // Asked of every client on the port when one server on it verifies clients; each server's
    // own verdict is in client-verification.ts.
    requestCert: terminated.some((entry) => entry.server.tls?.mode !== 'SIMPLE'),
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
    SNICallback: (servername, callback) => {
      const chosen = select(servername);
      const certificate = chosen === undefined ? undefined : byServer.get(chosen);
      if (certificate === undefined) callback(new Error(`no server on this port serves SNI "${servername}"`));
      else callback(null, certificate.context);
    },
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const chosen = select(socket.servername);
    if (chosen?.tls === undefined) return handlers.onRefused(socket, 'no server for this connection');
    const problem = handshakeProblem(socket, chosen.tls);
    if (problem !== undefined) return handlers.onRefused(socket, `${chosen.label}: ${problem}`);
    handlers.onSecured(socket, chosen);
  });
  server.on('tlsClientError', (error, socket) => handlers.onRefused(socket, error.message));
  return server;
}
