/**
 * A gateway under test: real upstream HTTP servers on 127.0.0.1 (registered as mesh workloads),
 * a mesh for the gateway workload (labels `istio: ingressgateway`) fed YAML in-process, the
 * gateway on mapped ports, and clients that speak plaintext or TLS (SNI, CA, client certificate)
 * to it. `close()` ends all.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';
import { createMesh, type Mesh, type RegisteredWorkload } from '@weft/core';
import { Agent, request } from 'undici';
import {
  createIngressGateway,
  type GatewayLogEntry,
  type IngressGateway,
  type IngressGatewayOptions,
} from '../../src/index.ts';

export interface Upstream {
  readonly name: string;
  readonly port: number;
  /** How many requests it has answered. */
  readonly served: () => number;
  /** How many `/slow` requests it holds open. */
  readonly holding: () => number;
  close(): Promise<void>;
}

/**
 * An upstream answering `<name> <path> host=<Host> proto=<x-forwarded-proto>`; requests to
 * `/slow` stay open until `releaseSlow()` is called.
 */
export async function startUpstream(name: string): Promise<Upstream & { releaseSlow(): void }> {
  let served = 0;
  const held: ServerResponse[] = [];
  let released = false;
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    served += 1;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${name} ${req.url} host=${req.headers.host} proto=${String(req.headers['x-forwarded-proto'])}`);
  };
  const server: Server = createServer((req, res) => {
    if (req.url === '/slow' && !released) held.push(res);
    else answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    served: () => served,
    holding: () => held.length,
    releaseSlow() {
      released = true;
      for (const res of held.splice(0)) {
        served += 1;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${name} /slow released`);
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A registry entry for `service` in `default`, port 9080 served by the upstream. */
export function workloadOf(service: string, upstream: Upstream): RegisteredWorkload {
  return {
    name: `${service}-v1`,
    namespace: 'default',
    service,
    serviceAccount: service,
    labels: { app: service, version: 'v1' },
    address: '127.0.0.1',
    ports: { 9080: upstream.port },
  };
}

export interface GatewayScene {
  readonly mesh: Mesh;
  readonly gateway: IngressGateway;
  readonly logs: GatewayLogEntry[];
  /** The port bound for a declared one. */
  port(declared: number): number;
  close(): Promise<void>;
}

export async function startGatewayScene(
  yaml: string,
  workloads: readonly RegisteredWorkload[],
  options: IngressGatewayOptions = {},
): Promise<GatewayScene> {
  const mesh = createMesh({
    workload: {
      name: 'istio-ingressgateway',
      namespace: 'istio-system',
      serviceAccount: 'istio-ingressgateway-service-account',
      labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
    },
    config: { yaml },
    workloads,
  });
  const logs: GatewayLogEntry[] = [];
  const gateway = await createIngressGateway(mesh, {
    host: '127.0.0.1',
    certificateCheckIntervalMs: 0,
    drainTimeoutMs: 5_000,
    log: (entry) => logs.push(entry),
    ...options,
  });
  return {
    mesh,
    gateway,
    logs,
    port(declared) {
      const bound = gateway.ports.get(declared);
      if (bound === undefined)
        throw new Error(`port ${declared} is not bound: ${JSON.stringify(gateway.status())}`);
      return bound;
    },
    async close() {
      await gateway.close();
      mesh.close();
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface TlsClientOptions {
  readonly servername?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** GET `path` on 127.0.0.1:`port` with `host` as Host; over TLS when `tls` is given. */
export async function get(port: number, host: string, path: string, tls?: TlsClientOptions): Promise<Answer> {
  const dispatcher = new Agent({
    connect: tls === undefined ? {} : { ...tls, rejectUnauthorized: true },
    pipelining: 0,
  });
  try {
    const scheme = tls === undefined ? 'http' : 'https';
    const response = await request(`${scheme}://127.0.0.1:${port}${path}`, {
      dispatcher,
      headers: { host },
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    return { status: response.statusCode, body: await response.body.text(), headers: response.headers };
  } finally {
    await dispatcher.close();
  }
}

/**
 * GET over TLS with an SNI that differs from the Host header (undici would send the Host as SNI):
 * node:https with an explicit servername.
 */
export function getWithSni(
  port: number,
  servername: string,
  host: string,
  path: string,
  ca: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(
      { host: '127.0.0.1', port, path, servername, ca, headers: { host }, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
        );
      },
    );
    outgoing.once('error', reject);
    outgoing.end();
  });
}

/** The certificate the gateway presents on `port` for `servername` (verified against `ca`). */
export function servedCertificate(port: number, servername: string, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: true }, () => {
      const certificate = socket.getPeerCertificate();
      socket.end();
      resolve(certificate);
    });
    socket.once('error', reject);
  });
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes (then the last error is thrown). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
