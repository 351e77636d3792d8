/**
 * An HTTP ingress gateway on @weft/http: every request is routed by the VirtualServices bound to
 * the Gateways that select this workload (`gateways: [bookinfo-gateway]`), then sent through the
 * mesh like any other call — balanced, retried, fault-injected — and streamed back. A request
 * for a host no bound VirtualService names is refused here (404), never passed through.
 */
import type { IncomingHttpHeaders, RequestListener, ServerResponse } from 'node:http';
import type { Mesh } from '@weft/core';
import { createMeshDispatcher } from '@weft/http';
import { request as undiciRequest } from 'undici';
import { gatewayServerPort } from './gateway-server-port.ts';

/** Headers that describe one hop, not the request (RFC 9110 §7.6.1); never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

export function createIngressGatewayHandler(mesh: Mesh): RequestListener {
  const dispatcher = createMeshDispatcher(mesh);
  return (request, response) => {
    const authority = request.headers.host ?? '';
    const hostName = hostNameOf(authority);
    const port = gatewayServerPort(mesh);
    if (port === undefined || hostName === undefined || mesh.outbound.resolveHost(hostName) === undefined) {
      return refuse(response, 404, `no VirtualService bound to this gateway serves host "${authority}"\n`);
    }
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
    undiciRequest(`http://${hostName}:${port}${request.url ?? '/'}`, {
      dispatcher,
      method: (request.method ?? 'GET') as 'GET',
      headers: { ...forwardedHeaders(request.headers), host: authority },
      ...(hasBody ? { body: request } : {}),
    }).then(
      (upstream) => {
        response.writeHead(upstream.statusCode, forwardedHeaders(upstream.headers));
        upstream.body.pipe(response);
        upstream.body.once('error', () => response.destroy());
      },
      (error: unknown) => refuse(response, 502, `gateway: upstream failed: ${String(error)}\n`),
    );
  };
}

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const forwarded: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    forwarded[name] = value;
  }
  return forwarded;
}

/** `127.0.0.1:8080` → `127.0.0.1`; undefined for an empty or malformed Host. */
function hostNameOf(authority: string): string | undefined {
  try {
    const name = new URL(`http://${authority}`).hostname;
    return name === '' ? undefined : name;
  } catch {
    return undefined;
  }
}

function refuse(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent) return void response.destroy();
  response.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
