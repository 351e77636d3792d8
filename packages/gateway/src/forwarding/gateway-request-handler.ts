/**
 * What the gateway does with each request on a port: find the Gateway server it came in on (by
 * SNI for TLS, by Host for plaintext), redirect it when that server says httpsRedirect, refuse
 * it (404, with a body saying why) unless a VirtualService bound to that server's Gateway serves
 * its host through that server, and otherwise send it through the mesh.
 */
import type { RequestListener } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Mesh } from '@weft/core';
import type { Dispatcher } from 'undici';
import type { PortListener } from '../listeners/port-listener.ts';
import { catchAllServer, selectServer, serverAdmits } from '../servers/host-admission.ts';
import { answerText } from './answers.ts';
import { forwardToMesh } from './forward-to-mesh.ts';
import { hostNameOf } from './request-host.ts';

export interface GatewayRouting {
  readonly mesh: Mesh;
  readonly dispatcher: Dispatcher;
  /** The declared port of the HTTPS server for `host`, for httpsRedirect's Location (443 if none). */
  readonly httpsPortFor: (host: string) => number;
}

export function gatewayRequestHandler(listener: PortListener, routing: GatewayRouting): RequestListener {
  return (request, response) => {
    const serving = listener.serving;
    const port = listener.declaredPort;
    if (serving === undefined)
      return answerText(response, 404, `gateway: no Gateway server on port ${port}\n`);
    const authority = request.headers.host ?? '';
    const hostName = hostNameOf(authority);
    if (hostName === undefined) return answerText(response, 400, 'gateway: the request has no valid Host\n');
    const isTls = serving.transport === 'tls';
    const server = isTls
      ? tlsServerOf(request.socket as TLSSocket, serving.servers)
      : selectServer(serving.servers, hostName);
    if (server === undefined)
      return answerText(
        response,
        404,
        `gateway: no Gateway server on port ${port} accepts host "${hostName}"\n`,
      );
    if (server.httpsRedirect) {
      const httpsPort = routing.httpsPortFor(hostName);
      const location = `https://${hostName.includes(':') ? `[${hostName}]` : hostName}${httpsPort === 443 ? '' : `:${httpsPort}`}${request.url ?? '/'}`;
      return answerText(response, 301, `gateway: ${location}\n`, { location });
    }
    if (!serverAdmits(server, hostName) || routing.mesh.outbound.resolveHost(hostName) === undefined) {
      return answerText(
        response,
        404,
        `gateway: no VirtualService bound to ${server.gateway} serves host "${hostName}" through ${server.label}\n`,
      );
    }
    forwardToMesh(routing.dispatcher, request, response, {
      hostName,
      authority,
      port,
      scheme: isTls ? 'https' : 'http',
    });
  };
}

/** The server SNI chose for this connection, under the port's current servers. */
function tlsServerOf(socket: TLSSocket, servers: Parameters<typeof selectServer>[0]) {
  const servername = socket.servername;
  return typeof servername === 'string' && servername !== ''
    ? selectServer(servers, servername.toLowerCase())
    : catchAllServer(servers);
}
