/**
 * For the inbound-*.test.ts files: meshes for receiving workloads, Weft servers on 127.0.0.1
 * port 0, and callers that report what they got — a response, or a refused connection — whether
 * they speak plaintext or mTLS with an SVID. Everything started is closed by `close()`.
 */
import type { RequestListener } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import {
  type CreateMeshOptions,
  clientTlsOptions,
  createMesh,
  type IdentityMaterial,
  type Mesh,
  type PeerPolicy,
  type RegisteredWorkload,
  seededRandom,
} from '@weft/core';
import { Agent, request } from 'undici';
import { createMeshServer, type MeshServer, type MeshServerOptions } from '../../src/index.ts';

/** What a caller got: a response, or no response at all (the connection was refused or reset). */
export type Outcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly body: string;
      readonly headers: Record<string, string | string[] | undefined>;
    }
  | { readonly kind: 'refused'; readonly error: Error & { code?: string } };

export interface Caller {
  get(port: number, path?: string, headers?: Record<string, string>): Promise<Outcome>;
  send(
    port: number,
    options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
  ): Promise<Outcome>;
}

export interface ReceiverOptions extends Omit<CreateMeshOptions, 'workload' | 'config' | 'random'> {
  readonly namespace?: string;
  readonly serviceAccount?: string;
  readonly labels?: Record<string, string>;
  readonly yaml?: string;
}

export interface InboundHarness {
  /** A mesh for workload `<service>-v1` of `service` (service account = service unless given). */
  mesh(service: string, options?: ReceiverOptions): Mesh;
  /** A MeshServer for `handler`, listening on 127.0.0.1 port 0. */
  serve(
    mesh: Mesh,
    handler: RequestListener,
    options?: MeshServerOptions,
  ): Promise<{ server: MeshServer; port: number }>;
  /** Any net.Server (express's, fastify's …) to close at the end, listening on 127.0.0.1 port 0. */
  listen(server: Server): Promise<number>;
  /** A plaintext caller (its own connection pool). */
  plain(): Caller;
  /** An mTLS caller presenting `material`, verifying the server against its bundle. */
  mtls(material: IdentityMaterial, policy?: PeerPolicy): Caller;
  onClose(cleanup: () => Promise<unknown> | unknown): void;
  close(): Promise<void>;
}

export function createInboundHarness(): InboundHarness {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const caller = (agent: Agent, scheme: 'http' | 'https'): Caller => {
    cleanups.push(() => agent.destroy());
    const send: Caller['send'] = async (port, options) => {
      try {
        const response = await request(`${scheme}://127.0.0.1:${port}${options.path ?? '/'}`, {
          dispatcher: agent,
          method: (options.method ?? 'GET') as 'GET',
          ...(options.headers === undefined ? {} : { headers: options.headers }),
          ...(options.body === undefined ? {} : { body: options.body }),
        });
        const body = await response.body.text();
        return { kind: 'response', status: response.statusCode, body, headers: response.headers };
      } catch (error) {
        return { kind: 'refused', error: error as Error };
      }
    };
    return {
      get: (port, path = '/', headers) => send(port, { path, ...(headers === undefined ? {} : { headers }) }),
      send,
    };
  };
  const harness: InboundHarness = {
    mesh(service, options = {}) {
      const { namespace = 'default', serviceAccount = service, labels, yaml, ...rest } = options;
      const mesh = createMesh({
        workload: {
          name: `${service}-v1`,
          namespace,
          serviceAccount,
          service,
          labels: { app: service, version: 'v1', ...labels },
          address: '127.0.0.1',
        },
        ...(yaml === undefined ? {} : { config: { yaml } }),
        random: seededRandom(11),
        ...rest,
      });
      cleanups.push(() => mesh.close());
      return mesh;
    },
    async serve(mesh, handler, options = {}) {
      const server = createMeshServer(mesh, handler, options);
      const port = await harness.listen(server);
      cleanups.push(() => server.closeAllConnections());
      return { server, port };
    },
    async listen(server) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            const closable = server as Server & { closeAllConnections?: () => void };
            closable.closeAllConnections?.();
            server.close(() => resolve());
          }),
      );
      return (server.address() as AddressInfo).port;
    },
    plain: () => caller(new Agent(), 'http'),
    mtls(material, policy = {}) {
      return caller(new Agent({ connect: { ...clientTlsOptions(material, policy) } }), 'https');
    },
    onClose(cleanup) {
      cleanups.push(cleanup);
    },
    async close() {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    },
  };
  return harness;
}

/** A workload registration on 127.0.0.1 serving service port 9080 on `port`. */
export function registered(service: string, port: number, serviceAccount = service): RegisteredWorkload {
  return {
    name: `${service}-v1`,
    namespace: 'default',
    service,
    serviceAccount,
    labels: { app: service, version: 'v1' },
    address: '127.0.0.1',
    ports: { 9080: port },
  };
}

/** A handler that answers 200 with `name` and records what it saw. */
export function answering(
  name: string,
  seen: { url: string; headers: Record<string, unknown> }[] = [],
): RequestListener {
  return (request, response) => {
    seen.push({ url: request.url ?? '', headers: { ...request.headers } });
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(name);
  };
}

/** PeerAuthentication YAML: the mode for a namespace (no selector) or a workload (`app`). */
export function peerAuthentication(
  mode: string,
  options: { namespace?: string; app?: string; portLevel?: Record<number, string>; name?: string } = {},
): string {
  const lines = [
    'apiVersion: security.istio.io/v1',
    'kind: PeerAuthentication',
    'metadata:',
    `  name: ${options.name ?? 'default'}`,
    `  namespace: ${options.namespace ?? 'default'}`,
    'spec:',
  ];
  if (options.app !== undefined) lines.push('  selector:', '    matchLabels:', `      app: ${options.app}`);
  lines.push('  mtls:', `    mode: ${mode}`);
  if (options.portLevel !== undefined) {
    lines.push('  portLevelMtls:');
    for (const [port, portMode] of Object.entries(options.portLevel))
      lines.push(`    ${port}:`, `      mode: ${portMode}`);
  }
  return `${lines.join('\n')}\n`;
}
